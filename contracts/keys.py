"""Force signing keys: Ed25519 JWKs, RFC 7638 thumbprints, key sets and encrypted key files.

A force's public key set keeps every key it ever had, with validity windows and revocation
times, so that history stays verifiable after rotation (architecture decision 6).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

from crossforce.contracts.b64 import b64url_decode, b64url_encode
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.pkcs8 import Protection, encrypt, protection

PASSPHRASE_ENV = "CROSSFORCE_KEY_PASSPHRASE"
ANCHOR = "ANCHOR"
DEFAULT_KEY_LIFETIME = timedelta(days=365)
DEFAULT_ROTATION_OVERLAP = timedelta(days=7)


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required members in canonical order."""
    required = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    return b64url_encode(hashlib.sha256(canonical_json(required)).digest())


def public_key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ContractError(ReasonCode.KEY_FILE_INVALID, "only OKP Ed25519 keys are accepted")
    return Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))


class RevocationReason(StrEnum):
    """Why a key was revoked, which decides what it signed before then is still worth.

    - `compromise`: someone else may hold the key. Nothing it signed after the hub last
      accepted a message from it is trusted, even if dated before the revocation.
    - `retirement`: the key is simply out of use. What it signed before `revoked_at` stands.
    """

    COMPROMISE = "compromise"
    RETIREMENT = "retirement"


class PublicKeyRecord(BaseModel):
    """One public key of a force, with its life."""

    model_config = ConfigDict(extra="forbid")

    kid: str
    kty: str = "OKP"
    crv: str = "Ed25519"
    x: str
    alg: str = "Ed25519"
    use: str = "sig"
    nbf: datetime
    exp: datetime
    revoked_at: datetime | None = None
    revocation_reason: RevocationReason | None = None

    @field_validator("nbf", "exp", "revoked_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A naive time cannot be compared with the envelope's: refuse it where it is written.
        if value is not None and value.tzinfo is None:
            raise ValueError("key times must carry a UTC offset")
        return value

    @property
    def compromised(self) -> bool:
        """Revoked for compromise (a revocation without a reason is taken as one)."""
        return self.revoked_at is not None and self.revocation_reason != RevocationReason.RETIREMENT

    def jwk(self) -> dict[str, str]:
        return {"kty": self.kty, "crv": self.crv, "x": self.x}

    def public_key(self) -> Ed25519PublicKey:
        return public_key_from_jwk(self.jwk())

    def check_usable_at(self, when: datetime) -> None:
        """Valid at `when`: inside [nbf, exp) and not revoked at or before `when`."""
        if self.revoked_at is not None and when >= self.revoked_at:
            raise ContractError(
                ReasonCode.REVOKED_KEY, f"key {self.kid} was revoked at {self.revoked_at}"
            )
        if when < self.nbf:
            raise ContractError(
                ReasonCode.KEY_NOT_YET_VALID,
                f"key {self.kid} is valid from {self.nbf}, not yet at {when}",
            )
        if when >= self.exp:
            raise ContractError(
                ReasonCode.EXPIRED_KEY,
                f"key {self.kid} expired at {self.exp}, before {when}",
            )


class ForceKeySet(BaseModel):
    """A force's public key set, as published in `CODE.jwk` and in the trust store."""

    model_config = ConfigDict(extra="forbid")

    force: str
    keys: list[PublicKeyRecord] = Field(default_factory=list)

    def find(self, kid: str) -> PublicKeyRecord | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def current(self, when: datetime) -> PublicKeyRecord | None:
        """The newest key usable at `when`."""
        usable = [
            k
            for k in self.keys
            if k.nbf <= when < k.exp and (k.revoked_at is None or when < k.revoked_at)
        ]
        return max(usable, key=lambda k: k.nbf, default=None)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2) + "\n"


@runtime_checkable
class Signer(Protocol):
    """Whatever signs for a force: a key file decrypted in memory (`SigningKey`) or a key
    that never leaves a hardware module (`crossforce.adapters.hsm.pkcs11.Pkcs11Signer`). The hub,
    the force client and the ledger take any of them."""

    @property
    def force(self) -> str: ...

    @property
    def kid(self) -> str:
        """RFC 7638 thumbprint of the public key."""
        ...

    @property
    def jwk(self) -> dict[str, str]:
        """The public key as an OKP JWK."""
        ...

    def sign(self, data: bytes) -> bytes:
        """A raw Ed25519 signature of `data`."""
        ...


class SigningKey:
    """A force's private Ed25519 key, decrypted in memory only."""

    def __init__(self, force: str, private_key: Ed25519PrivateKey) -> None:
        self.force = force
        self._private_key = private_key
        self.jwk = public_jwk(private_key.public_key())
        self.kid = jwk_thumbprint(self.jwk)

    @classmethod
    def generate(cls, force: str) -> SigningKey:
        return cls(force, Ed25519PrivateKey.generate())

    def sign(self, data: bytes) -> bytes:
        return self._private_key.sign(data)

    def public_record(self, nbf: datetime, exp: datetime) -> PublicKeyRecord:
        return public_record(self, nbf, exp)

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey(force={self.force!r}, kid={self.kid!r})"

    def to_encrypted_file(self, path: Path, passphrase: str) -> None:
        """Write the key encrypted with the passphrase at mode 0600: PKCS#8 under scrypt at
        OWASP's cost and AES-256 (see crossforce.contracts.pkcs8)."""
        if not passphrase:
            raise ContractError(ReasonCode.BAD_PASSPHRASE, "an empty passphrase is not allowed")
        pem = encrypt(self._private_key, passphrase.encode())
        body = {"force": self.force, "kid": self.kid, "encrypted_pkcs8": pem.decode("ascii")}
        write_private_file(path, json.dumps(body, indent=2) + "\n")

    @classmethod
    def from_encrypted_file(cls, path: Path, passphrase: str) -> SigningKey:
        force, pem = _read_key_file(path)
        try:
            key = serialization.load_pem_private_key(pem, passphrase.encode())
        except (ValueError, TypeError):
            raise ContractError(
                ReasonCode.BAD_PASSPHRASE, f"cannot decrypt {path}: wrong passphrase"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ContractError(ReasonCode.KEY_FILE_INVALID, f"{path} is not an Ed25519 key")
        return cls(force, key)


def public_record(signer: Signer, nbf: datetime, exp: datetime) -> PublicKeyRecord:
    """The public entry for any signer's key, valid from `nbf` until `exp`."""
    return PublicKeyRecord(kid=signer.kid, x=signer.jwk["x"], nbf=nbf, exp=exp)


def _read_key_file(path: Path) -> tuple[str, bytes]:
    try:
        body = json.loads(Path(path).read_text())
        return str(body["force"]), body["encrypted_pkcs8"].encode("ascii")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContractError(
            ReasonCode.KEY_FILE_INVALID, f"{path} is not a Crossforce key file ({exc})"
        ) from None


def key_file_protection(path: Path) -> Protection:
    """How a key file's private key is protected; needs no passphrase."""
    _, pem = _read_key_file(path)
    try:
        return protection(pem)
    except ValueError as exc:
        raise ContractError(
            ReasonCode.KEY_FILE_INVALID, f"{path} holds no encrypted PKCS#8 key ({exc})"
        ) from None


def rewrap_key_file(path: Path, passphrase: str) -> Path | None:
    """Re-encrypt a key file whose key derivation is weaker than OWASP's, in place, after
    copying it to a backup beside it (0600). Returns the backup, or None if the file was
    strong already. The key, its kid and the passphrase stay as they were."""
    path = Path(path)
    if key_file_protection(path).strong:
        return None
    key = SigningKey.from_encrypted_file(path, passphrase)  # proves the passphrase first
    backup = _free_backup_name(path)
    write_private_file(backup, path.read_text())
    key.to_encrypted_file(path, passphrase)
    if SigningKey.from_encrypted_file(path, passphrase).kid != key.kid:  # pragma: no cover
        raise ContractError(ReasonCode.KEY_FILE_INVALID, f"rewrapping {path} failed")
    return backup


def _free_backup_name(path: Path) -> Path:
    candidate = path.with_name(path.name + ".bak")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak{number}")
        number += 1
    return candidate


def verify_raw(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def write_private_file(path: Path, text: str) -> None:
    """Create or replace a file readable by its owner only (0600 from the first byte)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def utcnow() -> datetime:
    return datetime.now(UTC)

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
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.b64 import b64url_decode, b64url_encode
from contracts.canonical import canonical_json
from contracts.errors import ContractError, ReasonCode

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
        return PublicKeyRecord(kid=self.kid, x=self.jwk["x"], nbf=nbf, exp=exp)

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey(force={self.force!r}, kid={self.kid!r})"

    def to_encrypted_file(self, path: Path, passphrase: str) -> None:
        """Write the key encrypted with the passphrase (PKCS#8, scrypt/AES) at mode 0600."""
        if not passphrase:
            raise ContractError(ReasonCode.BAD_PASSPHRASE, "an empty passphrase is not allowed")
        pem = self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
        body = {"force": self.force, "kid": self.kid, "encrypted_pkcs8": pem.decode("ascii")}
        write_private_file(path, json.dumps(body, indent=2) + "\n")

    @classmethod
    def from_encrypted_file(cls, path: Path, passphrase: str) -> SigningKey:
        try:
            body = json.loads(Path(path).read_text())
            pem = body["encrypted_pkcs8"].encode("ascii")
            force = body["force"]
        except (OSError, ValueError, KeyError) as exc:
            raise ContractError(
                ReasonCode.KEY_FILE_INVALID, f"{path} is not a Crossforce key file ({exc})"
            ) from None
        try:
            key = serialization.load_pem_private_key(pem, passphrase.encode())
        except (ValueError, TypeError):
            raise ContractError(
                ReasonCode.BAD_PASSPHRASE, f"cannot decrypt {path}: wrong passphrase"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ContractError(ReasonCode.KEY_FILE_INVALID, f"{path} is not an Ed25519 key")
        return cls(force, key)


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

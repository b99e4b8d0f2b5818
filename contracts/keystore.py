"""A directory of force keys: `CODE.key` (encrypted private key) and `CODE.jwk` (public set).

Rotation keeps the old public key with a shortened life (the overlap window) and archives
the old private key; revocation stamps a time. Public keys are never deleted, so envelopes
signed in the past still verify (architecture decision 6).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import (
    ANCHOR,
    DEFAULT_KEY_LIFETIME,
    DEFAULT_ROTATION_OVERLAP,
    ForceKeySet,
    PublicKeyRecord,
    RevocationReason,
    Signer,
    SigningKey,
    public_record,
    utcnow,
)
from crossforce.contracts.trust import TrustStore


class KeyDirectory:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def private_path(self, force: str) -> Path:
        return self.root / f"{_file_stem(force)}.key"

    def public_path(self, force: str) -> Path:
        return self.root / f"{_file_stem(force)}.jwk"

    def create(
        self,
        force: str,
        passphrase: str,
        *,
        now: datetime | None = None,
        lifetime: timedelta = DEFAULT_KEY_LIFETIME,
    ) -> SigningKey:
        """A first key for `force`; refuses to overwrite an existing key."""
        if self.private_path(force).exists():
            raise ContractError(
                ReasonCode.KEY_FILE_INVALID,
                f"{self.private_path(force)} exists; use `keys rotate` to replace it",
            )
        now = now or utcnow()
        key = SigningKey.generate(force)
        key.to_encrypted_file(self.private_path(force), passphrase)
        key_set = ForceKeySet(force=force, keys=[key.public_record(now, now + lifetime)])
        self.save_key_set(key_set)
        return key

    def publish(
        self,
        signer: Signer,
        *,
        now: datetime | None = None,
        lifetime: timedelta = DEFAULT_KEY_LIFETIME,
    ) -> ForceKeySet:
        """The public key set of a key held elsewhere (an HSM): CODE.jwk and no CODE.key."""
        if self.public_path(signer.force).exists():
            raise ContractError(
                ReasonCode.KEY_FILE_INVALID, f"{self.public_path(signer.force)} exists"
            )
        now = now or utcnow()
        key_set = ForceKeySet(force=signer.force, keys=[public_record(signer, now, now + lifetime)])
        self.save_key_set(key_set)
        return key_set

    def rotate(
        self,
        force: str,
        passphrase: str,
        *,
        now: datetime | None = None,
        overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
        lifetime: timedelta = DEFAULT_KEY_LIFETIME,
    ) -> SigningKey:
        """A new current key; the old one stays valid for `overlap`, then expires."""
        now = now or utcnow()
        old = self.load_signing_key(force, passphrase)
        key_set = self.load_key_set(force)
        records = []
        for record in key_set.keys:
            if record.kid == old.kid:
                record = record.model_copy(update={"exp": min(record.exp, now + overlap)})
            records.append(record)
        new = SigningKey.generate(force)
        records.append(new.public_record(now, now + lifetime))
        self.private_path(force).rename(self.root / f"{_file_stem(force)}.{old.kid[:12]}.key")
        new.to_encrypted_file(self.private_path(force), passphrase)
        self.save_key_set(ForceKeySet(force=force, keys=records))
        return new

    def revoke(
        self,
        force: str,
        kid: str,
        *,
        at: datetime | None = None,
        reason: RevocationReason = RevocationReason.COMPROMISE,
    ) -> PublicKeyRecord:
        if at is not None and at.tzinfo is None:
            raise ContractError(
                ReasonCode.KEY_FILE_INVALID, "a revocation time must carry a UTC offset"
            )
        key_set = self.load_key_set(force)
        record = key_set.find(kid)
        if record is None:
            raise ContractError(ReasonCode.UNKNOWN_KEY, f"{force} has no key {kid}")
        revoked = record.model_copy(
            update={"revoked_at": at or utcnow(), "revocation_reason": reason}
        )
        key_set.keys = [revoked if k.kid == kid else k for k in key_set.keys]
        self.save_key_set(key_set)
        return revoked

    def load_signing_key(self, force: str, passphrase: str) -> SigningKey:
        return SigningKey.from_encrypted_file(self.private_path(force), passphrase)

    def load_key_set(self, force: str) -> ForceKeySet:
        return load_key_set(self.public_path(force))

    def save_key_set(self, key_set: ForceKeySet) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.public_path(key_set.force).write_text(key_set.to_json())

    def issue_trust_store(self, passphrase: str, key_sets: list[ForceKeySet]) -> TrustStore:
        anchor = self.load_signing_key(ANCHOR, passphrase)
        anchor_set = self.load_key_set(ANCHOR)
        record = anchor_set.find(anchor.kid)
        if record is None:
            raise ContractError(ReasonCode.KEY_FILE_INVALID, "anchor.jwk does not match anchor.key")
        return TrustStore.issue(anchor, record, key_sets)


def load_key_set(path: Path) -> ForceKeySet:
    try:
        return ForceKeySet.model_validate_json(Path(path).read_bytes())
    except (OSError, ValidationError) as exc:
        raise ContractError(
            ReasonCode.KEY_FILE_INVALID, f"{path} is not a public key set ({type(exc).__name__})"
        ) from None


def _file_stem(force: str) -> str:
    # The anchor's files are `anchor.key` / `anchor.jwk`; forces use their code.
    return "anchor" if force == ANCHOR else force

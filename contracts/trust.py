"""The trust store: every force's public key set, signed by the trust-anchor key.

A store whose signature fails is refused outright. Verifiers should pin the anchor's
kid (`pinned_anchor_kid`); otherwise the embedded anchor key is used (see docs/decisions).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.jws import read_header, sign_detached, signing_input
from crossforce.contracts.keys import (
    ANCHOR,
    ForceKeySet,
    PublicKeyRecord,
    Signer,
    utcnow,
    verify_raw,
)


class TrustStore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    issued_at: datetime
    anchor: PublicKeyRecord
    forces: dict[str, ForceKeySet] = Field(default_factory=dict)
    signature: str | None = None

    def key_set(self, force: str) -> ForceKeySet | None:
        return self.forces.get(force)

    def _signed_bytes(self) -> bytes:
        return canonical_json(
            self.model_dump(mode="json", exclude={"signature"}, exclude_none=True)
        )

    @classmethod
    def issue(
        cls,
        anchor: Signer,
        anchor_record: PublicKeyRecord,
        key_sets: list[ForceKeySet],
    ) -> TrustStore:
        if anchor.force != ANCHOR:
            raise ContractError(
                ReasonCode.KEY_FILE_INVALID, "the store must be signed by an anchor key"
            )
        store = cls(
            issued_at=utcnow(),
            anchor=anchor_record,
            forces={key_set.force: key_set for key_set in key_sets},
        )
        return store.model_copy(update={"signature": sign_detached(store._signed_bytes(), anchor)})

    def verify(self, pinned_anchor_kid: str | None = None) -> None:
        """Refuse the store unless the anchor signature holds (and matches the pin)."""
        if not self.signature:
            raise ContractError(ReasonCode.UNTRUSTED_STORE, "trust store is not signed")
        header = read_header(self.signature)
        if header["kid"] != self.anchor.kid:
            raise ContractError(ReasonCode.UNTRUSTED_STORE, "trust store signed by another key")
        if pinned_anchor_kid is not None and self.anchor.kid != pinned_anchor_kid:
            raise ContractError(
                ReasonCode.UNTRUSTED_STORE,
                f"trust anchor {self.anchor.kid} is not the pinned {pinned_anchor_kid}",
            )
        data, raw_signature = signing_input(self.signature, self._signed_bytes())
        if not verify_raw(self.anchor.public_key(), raw_signature, data):
            raise ContractError(ReasonCode.UNTRUSTED_STORE, "trust store signature does not verify")

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2) + "\n"

    @classmethod
    def load(cls, path: Path, pinned_anchor_kid: str | None = None) -> TrustStore:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ContractError(ReasonCode.FILE_ERROR, f"{path}: {reason}") from None
        try:
            store = cls.model_validate_json(data)
        except ValidationError as exc:
            raise ContractError(
                ReasonCode.UNTRUSTED_STORE, f"{path} is not a trust store ({type(exc).__name__})"
            ) from None
        store.verify(pinned_anchor_kid)
        return store

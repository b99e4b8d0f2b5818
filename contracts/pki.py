"""An in-memory key infrastructure for demos and tests: one key per force, one signed store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from crossforce.contracts.keys import ANCHOR, ForceKeySet, Signer, SigningKey, public_record, utcnow
from crossforce.contracts.trust import TrustStore


class EphemeralPki:
    """Fresh keys that never touch disk; `trust_store` is signed by a fresh anchor."""

    def __init__(self, forces: Iterable[str], *, now: datetime | None = None) -> None:
        self.now = now or utcnow()
        self.not_before = self.now - timedelta(days=1)
        self.not_after = self.now + timedelta(days=365)
        self.anchor = SigningKey.generate(ANCHOR)
        self.keys: dict[str, SigningKey] = {}
        self.key_sets: dict[str, ForceKeySet] = {}
        for force in forces:
            self.add(force)

    def add(self, force: str) -> SigningKey:
        key = SigningKey.generate(force)
        self.keys[force] = key
        self.key_sets[force] = ForceKeySet(
            force=force, keys=[key.public_record(self.not_before, self.not_after)]
        )
        return key

    def adopt(self, signer: Signer) -> None:
        """Trust a key held elsewhere (an HSM) for its force, in place of a generated one."""
        self.keys.pop(signer.force, None)
        self.key_sets[signer.force] = ForceKeySet(
            force=signer.force, keys=[public_record(signer, self.not_before, self.not_after)]
        )

    def key(self, force: str) -> SigningKey:
        return self.keys[force]

    def trust_store(self) -> TrustStore:
        anchor_record = self.anchor.public_record(self.not_before, self.not_after)
        return TrustStore.issue(self.anchor, anchor_record, list(self.key_sets.values()))

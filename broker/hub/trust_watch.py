"""Reloading the trust store while the hub runs, so a revocation takes effect at once.

The hub polls the file it was started with (and checks at once on SIGHUP). A changed file is
used only if its anchor signature verifies and its anchor is the one the hub trusts (the
pinned kid, else the anchor of the store it started with); otherwise the hub keeps the store
it has and says why (docs/decisions/0011-trust-store-reload.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from crossforce.contracts.errors import ContractError
from crossforce.contracts.trust import TrustStore

log = logging.getLogger("crossforce.hub.trust")

DEFAULT_POLL_SECONDS = 2.0


class TrustStoreWatcher:
    def __init__(
        self,
        path: Path,
        current: TrustStore,
        on_change: Callable[[TrustStore], None],
        *,
        pinned_anchor_kid: str | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self.path = path
        self.current = current
        self.on_change = on_change
        # Without a pin, the anchor the hub started with is the only one it will accept.
        self.anchor_kid = pinned_anchor_kid or current.anchor.kid
        self.poll_seconds = poll_seconds
        self._digest = self._read_digest()
        self._wake = asyncio.Event()

    def _read_digest(self) -> bytes | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).digest()
        except OSError:
            return None

    def check_now(self) -> None:
        """Ask for an immediate check (the SIGHUP handler calls this)."""
        self._wake.set()

    def reload_if_changed(self) -> bool:
        """Load the file if its bytes changed; True when a new store took effect."""
        digest = self._read_digest()
        if digest is None or digest == self._digest:
            return False
        self._digest = digest
        try:
            store = TrustStore.load(self.path, pinned_anchor_kid=self.anchor_kid)
        except ContractError as refused:
            log.error(
                "trust store %s not reloaded, keeping the current one: %s %s",
                self.path,
                refused.code.value,
                refused.message,
            )
            return False
        self.current = store
        self.on_change(store)
        revoked = sum(
            1 for key_set in store.forces.values() for key in key_set.keys if key.revoked_at
        )
        log.warning(
            "trust store reloaded from %s: %d forces, %d revoked keys",
            self.path,
            len(store.forces),
            revoked,
        )
        return True

    async def run_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()
            await asyncio.to_thread(self.reload_if_changed)

"""Publishes outbox rows to JetStream, then marks them sent.

Each publish carries its outbox key as Nats-Msg-Id, so a row published twice (a crash
between publish and mark, or two replicas relaying at once) is stored once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from nats.js import JetStreamContext
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from crossforce.broker.service.faults import NATS_FAULTS
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.ports import UnitOfWorkFactory
from crossforce.contracts import headers

log = logging.getLogger("crossforce.hub.outbox")

# A leader election takes a few seconds; past that, the relay takes over.
PUBLISH_RETRY_SECONDS = 8.0
# While behind, the relay runs often, so rows wait about a second longer than the fault.
BEHIND_INTERVAL = 1.0
MARK_INTERVAL = 0.5  # how often published rows are marked sent
UNSENT_BATCH = 1000  # OutboxRepository.unsent's default limit
ACK_TIMEOUT_SECONDS = 5.0  # JetStream answers in milliseconds; longer is a fault


class OutboxPublisher:
    """Publishes committed outbox rows. A row that cannot be published now stays in the
    outbox for `relay_forever`, which publishes everything unsent in commit order; until it
    has caught up, new rows go through it too, so no recipient sees a later message first."""

    def __init__(
        self, js: JetStreamContext, units: UnitOfWorkFactory, clock: Callable[[], datetime]
    ) -> None:
        self.js = js
        self.units = units
        self.clock = clock
        self.behind = False  # unsent rows wait in the outbox: publish in commit order only
        # Rows published but not yet marked sent: marked together, in one statement, by
        # `mark_forever`, rather than in a transaction per batch that would queue for the
        # database's write lock behind every partition's work.
        self.published: set[int] = set()

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Publish now, riding out leader elections and reconnects for a few seconds."""
        if not messages:
            return
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((*NATS_FAULTS, TimeoutError, ConnectionError, OSError)),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            stop=stop_after_delay(PUBLISH_RETRY_SECONDS),
            reraise=True,
        ):
            with attempt:
                await self._publish_all(messages)
        self.published.update(m.row_id for m in messages if m.row_id is not None)

    async def publish_committed(self, messages: Sequence[OutboundMessage]) -> bool:
        """Publish what a committed transaction queued, or leave it to the relay.

        Returns False when the rows wait in the outbox: the caller may still acknowledge its
        inbound message, because the rows are durable and the relay will send them."""
        if not messages:
            return True
        if self.behind:
            return False
        try:
            await self.publish(messages)
        except Exception as exc:
            self.behind = True
            log.warning(
                "publish failed, %d rows left to the outbox relay: %s",
                len(messages),
                type(exc).__name__,
            )
            return False
        return True

    async def _publish_all(self, messages: Sequence[OutboundMessage]) -> None:
        # Pipelined: every row goes out in order, then the acks are gathered, so a fan-out
        # costs one round trip rather than one per row. A partial failure is retried whole;
        # JetStream drops the copies that had landed (same Nats-Msg-Id).
        acks = [
            await self.js.publish_async(
                message.subject,
                message.payload,
                headers={**message.headers, headers.MSG_ID: message.msg_id},
            )
            for message in messages
        ]
        results = await asyncio.wait_for(
            asyncio.gather(*acks, return_exceptions=True), timeout=ACK_TIMEOUT_SECONDS
        )
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            raise failed

    def take_published(self) -> list[int]:
        """Rows published and not yet marked, for the caller's next transaction to mark
        sent; `give_back` them if that transaction does not commit."""
        row_ids = sorted(self.published)
        self.published.clear()
        return row_ids

    def give_back(self, row_ids: list[int]) -> None:
        self.published.update(row_ids)

    async def mark_published(self) -> int:
        """Mark every row published so far as sent, in one statement; returns how many."""
        row_ids = sorted(self.published)
        if not row_ids:
            return 0
        await asyncio.to_thread(self._mark_sent, row_ids)
        self.published.difference_update(row_ids)
        return len(row_ids)

    async def mark_forever(self, interval: float = MARK_INTERVAL) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.mark_published()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the rows stay published; marking waits for the database
                log.warning("marking published rows failed: %s", type(exc).__name__)

    def _mark_sent(self, row_ids: list[int]) -> None:
        with self.units() as uow:
            uow.outbox.mark_sent(row_ids, self.clock())

    def _stale(self, older_than: timedelta) -> list[OutboundMessage]:
        # Only rows older than the cutoff are read: the newest ones, published and waiting
        # to be marked, would be hundreds of rows read for nothing every pass.
        with self.units() as uow:
            unsent = uow.outbox.unsent(created_before=self.clock() - older_than)
        return [m for m in unsent if m.row_id not in self.published]

    async def relay_once(self, older_than: timedelta) -> int:
        """Publish unsent rows in commit order; returns how many went out."""
        await self.mark_published()
        stale = await asyncio.to_thread(self._stale, timedelta(0) if self.behind else older_than)
        await self.publish(stale)
        if self.behind and len(stale) < UNSENT_BATCH:
            self.behind = False  # caught up: direct publishing is in order again
            log.info("outbox relay caught up")
        return len(stale)

    async def relay_forever(
        self, interval: float = 5.0, older_than: timedelta = timedelta(seconds=10)
    ) -> None:
        """Backstop: publish rows a crashed or cancelled handler, or a NATS fault, left unsent."""
        while True:
            await asyncio.sleep(BEHIND_INTERVAL if self.behind else interval)
            try:
                await self.relay_once(older_than)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the relay must outlive a transient fault
                log.warning("outbox relay pass failed: %s", type(exc).__name__)

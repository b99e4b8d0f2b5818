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
from sqlalchemy import Engine
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from broker.service.outbox import OutboundMessage
from broker.service.unit_of_work import SqlUnitOfWork

log = logging.getLogger("crossforce.hub.outbox")


class OutboxPublisher:
    def __init__(self, js: JetStreamContext, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.js = js
        self.engine = engine
        self.clock = clock

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        if not messages:
            return
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((TimeoutError, ConnectionError, OSError)),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_attempt(8),
            reraise=True,
        ):
            with attempt:
                for message in messages:
                    await self.js.publish(
                        message.subject,
                        message.payload,
                        headers={**message.headers, "Nats-Msg-Id": message.msg_id},
                    )
        row_ids = [m.row_id for m in messages if m.row_id is not None]
        await asyncio.to_thread(self._mark_sent, row_ids)

    def _mark_sent(self, row_ids: list[int]) -> None:
        with SqlUnitOfWork(self.engine) as uow:
            uow.mark_sent(row_ids, self.clock())

    def _stale(self, older_than: timedelta) -> list[OutboundMessage]:
        cutoff = self.clock() - older_than
        with SqlUnitOfWork(self.engine) as uow:
            return [m for m in uow.unsent() if m.created_at is None or m.created_at <= cutoff]

    async def relay_forever(
        self, interval: float = 5.0, older_than: timedelta = timedelta(seconds=10)
    ) -> None:
        """Backstop: publish rows a crashed or cancelled handler left unsent."""
        while True:
            await asyncio.sleep(interval)
            try:
                stale = await asyncio.to_thread(self._stale, older_than)
                await self.publish(stale)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the relay must outlive a transient fault
                log.warning("outbox relay pass failed: %s", type(exc).__name__)

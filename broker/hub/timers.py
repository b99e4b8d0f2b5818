"""The hub's side of the deadline timers: the fired-timer consumer and the sweep loop.

A JetStream schedule publishes to `cf.timer.fire.<deadline id>` when it is due; the
`hub_timers` durable hands each fire to one hub replica, which fires the deadline in one
transaction, publishes the result and only then acks. The reconciliation sweep runs beside it
as the backstop for a timer that was lost, fired while no hub was running, or fired a moment
before the hub's clock reached the step (architecture decision 8).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub

from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.provisioning import MAX_DELIVER, timer_consumer
from crossforce.broker.escalation.service import SWEEP_BATCH, EscalationService
from crossforce.broker.hub.publisher import OutboxPublisher
from crossforce.broker.service.deadlines import deadline_id_from_subject
from crossforce.broker.service.faults import retry_step
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.contracts.envelope import HUB_FORCE_CODE

log = logging.getLogger("crossforce.escalation")

DEFAULT_SWEEP_INTERVAL = 30.0
MAX_BATCHES_PER_PASS = 20


def _fire_with_retry(service: EscalationService, deadline_id: str | None) -> list[OutboundMessage]:
    return retry_step(lambda: service.fire_due(deadline_id=deadline_id))


def register_timer_subscriber(
    broker: NatsBroker,
    service: EscalationService,
    publisher_factory: Callable[[], OutboxPublisher],
) -> Callable[..., Awaitable[None]]:
    """Add the `hub_timers` pull subscriber to `broker` (before it starts); returns the handler."""

    async def decode_raw(message: Any) -> bytes:
        # The deadline id is read from the subject; the body is never interpreted.
        return bytes(message.body)

    async def handle_timer(body: bytes, message: NatsMessage) -> None:
        raw = message.raw_message
        try:
            deadline_id = deadline_id_from_subject(raw.subject)
        except ValueError:
            log.error("ignoring a message on %s: not a deadline timer", raw.subject)
            await message.ack()
            return
        delivered = raw.metadata.num_delivered
        try:
            outbound = await asyncio.to_thread(_fire_with_retry, service, deadline_id)
            await publisher_factory().publish_committed(outbound)
        except Exception as exc:
            if delivered >= MAX_DELIVER:
                # The row still has its next_fire_at, so the sweep fires it; nothing is lost.
                log.error("timer for %s left to the sweep: %s", deadline_id, type(exc).__name__)
                await message.ack()
                return
            log.warning("timer for %s will retry: %s", deadline_id, type(exc).__name__)
            await message.nack(delay=min(2.0 * delivered, 30.0))
            return
        await message.ack()

    broker.subscriber(
        "cf.timer.fire.>",
        stream=JStream(subjects.TIMER_STREAM, declare=False),
        durable="hub_timers",
        config=timer_consumer(),
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        inbox_prefix=subjects.pull_inbox_prefix(HUB_FORCE_CODE),
        ack_policy=AckPolicy.MANUAL,
        decoder=decode_raw,
        title="hub-deadline-timers",
        description="Deadline timers fired by JetStream schedules",
    )(handle_timer)
    return handle_timer


async def sweep_once(service: EscalationService, publisher: OutboxPublisher) -> int:
    """Fire every deadline whose next step is due; returns how many messages went out."""
    sent = 0
    # Bounded, so rows that stay due (a fault on every attempt) cannot spin one pass forever.
    for _ in range(MAX_BATCHES_PER_PASS):
        due = await asyncio.to_thread(service.due_ids, service.clock())
        for deadline_id in due:
            outbound = await asyncio.to_thread(_fire_with_retry, service, deadline_id)
            await publisher.publish_committed(outbound)
            sent += len(outbound)
        if len(due) < SWEEP_BATCH:
            break
    return sent


async def sweep_forever(
    service: EscalationService,
    publisher: OutboxPublisher,
    interval: float = DEFAULT_SWEEP_INTERVAL,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """The reconciliation loop: one pass at once (catching up after a restart), then one
    every `interval` seconds. A failed pass is logged and retried on the next one."""
    while True:
        try:
            sent = await sweep_once(service, publisher)
            if sent:
                log.info("sweep sent %d escalation messages", sent)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the sweep must outlive a transient fault
            log.warning("deadline sweep failed: %s", type(exc).__name__)
        await sleep(interval)

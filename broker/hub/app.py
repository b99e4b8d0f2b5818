"""The hub as a FastStream application: one pull subscriber per inbound partition.

Acknowledgement is always explicit (AckPolicy.MANUAL): the hub acks only after the
transaction that applied or refused the message has committed (its outbox then holds what
must be published), and naks with a short delay on a database fault. A message is never
abandoned: every input is applied or refused with a receipt and a dead letter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage, NatsNKey, NatsSecurity, PullSub

from crossforce.adapters import tracing
from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.provisioning import hub_partition_consumer
from crossforce.adapters.nats.tls import client_ssl_context
from crossforce.broker.bootstrap import HubCore
from crossforce.broker.hub.publisher import OutboxPublisher
from crossforce.broker.hub.timers import register_timer_subscriber, sweep_forever
from crossforce.broker.service.case_reads import AccessReportRelay
from crossforce.broker.service.faults import redelivery_delay, retry_step
from crossforce.broker.service.pipeline import HubPipeline, Inbound, PipelineResult
from crossforce.contracts.envelope import HUB_FORCE_CODE

log = logging.getLogger("crossforce.hub")

# How often a hub looks for queued reads to report: a PSD hears of a read within about this.
ACCESS_REPORT_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class HubConnection:
    nats_url: str
    credentials: Path | None = None  # nkey seed file; None on an open embedded server
    partitions: int = subjects.DEFAULT_PARTITIONS
    ca: Path | None = None  # CA certificate(s) the servers' TLS certificates are checked with


ResultListener = Callable[[PipelineResult], Awaitable[None] | None]


def build_hub(
    connection: HubConnection,
    core: HubCore,
    *,
    on_result: ResultListener | None = None,
    sweep_interval: float = 30.0,
    access_interval: float = ACCESS_REPORT_INTERVAL,
) -> tuple[FastStream, NatsBroker]:
    auth: dict[str, Any] = {}
    tls = client_ssl_context(connection.ca) if connection.ca is not None else None
    if connection.credentials is not None:
        auth = {"security": NatsNKey.from_file(connection.credentials, ssl_context=tls)}
    elif tls is not None:
        auth = {"security": NatsSecurity(ssl_context=tls)}
    broker = NatsBroker(
        connection.nats_url.split(","),  # a cluster is given as comma-separated URLs
        inbox_prefix=subjects.inbox_prefix(HUB_FORCE_CODE).encode(),
        graceful_timeout=30.0,  # shutdown drains in-flight messages for up to this long
        # Per-message access logs go to DEBUG: they name case references, and the hub's own
        # log lines already say what matters.
        logger=logging.getLogger("crossforce.hub.faststream"),
        log_level=logging.DEBUG,
        max_reconnect_attempts=-1,
        **auth,
    )
    state: dict[str, Any] = {}

    def publisher() -> OutboxPublisher:
        if "publisher" not in state:
            js = broker.config.connection_state.stream
            state["publisher"] = OutboxPublisher(js, core.units, core.clock)
        return state["publisher"]  # type: ignore[no-any-return]

    stream = JStream(subjects.INBOUND_STREAM, declare=False)

    async def decode_raw(message: Any) -> bytes:
        # Never let a sender's content-type choose a decoder: the pipeline reads raw bytes.
        return bytes(message.body)

    for partition in range(connection.partitions):
        broker.subscriber(
            subjects.inbound_partition_filter(partition),
            stream=stream,
            durable=f"hub_p{partition}",
            config=hub_partition_consumer(partition),
            pull_sub=PullSub(batch_size=1, timeout=1.0),
            inbox_prefix=subjects.pull_inbox_prefix(HUB_FORCE_CODE),
            ack_policy=AckPolicy.MANUAL,
            decoder=decode_raw,
            title=f"hub-inbound-p{partition}",
            description="Signed envelopes from forces, one case partition",
        )(_make_handler(core.pipeline, publisher, on_result))

    escalation = core.escalation
    register_timer_subscriber(broker, escalation, publisher)
    app = FastStream(broker)

    @app.after_startup
    async def _start_background() -> None:
        state["relay"] = asyncio.create_task(publisher().relay_forever())
        # The sweep is the timers' backstop; its first pass catches up after downtime.
        state["sweep"] = asyncio.create_task(
            sweep_forever(escalation, publisher(), interval=sweep_interval)
        )
        # Reads of cases with a police employee among the parties, queued by `crossforce
        # case`, the web app and the ledger: each becomes a signed report to the PSD.
        state["access"] = asyncio.create_task(
            relay_access_reports(core.access_reports, publisher(), interval=access_interval)
        )

    @app.on_shutdown
    async def _stop_background() -> None:
        for name in ("relay", "sweep", "access"):
            task = state.get(name)
            if task is not None:
                task.cancel()

    return app, broker


def _make_handler(
    pipeline: HubPipeline,
    publisher: Callable[[], OutboxPublisher],
    on_result: ResultListener | None,
) -> Callable[..., Awaitable[None]]:
    async def handle_inbound(body: bytes, message: NatsMessage) -> None:
        raw = message.raw_message
        metadata = raw.metadata
        inbound = Inbound(
            data=raw.data,
            subject=raw.subject,
            stream_sequence=metadata.sequence.stream,
            accepted_at=metadata.timestamp,
            nats_msg_id=(raw.headers or {}).get("Nats-Msg-Id"),
        )
        started = time.perf_counter()
        try:
            # Every input is applied or refused here; only a database fault escapes. With
            # tracing on, the work is a span continuing the sender's trace.
            with tracing.span(
                "crossforce.hub.process",
                tracing.received_context(raw.headers),
                partition_subject=raw.subject.split(".", 3)[2] if raw.subject else "",
            ):
                result = await asyncio.to_thread(retry_step, lambda: pipeline.process(inbound))
        except Exception as exc:
            delay = redelivery_delay(metadata.num_delivered)
            log.warning(
                "infrastructure fault on inbound %s (attempt %d), again in %gs: %s",
                inbound.stream_sequence,
                metadata.num_delivered,
                delay,
                type(exc).__name__,
            )
            await message.nack(delay=delay)
            return
        # Committed: the outbox holds what must go out, so the inbound is finished even if
        # NATS cannot take the publishes now; the relay sends them in order.
        await publisher().publish_committed(result.outbound)
        await message.ack()
        result.processing_seconds = time.perf_counter() - started
        if on_result is not None:
            outcome = on_result(result)
            if outcome is not None:
                await outcome

    return handle_inbound


async def relay_access_reports(
    relay: AccessReportRelay,
    publisher: OutboxPublisher,
    interval: float = ACCESS_REPORT_INTERVAL,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Sign queued reads to the PSDs owed them, then publish; a publish that fails stays in
    the outbox for its relay. A failed pass is logged and tried again on the next one."""
    while True:
        try:
            outbound = await asyncio.to_thread(relay.relay_pending)
            await publisher.publish_committed(outbound)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the relay must outlive a transient fault
            log.warning("access report relay failed: %s", type(exc).__name__)
        await sleep(interval)

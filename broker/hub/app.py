"""The hub as a FastStream application: one pull subscriber per inbound partition.

Acknowledgement is always explicit (AckPolicy.MANUAL): the hub acks only after the
transaction has committed and its outbox is published, naks with a delay on a transient
fault, and dead-letters a message on its last permitted delivery, so nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage, NatsNKey, NatsSecurity, PullSub
from sqlalchemy.exc import OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from adapters.nats import subjects
from adapters.nats.provisioning import MAX_DELIVER, hub_partition_consumer
from adapters.nats.tls import client_ssl_context
from broker.escalation.service import EscalationService
from broker.escalation.timers import register_timer_subscriber, sweep_forever
from broker.hub.publisher import OutboxPublisher
from broker.service.pipeline import HubPipeline, Inbound, PipelineResult
from broker.service.unit_of_work import ConcurrentUpdate
from contracts.envelope import HUB_FORCE_CODE

log = logging.getLogger("crossforce.hub")

TRANSIENT = (OperationalError, ConcurrentUpdate, ConnectionError, TimeoutError)


@dataclass(frozen=True, slots=True)
class HubConnection:
    nats_url: str
    credentials: Path | None = None  # nkey seed file; None on an open embedded server
    partitions: int = subjects.DEFAULT_PARTITIONS
    ca: Path | None = None  # CA certificate(s) the servers' TLS certificates are checked with


ResultListener = Callable[[PipelineResult], Awaitable[None] | None]


def build_hub(
    connection: HubConnection,
    pipeline: HubPipeline,
    *,
    on_result: ResultListener | None = None,
    sweep_interval: float = 30.0,
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
            state["publisher"] = OutboxPublisher(js, pipeline.engine, pipeline.clock)
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
        )(_make_handler(pipeline, publisher, on_result))

    escalation = EscalationService(
        pipeline.engine, pipeline.hub_key, pipeline.clock, pipeline.handlers.policy
    )
    register_timer_subscriber(broker, escalation, publisher)
    app = FastStream(broker)

    @app.after_startup
    async def _start_background() -> None:
        state["relay"] = asyncio.create_task(publisher().relay_forever())
        # The sweep is the timers' backstop; its first pass catches up after downtime.
        state["sweep"] = asyncio.create_task(
            sweep_forever(escalation, publisher(), interval=sweep_interval)
        )

    @app.on_shutdown
    async def _stop_background() -> None:
        for name in ("relay", "sweep"):
            task = state.get(name)
            if task is not None:
                task.cancel()

    return app, broker


def _make_handler(
    pipeline: HubPipeline,
    publisher: Callable[[], OutboxPublisher],
    on_result: ResultListener | None,
) -> Callable[..., Awaitable[None]]:
    def process_with_retry(inbound: Inbound) -> PipelineResult:
        for attempt in Retrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential(multiplier=0.05, max=2),
            stop=stop_after_attempt(6),
            reraise=True,
        ):
            with attempt:
                return pipeline.process(inbound)
        raise AssertionError("unreachable")

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
        try:
            result = await asyncio.to_thread(process_with_retry, inbound)
            await publisher().publish(result.outbound)
        except Exception as exc:
            if metadata.num_delivered >= MAX_DELIVER:
                log.error("giving up on inbound %s: %s", inbound.stream_sequence, exc)
                result = await asyncio.to_thread(pipeline.give_up, inbound, exc)
                await publisher().publish(result.outbound)
                await message.ack()
                return
            log.warning(
                "transient fault on inbound %s, will retry: %s",
                inbound.stream_sequence,
                type(exc).__name__,
            )
            await message.nack(delay=min(2.0 * metadata.num_delivered, 30.0))
            return
        await message.ack()
        if on_result is not None:
            outcome = on_result(result)
            if outcome is not None:
                await outcome

    return handle_inbound

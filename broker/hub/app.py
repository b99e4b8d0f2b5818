"""The hub as a FastStream application: a batch reader per inbound partition, the timer
consumer, the outbox relay, the deadline sweep and the access-report relay.

Acknowledgement is always explicit: the hub acks a batch only after the transaction that
applied or refused its messages has committed (its outbox then holds what must be
published). On a database fault the batch is kept and tried again. A message is never
abandoned: every input is applied or refused with a receipt and a dead letter
(`broker/hub/partitions.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker, NatsNKey, NatsSecurity

from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.tls import client_ssl_context
from crossforce.broker.bootstrap import HubCore
from crossforce.broker.hub.partitions import PartitionBalancer, PartitionReader, ResultListener
from crossforce.broker.hub.publisher import OutboxPublisher
from crossforce.broker.hub.timers import register_timer_subscriber, sweep_forever
from crossforce.broker.service.case_reads import AccessReportRelay
from crossforce.contracts.envelope import HUB_FORCE_CODE

log = logging.getLogger("crossforce.hub")


@dataclass(frozen=True, slots=True)
class HubConnection:
    nats_url: str
    credentials: Path | None = None  # nkey seed file; None on an open embedded server
    partitions: int = subjects.DEFAULT_PARTITIONS
    ca: Path | None = None  # CA certificate(s) the servers' TLS certificates are checked with


# How long shutdown waits for the readers to finish the batches in hand.
READER_STOP_SECONDS = 10.0
# How often a hub looks for queued reads to report: a PSD hears of a read within about this.
ACCESS_REPORT_INTERVAL = 1.0


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

    escalation = core.escalation
    register_timer_subscriber(broker, escalation, publisher)
    app = FastStream(broker)

    readers: list[PartitionReader] = []

    @app.after_startup
    async def _start_background() -> None:
        client = broker.config.connection_state.connection
        for partition in range(connection.partitions):
            reader = PartitionReader(
                client,
                partition,
                core.pipeline,
                publisher,
                on_result,
                on_loop=core.database_in_process,
            )
            readers.append(reader)
            state[f"partition{partition}"] = asyncio.create_task(reader.run())
        state["balancer"] = PartitionBalancer(client, readers)
        state["balance"] = asyncio.create_task(state["balancer"].run())
        state["relay"] = asyncio.create_task(publisher().relay_forever())
        state["marks"] = asyncio.create_task(publisher().mark_forever())
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
        # Readers finish the batch in hand (applied, published, acked), then stop.
        if "balancer" in state:
            state["balancer"].stop()
            state["balance"].cancel()
        for reader in readers:
            reader.stop()
        pending = [state[f"partition{n}"] for n in range(len(readers))]
        if pending:
            _, late = await asyncio.wait(pending, timeout=READER_STOP_SECONDS)
            for task in late:
                task.cancel()
        readers.clear()
        for name in ("relay", "sweep", "marks", "access"):
            task = state.get(name)
            if task is not None:
                task.cancel()
        if "publisher" in state:
            with contextlib.suppress(Exception):  # unmarked rows are published again, deduped
                await state["publisher"].mark_published()

    return app, broker


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

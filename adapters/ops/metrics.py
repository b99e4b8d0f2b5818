"""What a platform team watches: Prometheus metrics of a running hub.

Counts of messages come from the hub's result listener as they happen. Everything that is
state (the outbox backlog, open and red deadlines, escalations fired, the ledger's size) is
read from the database when Prometheus scrapes, so every replica reports the same truth and
a restart loses nothing. JetStream figures (consumer lag per inbound partition, whether the
streams exist) are refreshed by a background task on the hub's event loop, since the scrape
runs on another thread. No metric carries a case reference, a name or any personal data:
labels are reason codes and partition numbers only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import nats
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select, text

from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.provisioning import hub_partition_consumer
from crossforce.adapters.sql import schema

HUB_STREAMS = (
    subjects.INBOUND_STREAM,
    subjects.DELIVERY_STREAM,
    subjects.CASELOG_STREAM,
    subjects.DEADLETTER_STREAM,
    subjects.TIMER_STREAM,
)
OPEN = "open"


@dataclass
class JetStreamSnapshot:
    """What the last look at JetStream found; `at` is a monotonic time (0: never)."""

    at: float = 0.0
    connected: bool = False
    missing_streams: tuple[str, ...] = HUB_STREAMS
    lag: dict[int, int] = field(default_factory=dict)
    error: str = ""


class HubMetrics:
    """A registry of its own (so several hubs in one process never collide) holding the
    message counters and the collectors that read state at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.engine: Engine | None = None
        self._state: _StateCollector | None = None
        self.jetstream = JetStreamSnapshot()
        self.messages = Counter(
            "crossforce_messages",
            "Inbound messages the hub answered, by outcome and reason code",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self.processing = Histogram(
            "crossforce_processing_seconds",
            "From a hub taking an inbound message to its outcome committed and published",
            ["outcome"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )

    def watch_state(self, engine: Engine, ledger_size: Callable[[], int] | None = None) -> None:
        """Report the state in `engine` (and the ledger's size) from now on: called once the
        broker has opened its database, after the counters were already counting."""
        if self._state is not None:
            self.registry.unregister(self._state)
        self.engine = engine
        self._state = _StateCollector(self, engine, ledger_size)
        self.registry.register(self._state)

    def observe(self, result: Any) -> None:
        """The hub's result listener (`RunningBroker(on_result=...)`)."""
        if getattr(result, "duplicate", False):
            outcome, reason = "duplicate", ""
        elif result.accepted:
            outcome, reason = "accepted", ""
        else:
            outcome, reason = "refused", str(result.reason or "")
        self.messages.labels(outcome=outcome, reason=reason).inc()
        seconds = getattr(result, "processing_seconds", None)
        if seconds is not None:
            self.processing.labels(outcome=outcome).observe(seconds)

    def database_reachable(self) -> bool:
        if self.engine is None:
            return False
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # any failure means "not ready"; the reason is not the probe's
            return False
        return True


class _StateCollector(Collector):
    def __init__(
        self, metrics: HubMetrics, engine: Engine, ledger_size: Callable[[], int] | None
    ) -> None:
        self.metrics = metrics
        self.engine = engine
        self.ledger_size = ledger_size

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        if self.ledger_size is not None:
            with contextlib.suppress(Exception):
                yield _gauge(
                    "crossforce_ledger_entries", "Entries in the ledger", self.ledger_size()
                )
        snapshot = self.metrics.jetstream
        lag = GaugeMetricFamily(
            "crossforce_inbound_consumer_lag",
            "Inbound messages not yet taken by the hub, per case partition",
            labels=["partition"],
        )
        for partition, pending in sorted(snapshot.lag.items()):
            lag.add_metric([str(partition)], pending)
        yield lag
        yield _gauge("crossforce_nats_connected", "1 when JetStream answered", snapshot.connected)

    def _ledger_entries(self) -> int | None:
        if self.ledger_size is None:
            return None
        try:
            return self.ledger_size()
        except Exception:  # an unreachable ledger shows as an absent figure
            return None

    def _database(self) -> Iterable[Metric]:
        deadlines, outbox = schema.deadlines, schema.outbox
        try:
            with self.engine.connect() as connection:
                backlog = connection.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                ).scalar_one()
                open_, red = connection.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(case((deadlines.c.red, 1), else_=0)), 0),
                    ).where(deadlines.c.status == OPEN)
                ).one()
                fired = connection.execute(select(deadlines.c.fired_levels)).scalars()
                escalations = sum(len(levels or ()) for levels in fired)
        except Exception:  # an unreachable database shows as absent figures, and in /readyz
            return
        yield _gauge("crossforce_outbox_backlog", "Outbound messages not yet published", backlog)
        yield _gauge("crossforce_deadlines_open", "Open deadlines", open_)
        yield _gauge("crossforce_deadlines_red", "Open deadlines marked red", red)
        yield _gauge(
            "crossforce_escalations_fired", "Escalation ladder steps fired, all time", escalations
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


async def watch_jetstream(
    metrics: HubMetrics,
    servers: list[str],
    options: dict[str, Any],
    partitions: int,
    *,
    interval: float = 5.0,
) -> None:
    """Keep `metrics.jetstream` current until cancelled, over a connection of its own."""
    connection = None
    try:
        while True:
            try:
                if connection is None or not connection.is_connected:
                    connection = await nats.connect(
                        servers, allow_reconnect=False, connect_timeout=2, **options
                    )
                metrics.jetstream = await _look(connection, partitions)
            except Exception as exc:  # not connected, timed out: reported, never raised
                metrics.jetstream = JetStreamSnapshot(
                    at=time.monotonic(), connected=False, error=type(exc).__name__
                )
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                connection = None
            await asyncio.sleep(interval)
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


async def _look(connection: Any, partitions: int) -> JetStreamSnapshot:
    manager = connection.jsm()
    missing = []
    for stream in HUB_STREAMS:
        try:
            await manager.stream_info(stream)
        except nats.js.errors.NotFoundError:
            missing.append(stream)
    lag: dict[int, int] = {}
    if subjects.INBOUND_STREAM not in missing:
        for partition in range(partitions):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                durable = hub_partition_consumer(partition).durable_name
                info = await manager.consumer_info(subjects.INBOUND_STREAM, durable)
                lag[partition] = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    return JetStreamSnapshot(
        at=time.monotonic(), connected=True, missing_streams=tuple(missing), lag=lag
    )

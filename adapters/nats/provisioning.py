"""Idempotent creation of Crossforce's streams and consumers.

Running it twice changes nothing: each stream and consumer is created when missing and
otherwise left as it is, unless its configuration differs, in which case it is updated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, Final

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    SubjectTransform,
)
from nats.js.errors import NotFoundError

from crossforce.adapters.nats import subjects

DUPLICATE_WINDOW_SECONDS = 2 * 60 * 60.0
# Redelivery: explicit ack always. The hub answers every input (applied, or refused with a
# receipt and a dead letter) and retries only infrastructure faults, naking with its own short
# delays (crossforce.broker.service.faults); so its inbound consumers never give a message up,
# and have no back-off list that could override those delays.
HUB_MAX_DELIVER = -1
# Deadline timers: a timer that keeps failing is left to the sweep, which fires it from its row.
MAX_DELIVER = 8
BACKOFF_SECONDS = [30.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0]
# How long a hub may hold a message before another replica gets it; hubs nak sooner themselves.
ACK_WAIT_SECONDS = 30.0
# Hub partitions: the priority group whose one pinned client reads a partition, how long a
# pin outlives a silent replica, and how many messages one batch may hold.
HUB_PRIORITY_GROUP: Final = "hub"
HUB_PIN_TIMEOUT_SECONDS = 10.0
HUB_BATCH = 64
HUB_ACK_WAIT_SECONDS = 15.0


@dataclass
class PinnedConsumerConfig(ConsumerConfig):
    """A consumer read through a JetStream priority group with a pinned client (nats-server
    2.11+, ADR-42): the server hands its messages to one subscriber at a time, so a batch of
    one partition is applied by one hub replica, in stream order."""

    priority_groups: list[str] | None = None
    priority_policy: str | None = None
    priority_timeout: float | None = None

    def as_dict(self) -> dict[str, object]:
        result = super().as_dict()
        if self.priority_timeout is not None:
            result["priority_timeout"] = self._to_nanoseconds(self.priority_timeout)
        return result


@dataclass(frozen=True, slots=True)
class Topology:
    forces: tuple[str, ...]
    partitions: int = subjects.DEFAULT_PARTITIONS
    replicas: int = 1
    max_message_bytes: int = 300 * 1024


def stream_configs(topology: Topology) -> list[StreamConfig]:
    def stream(**fields: Any) -> StreamConfig:
        return StreamConfig(storage=StorageType.FILE, num_replicas=topology.replicas, **fields)

    return [
        stream(
            name=subjects.INBOUND_STREAM,
            description="Signed envelopes as forces sent them, partitioned by case",
            subjects=["cf.in.*.*"],
            subject_transform=SubjectTransform(
                src="cf.in.*.*", dest=subjects.inbound_transform_destination(topology.partitions)
            ),
            retention=RetentionPolicy.WORK_QUEUE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            # Accept oversize bytes up to a margin so the hub can dead-letter them visibly.
            max_msg_size=topology.max_message_bytes,
        ),
        stream(
            name=subjects.DELIVERY_STREAM,
            description="Per-force deliveries and receipts",
            subjects=["cf.out.>"],
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
        stream(
            name=subjects.CASELOG_STREAM,
            description="Accepted envelopes, per case, in order",
            subjects=["cf.log.>"],
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            deny_delete=True,
        ),
        stream(
            name=subjects.DEADLETTER_STREAM,
            description="Rejected bytes with their reason codes",
            subjects=["cf.dlq.>"],
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            deny_delete=True,
        ),
        stream(
            name=subjects.TIMER_STREAM,
            description="Deadline timers armed as scheduled messages",
            subjects=["cf.timer.>"],
            allow_msg_schedules=True,
            allow_rollup_hdrs=True,  # the server requires it alongside schedules
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
    ]


def hub_partition_consumer(partition: int) -> PinnedConsumerConfig:
    """One durable per partition, read by the one hub replica pinned to it: per-case order
    holds across replicas while each pull takes a batch (docs/decisions/0061)."""
    return PinnedConsumerConfig(
        durable_name=f"hub_p{partition}",
        filter_subject=subjects.inbound_partition_filter(partition),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        max_ack_pending=HUB_BATCH,
        max_deliver=HUB_MAX_DELIVER,
        ack_wait=HUB_ACK_WAIT_SECONDS,
        priority_groups=[HUB_PRIORITY_GROUP],
        priority_policy="pinned_client",
        priority_timeout=HUB_PIN_TIMEOUT_SECONDS,
    )


def timer_consumer() -> ConsumerConfig:
    return ConsumerConfig(
        durable_name="hub_timers",
        filter_subject="cf.timer.fire.>",
        ack_policy=AckPolicy.EXPLICIT,
        max_deliver=MAX_DELIVER,
        ack_wait=ACK_WAIT_SECONDS,
        backoff=BACKOFF_SECONDS,
    )


def force_consumers(force: str) -> list[ConsumerConfig]:
    # A client's own receipt consumer starts when it is made: the receipts before it answered
    # the force's own system, which reads them through its own consumer.
    clients = {subjects.client_receipt_consumer(force, c) for c in subjects.RECEIPT_CLIENTS}
    return [
        ConsumerConfig(
            durable_name=name,
            filter_subject=subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW if name in clients else DeliverPolicy.ALL,
            max_deliver=-1,  # a force's delivery is never abandoned; it waits for its ack
            ack_wait=ACK_WAIT_SECONDS,
        )
        for name, subject in subjects.force_consumers(force)
    ]


async def provision(js: JetStreamContext, topology: Topology) -> list[str]:
    """Create or update everything; returns what changed (empty on a second run)."""
    changes: list[str] = []
    for config in stream_configs(topology):
        changes += await _ensure_stream(js, config)
    for partition in range(topology.partitions):
        changes += await _ensure_consumer(
            js, subjects.INBOUND_STREAM, hub_partition_consumer(partition)
        )
    changes += await _ensure_consumer(js, subjects.TIMER_STREAM, timer_consumer())
    changes += await add_forces(js, topology.forces)
    return changes


async def add_forces(js: JetStreamContext, forces: Iterable[str]) -> list[str]:
    changes: list[str] = []
    for force in forces:
        for config in force_consumers(force):
            changes += await _ensure_consumer(js, subjects.DELIVERY_STREAM, config)
    return changes


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> list[str]:
    assert config.name is not None
    try:
        existing = await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return [f"created stream {config.name}"]
    current = existing.config
    wanted = config.as_dict()
    if any(current.as_dict().get(key) != value for key, value in wanted.items()):
        await js.update_stream(config)
        return [f"updated stream {config.name}"]
    return []


async def _ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> list[str]:
    assert config.durable_name is not None
    try:
        existing = await js.consumer_info(stream, config.durable_name)
    except NotFoundError:
        await js.add_consumer(stream, config)
        return [f"created consumer {stream}/{config.durable_name}"]
    current = existing.config.as_dict()
    # The client library reads back only the fields it knows; priority-group settings are
    # compared through the ones it does (a consumer from before them differs in
    # max_ack_pending and ack_wait, so it is updated with them).
    known = {field.name for field in fields(ConsumerConfig)}
    wanted = {key: value for key, value in config.as_dict().items() if key in known}
    if any(current.get(key) != value for key, value in wanted.items()):
        await js.add_consumer(stream, config)  # add_consumer updates a durable in place
        return [f"updated consumer {stream}/{config.durable_name}"]
    return []

"""Subject and stream names: the whole addressing scheme in one place (see README).

A force publishes to `cf.in.<FORCE>.<caseref>`. The inbound stream rewrites that, on
ingest, to `cf.in.<partition>.<FORCE>.<caseref>`, where the partition is a hash of the case
reference, so every message of one case lands in one partition and is processed in order.
"""

from __future__ import annotations

from dataclasses import dataclass

INBOUND_STREAM = "CF_INBOUND"
DELIVERY_STREAM = "CF_DELIVERY"
CASELOG_STREAM = "CF_CASELOG"
DEADLETTER_STREAM = "CF_DEADLETTER"
TIMER_STREAM = "CF_TIMERS"

DEFAULT_PARTITIONS = 16


def inbound_subject(force: str, case_ref: str) -> str:
    """Where a force publishes (the only subject it may publish to)."""
    return f"cf.in.{force}.{case_ref}"


def inbound_partition_filter(partition: int) -> str:
    return f"cf.in.{partition}.>"


def inbound_transform_destination(partitions: int) -> str:
    return f"cf.in.{{{{partition({partitions},2)}}}}.{{{{wildcard(1)}}}}.{{{{wildcard(2)}}}}"


def delivery_subject(force: str) -> str:
    return f"cf.out.{force}.msg"


def receipt_subject(force: str) -> str:
    return f"cf.out.{force}.receipt"


def priority_subject(force: str) -> str:
    """Immediate-risk deliveries: a queue of their own, read before routine traffic."""
    return f"cf.out.{force}.priority"


def delivery_subject_for(force: str, *, priority: bool) -> str:
    return priority_subject(force) if priority else delivery_subject(force)


def delivery_consumer(force: str) -> str:
    return f"{force}_msg"


def receipt_consumer(force: str) -> str:
    return f"{force}_receipt"


# Clients that send for a force beside its own system, each reading the force's receipts
# through a durable consumer of its own. CF_DELIVERY keeps every message for every consumer
# (limits retention, not a work queue), so each consumer sees every receipt and takes none
# from the others: the web app never takes a receipt the force's system is waiting for.
RECEIPT_CLIENTS = ("web",)


def client_receipt_consumer(force: str, client: str) -> str:
    """The receipt consumer of one of `RECEIPT_CLIENTS`, e.g. `ESSEX_receipt_web`."""
    if client not in RECEIPT_CLIENTS:
        raise ValueError(f"{client!r} is not one of {RECEIPT_CLIENTS}")
    return f"{force}_receipt_{client}"


def priority_consumer(force: str) -> str:
    return f"{force}_priority"


def is_delivery(subject: str) -> bool:
    """A delivery of an envelope to a force (routine or priority), not a receipt."""
    return subject.startswith("cf.out.") and not subject.endswith(".receipt")


def force_consumers(force: str) -> tuple[tuple[str, str], ...]:
    """(durable consumer, filter subject) for everything a force reads from CF_DELIVERY."""
    return (
        (priority_consumer(force), priority_subject(force)),
        (delivery_consumer(force), delivery_subject(force)),
        (receipt_consumer(force), receipt_subject(force)),
        *((client_receipt_consumer(force, c), receipt_subject(force)) for c in RECEIPT_CLIENTS),
    )


def caselog_subject(case_ref: str) -> str:
    return f"cf.log.{case_ref}"


def deadletter_subject(force: str) -> str:
    return f"cf.dlq.{force}"


def timer_schedule_subject(deadline_id: str) -> str:
    """Holds the pending schedule; publishing again replaces it (one timer per deadline)."""
    return f"cf.timer.sched.{deadline_id}"


def timer_fire_subject(deadline_id: str) -> str:
    """Where the server publishes the timer when it fires; the hub consumes these."""
    return f"cf.timer.fire.{deadline_id}"


def inbox_prefix(force: str) -> str:
    """Per-force reply inbox, so no force can read another's request replies."""
    return f"_INBOX_{force}"


def pull_inbox_prefix(force: str) -> bytes:
    """The reply prefix a pull subscriber fetches on. Libraries default to `_INBOX.`, which a
    participant's NATS user may not subscribe to, so every pull subscriber must be given this."""
    return f"{inbox_prefix(force)}.".encode()


@dataclass(frozen=True, slots=True)
class InboundAddress:
    partition: int
    force: str
    case_ref: str


def parse_inbound(subject: str) -> InboundAddress:
    """Split a stored inbound subject `cf.in.<p>.<FORCE>.<caseref>`."""
    parts = subject.split(".")
    if len(parts) != 5 or parts[:2] != ["cf", "in"] or not parts[2].isdigit():
        raise ValueError(f"not an inbound subject: {subject}")
    return InboundAddress(int(parts[2]), parts[3], parts[4])

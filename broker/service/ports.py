"""The unit-of-work port: what the hub's handlers need from storage, and nothing of how.

One unit of work is one transaction. Its repositories read and write the case projection,
deadlines, outbox, s.62 disclosure log, malicious markers, processed ids, case history and the
queue of reads to report to a PSD; all of it commits together or not at all (architecture
decisions 4 and 7). The SQL adapter
(`crossforce.adapters.sql.unit_of_work`) implements it; the hub, the escalation service and
the timers see only these types and the port's own exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from crossforce.broker.domain.access import CaseRead
from crossforce.broker.domain.markers import MaliciousMarker
from crossforce.broker.service.outbox import OutboundMessage


class StorageFault(Exception):
    """Storage is unreachable, locked or restarting: the same work will succeed later."""


class ConcurrentUpdate(StorageFault):
    """The row changed under us (another hub replica): retry the whole unit of work."""


@dataclass(frozen=True, slots=True)
class StoredCase:
    """A case row as the hub keeps it: the domain case's dict, its version and side data."""

    case_ref: str
    version: int
    state: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ProcessedAs:
    sender: str
    type: str
    case_ref: str


class CaseRepository(Protocol):
    def get(self, case_ref: str) -> StoredCase | None: ...

    def version_of(self, case_ref: str) -> int | None:
        """The stored version alone (None: no such case), to check a cached copy."""

    def save(
        self,
        case_ref: str,
        version: int,
        state: Mapping[str, Any],
        index: Mapping[str, Any],
        participants: Iterable[str],
        now: datetime,
        expected_version: int | None,
    ) -> None:
        """Insert a new case, or update it only if its stored version is still
        `expected_version` (else ConcurrentUpdate). `participants` are forces to list as
        taking part (listing one already listed changes nothing)."""

    def refresh_red(self, case_ref: str) -> None:
        """A case is red while any of its open deadlines is red."""


class DeadlineRepository(Protocol):
    def for_case(self, case_ref: str) -> dict[str, dict[str, Any]]: ...

    def get(self, deadline_id: str) -> dict[str, Any] | None: ...

    def add(self, deadline_id: str, values: Mapping[str, Any]) -> None: ...

    def update(self, deadline_id: str, expected_version: int, values: Mapping[str, Any]) -> None:
        """Update only if the stored version is still `expected_version`, bumping it
        (else ConcurrentUpdate)."""

    def due_ids(self, now: datetime, limit: int) -> list[str]: ...


class OutboxRepository(Protocol):
    def add(self, message: OutboundMessage, now: datetime) -> None:
        """Queue a publish under its unique Nats-Msg-Id; an id queued already is not queued
        again (the unit of work's `outbound` lists what was)."""

    def get(self, msg_id: str) -> OutboundMessage | None: ...

    def unsent(
        self,
        msg_id_prefix: str | None = None,
        limit: int = 1000,
        created_before: datetime | None = None,
    ) -> list[OutboundMessage]:
        """Rows not yet marked sent, oldest first: of one message (`msg_id_prefix`), or
        queued by `created_before`."""

    def mark_sent(self, row_ids: Sequence[int], at: datetime) -> None: ...


class DisclosureLog(Protocol):
    def record(
        self,
        *,
        envelope_id: str,
        case_ref: str,
        message_type: str,
        disclosed_by: str,
        disclosed_to: str,
        disclosed_at: datetime,
        purpose: str,
        lawful_basis: str,
        marking: str,
        acted_by: str | None = None,
    ) -> None:
        """One DPA 2018 s.62 disclosure line; `acted_by` the person at the disclosing force,
        where its signed envelope named one."""


class MarkerRepository(Protocol):
    def for_subjects(self, subject_keys: Iterable[str]) -> list[MaliciousMarker]: ...

    def add(self, marker: MaliciousMarker) -> None: ...


class ProcessedIds(Protocol):
    def processed_as(self, envelope_id: str) -> ProcessedAs | None: ...

    def add(
        self,
        envelope_id: str,
        processed: ProcessedAs,
        at: datetime,
        acted_by: str | None = None,
    ) -> None: ...

    def already_rejected(self, inbound_key: str) -> bool: ...

    def add_rejection(
        self,
        *,
        inbound_key: str,
        arrival_force: str,
        envelope_id: str | None,
        reason_code: str,
        detail: str,
        rejected_at: datetime,
    ) -> None: ...


class CaseHistory(Protocol):
    def add(
        self,
        case_ref: str,
        at: datetime,
        actor: str,
        event: str,
        summary: str,
        acted_by: str | None = None,
    ) -> None:
        """`actor` is the force; `acted_by` the person there, when its envelope named one."""


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """A notice of the escalation ladder as the hub sent it to one force."""

    envelope_id: str
    case_ref: str
    deadline_id: str
    part_id: str  # a hub part id, or `case` for a case clock with no part
    step: str
    level: int
    message_type: str
    owner_force: str
    sent_to: str
    sent_at: datetime


class EscalationNotices(Protocol):
    """What the ladder sent to whom, so the recipient can acknowledge that very notice."""

    def add(self, notice: EscalationNotice) -> None: ...

    def get(self, envelope_id: str, case_ref: str) -> EscalationNotice | None: ...


class AccessReportQueue(Protocol):
    """Reads of cases with a police employee among the parties, queued by the read paths for
    the hub to report to the PSD (decision 0051)."""

    def pending(self, limit: int) -> list[str]:
        """Ids of reads not yet relayed, oldest first."""

    def claim(self, report_id: str, at: datetime) -> CaseRead | None:
        """The queued read, marked relayed at `at`; None if it was relayed already (by
        another hub replica)."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the block commits; an exception rolls back. Storage faults
    surface as StorageFault (ConcurrentUpdate for a lost version check)."""

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def deadlines(self) -> DeadlineRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def disclosures(self) -> DisclosureLog: ...

    @property
    def markers(self) -> MarkerRepository: ...

    @property
    def processed(self) -> ProcessedIds: ...

    @property
    def history(self) -> CaseHistory: ...

    @property
    def notices(self) -> EscalationNotices: ...

    @property
    def access_reports(self) -> AccessReportQueue: ...

    @property
    def outbound(self) -> list[OutboundMessage]:
        """What this transaction queued in the outbox, to publish once it has committed."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def savepoint(self) -> Any:
        """A nested transaction (context manager): a failure inside rolls back only it."""

    def on_rollback(self, action: Callable[[], None]) -> None:
        """Run `action` if what registered it rolls back: the savepoint it was registered
        in, or the transaction. Never once the transaction has committed."""


UnitOfWorkFactory = Callable[[], UnitOfWork]

"""The unit-of-work port on SQLAlchemy Core: one connection, one transaction, nine repositories.

Every hub write is here. Driver and pool errors leave as the port's StorageFault, so nothing
above this module knows which database it runs on.

Rows that are only ever appended (processed ids, history, the s.62 log, participants) are
written behind: they are held and inserted in one statement per table when the transaction
commits, as are outbox rows whenever the caller asks what was queued. A savepoint that rolls
back drops what it held. Reads that could see held rows flush them first (the outbox) or
look at them too (processed ids), so the transaction reads its own writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Engine,
    NestedTransaction,
    Table,
    Update,
    bindparam,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.case_reads import read_from_row
from crossforce.adapters.sql.engine import aware_row, stored_utc
from crossforce.broker.domain.access import CaseRead
from crossforce.broker.domain.markers import MaliciousMarker
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.ports import (
    ConcurrentUpdate,
    EscalationNotice,
    ProcessedAs,
    StorageFault,
    StoredCase,
)

# Statements on the hot path are built once and executed with parameters: building a
# statement per call costs more than running it.
_cases, _outbox, _participants = schema.cases, schema.outbox, schema.case_participants
_GET_CASE = select(_cases.c.version, _cases.c.state).where(_cases.c.case_ref == bindparam("ref"))
_CASE_VERSION = select(_cases.c.version).where(_cases.c.case_ref == bindparam("ref"))
_UPDATE_CASE = (
    update(_cases)
    .where(_cases.c.case_ref == bindparam("ref"), _cases.c.version == bindparam("expected"))
    .values(
        version=bindparam("version"),
        receiving_force=bindparam("receiving_force"),
        coordinating_force=bindparam("coordinating_force"),
        status=bindparam("status"),
        state=bindparam("state"),
        updated_at=bindparam("updated_at"),
    )
)
_INSERT_PARTICIPANTS = {
    name: dialect.insert(_participants).on_conflict_do_nothing()
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}
_PROCESSED_AS = select(
    schema.processed_envelopes.c.sender,
    schema.processed_envelopes.c.type,
    schema.processed_envelopes.c.case_ref,
).where(schema.processed_envelopes.c.envelope_id == bindparam("id"))
_DEADLINES_OF_CASE = select(schema.deadlines).where(schema.deadlines.c.case_ref == bindparam("ref"))
_DEADLINE = select(schema.deadlines).where(schema.deadlines.c.deadline_id == bindparam("id"))
_INSERT_DEADLINE = insert(schema.deadlines)
_INSERT_CASE = insert(_cases)
_CASE_COLUMNS = (
    "version",
    "receiving_force",
    "coordinating_force",
    "status",
    "state",
    "updated_at",
)
# The case is red while any of its open deadlines is red.
_REFRESH_RED = (
    update(_cases)
    .where(_cases.c.case_ref == bindparam("ref"))
    .values(
        red=select(
            exists().where(
                schema.deadlines.c.case_ref == bindparam("ref"),
                schema.deadlines.c.status == "open",
                schema.deadlines.c.red.is_(True),
            )
        ).scalar_subquery()
    )
)


@cache
def _update_deadline(columns: frozenset[str]) -> Update:
    """The versioned update of these columns, built once per set of columns."""
    d = schema.deadlines
    return (
        update(d)
        .where(d.c.deadline_id == bindparam("id"), d.c.version == bindparam("expected"))
        .values({name: bindparam(f"new_{name}") for name in (*sorted(columns), "version")})
    )


_INSERT_OUTBOX_ROWS = {
    name: dialect.insert(_outbox)
    .on_conflict_do_nothing(index_elements=["msg_id"])
    .returning(_outbox.c.id, _outbox.c.msg_id)
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}
# Appended rows held until commit, in the order they are inserted (foreign keys first).
_HELD_TABLES = (
    schema.processed_envelopes,
    schema.case_history,
    schema.disclosure_log,
)

# Driver, pool and connection errors: the database's fault, never the message's.
_DRIVER_FAULTS = (DBAPIError, DisconnectionError, PoolTimeoutError)
_OPEN = "open"


def _as_storage_fault(error: BaseException) -> BaseException:
    if isinstance(error, _DRIVER_FAULTS):
        fault = StorageFault(f"{type(error).__name__} from the database")
        fault.__cause__ = error
        return fault
    return error


@dataclass(frozen=True, slots=True)
class _Versioned:
    """A versioned row written behind: to insert (`expected` None), or to update from the
    version this transaction first read; `values` are the columns it will hold, or change."""

    expected: int | None
    values: dict[str, Any]


class _Repository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def db(self) -> Connection:
        return self._uow.connection


class SqlCases(_Repository):
    def get(self, case_ref: str) -> StoredCase | None:
        held = self._uow.held_cases.get(case_ref)
        if held is not None:
            return StoredCase(case_ref, int(held.values["version"]), held.values["state"])
        row = self.db.execute(_GET_CASE, {"ref": case_ref}).first()
        return None if row is None else StoredCase(case_ref, int(row.version), row.state)

    def version_of(self, case_ref: str) -> int | None:
        held = self._uow.held_cases.get(case_ref)
        if held is not None:
            return int(held.values["version"])
        version = self.db.execute(_CASE_VERSION, {"ref": case_ref}).scalar()
        return None if version is None else int(version)

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
        values = {
            "version": version,
            "receiving_force": index["receiving_force"],
            "coordinating_force": index["coordinating_force"],
            "status": index["status"],
            "state": dict(state),
            "updated_at": now,
        }
        held = self._uow.held_cases.get(case_ref)
        if held is None:
            # Written at commit; the version check (`expected`) happens there.
            first = {"case_ref": case_ref, "red": False} if expected_version is None else {}
            self._uow.held_cases[case_ref] = _Versioned(expected_version, first | values)
        elif expected_version != held.values["version"]:
            raise ConcurrentUpdate(case_ref)
        else:
            self._uow.held_cases[case_ref] = _Versioned(held.expected, held.values | values)
        # Once a participant, always listed (a former participant keeps its record); a force
        # listed already is left as it is, with no read first.
        self._uow.hold_participants(case_ref, participants)

    def refresh_red(self, case_ref: str) -> None:
        # At commit, after the deadline rows it reads.
        self._uow.red_refresh[case_ref] = None


class SqlDeadlines(_Repository):
    def for_case(self, case_ref: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(_DEADLINES_OF_CASE, {"ref": case_ref}).mappings()
        found = {row["deadline_id"]: aware_row(row) for row in rows}
        for deadline_id, held in self._uow.held_deadlines.items():
            if deadline_id in found:
                found[deadline_id] |= held.values
            elif held.expected is None and held.values["case_ref"] == case_ref:
                found[deadline_id] = dict(held.values)
        return found

    def get(self, deadline_id: str) -> dict[str, Any] | None:
        held = self._uow.held_deadlines.get(deadline_id)
        if held is not None and held.expected is None:
            return dict(held.values)
        row = self.db.execute(_DEADLINE, {"id": deadline_id}).mappings().first()
        if row is None:
            return None
        return aware_row(row) | (held.values if held is not None else {})

    def add(self, deadline_id: str, values: Mapping[str, Any]) -> None:
        if deadline_id in self._uow.held_deadlines:
            raise ConcurrentUpdate(deadline_id)
        # Written at commit, with the other deadline rows of the transaction.
        self._uow.held_deadlines[deadline_id] = _Versioned(
            None, {**values, "deadline_id": deadline_id}
        )

    def update(self, deadline_id: str, expected_version: int, values: Mapping[str, Any]) -> None:
        changed = {**values, "version": expected_version + 1}
        held = self._uow.held_deadlines.get(deadline_id)
        if held is None:
            self._uow.held_deadlines[deadline_id] = _Versioned(expected_version, changed)
        elif int(held.values["version"]) != expected_version:
            raise ConcurrentUpdate(deadline_id)
        else:
            self._uow.held_deadlines[deadline_id] = _Versioned(held.expected, held.values | changed)

    def due_ids(self, now: datetime, limit: int) -> list[str]:
        self._uow.flush()
        d = schema.deadlines
        query = (
            select(d.c.deadline_id)
            .where(d.c.status == _OPEN, d.c.next_fire_at <= now)
            .order_by(d.c.next_fire_at)
            .limit(limit)
        )
        return [row[0] for row in self.db.execute(query)]


class SqlOutbox(_Repository):
    def add(self, message: OutboundMessage, now: datetime) -> None:
        # The Nats-Msg-Id is the outbox's unique key: a row queued twice is kept once, with
        # no read first. Held until the caller asks what was queued (`outbound`).
        self._uow.hold_outbox(message, now)

    def get(self, msg_id: str) -> OutboundMessage | None:
        self._uow.flush_outbox()
        o = schema.outbox
        row = self.db.execute(select(o).where(o.c.msg_id == msg_id)).mappings().first()
        return None if row is None else _outbound(row)

    def unsent(
        self,
        msg_id_prefix: str | None = None,
        limit: int = 1000,
        created_before: datetime | None = None,
    ) -> list[OutboundMessage]:
        self._uow.flush_outbox()
        o = schema.outbox
        query = select(o).where(o.c.sent_at.is_(None))
        if msg_id_prefix is not None:
            query = query.where(o.c.msg_id.startswith(msg_id_prefix))
        if created_before is not None:
            query = query.where(o.c.created_at <= created_before)
        rows = self.db.execute(query.order_by(o.c.id).limit(limit)).mappings()
        return [_outbound(row) for row in rows]

    def mark_sent(self, row_ids: Sequence[int], at: datetime) -> None:
        if row_ids:
            self._uow.writing()
            o = schema.outbox
            self.db.execute(update(o).where(o.c.id.in_(list(row_ids))).values(sent_at=at))


def _outbound(row: Mapping[Any, Any]) -> OutboundMessage:
    return OutboundMessage(
        row["msg_id"],
        row["subject"],
        row["payload"],
        dict(row["headers"]),
        row["id"],
        stored_utc(row["created_at"]),
    )


class SqlDisclosureLog(_Repository):
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
        self._uow.hold(
            schema.disclosure_log,
            {
                "acted_by": acted_by,
                "envelope_id": envelope_id,
                "case_ref": case_ref,
                "message_type": message_type,
                "disclosed_by": disclosed_by,
                "disclosed_to": disclosed_to,
                "disclosed_at": disclosed_at,
                "purpose": purpose,
                "lawful_basis": lawful_basis,
                "marking": marking,
            },
        )


class SqlMarkers(_Repository):
    def for_subjects(self, subject_keys: Iterable[str]) -> list[MaliciousMarker]:
        keys = set(subject_keys)
        if not keys:
            return []
        m = schema.subject_markers
        rows = self.db.execute(select(m).where(m.c.subject_key.in_(keys))).mappings()
        return [
            MaliciousMarker(
                r["subject_key"],
                r["case_ref"],
                r["marked_by"],
                stored_utc(r["marked_at"]),
                "recorded",
            )
            for r in rows
        ]

    def add(self, marker: MaliciousMarker) -> None:
        self._uow.writing()
        self.db.execute(
            insert(schema.subject_markers).values(
                subject_key=marker.subject_key,
                marker="malicious",
                case_ref=marker.case_ref,
                marked_by=marker.marked_by,
                marked_at=marker.marked_at,
            )
        )


class SqlProcessedIds(_Repository):
    def processed_as(self, envelope_id: str) -> ProcessedAs | None:
        held = self._uow.held_processed.get(envelope_id)
        if held is not None:
            return held
        row = self.db.execute(_PROCESSED_AS, {"id": envelope_id}).first()
        return None if row is None else ProcessedAs(row.sender, row.type, row.case_ref)

    def add(
        self,
        envelope_id: str,
        processed: ProcessedAs,
        at: datetime,
        acted_by: str | None = None,
    ) -> None:
        self._uow.held_processed[envelope_id] = processed
        self._uow.hold(
            schema.processed_envelopes,
            {
                "acted_by": acted_by,
                "envelope_id": envelope_id,
                "case_ref": processed.case_ref,
                "type": processed.type,
                "sender": processed.sender,
                "processed_at": at,
            },
        )

    def already_rejected(self, inbound_key: str) -> bool:
        r = schema.rejections
        query = select(r.c.inbound_key).where(r.c.inbound_key == inbound_key)
        return self.db.execute(query).first() is not None

    def add_rejection(
        self,
        *,
        inbound_key: str,
        arrival_force: str,
        envelope_id: str | None,
        reason_code: str,
        detail: str,
        rejected_at: datetime,
    ) -> None:
        self._uow.writing()
        self.db.execute(
            insert(schema.rejections).values(
                inbound_key=inbound_key,
                arrival_force=arrival_force,
                envelope_id=envelope_id,
                reason_code=reason_code,
                detail=detail,
                rejected_at=rejected_at,
            )
        )


class SqlCaseHistory(_Repository):
    def add(
        self,
        case_ref: str,
        at: datetime,
        actor: str,
        event: str,
        summary: str,
        acted_by: str | None = None,
    ) -> None:
        self._uow.hold(
            schema.case_history,
            {
                "case_ref": case_ref,
                "at": at,
                "actor": actor,
                "event": event,
                "summary": summary,
                "acted_by": acted_by,
            },
        )


class SqlEscalationNotices(_Repository):
    def add(self, notice: EscalationNotice) -> None:
        self._uow.writing()
        self.db.execute(
            insert(schema.escalation_notices).values(
                envelope_id=notice.envelope_id,
                case_ref=notice.case_ref,
                deadline_id=notice.deadline_id,
                part_id=notice.part_id,
                step=notice.step,
                level=notice.level,
                message_type=notice.message_type,
                owner_force=notice.owner_force,
                sent_to=notice.sent_to,
                sent_at=notice.sent_at,
            )
        )

    def get(self, envelope_id: str, case_ref: str) -> EscalationNotice | None:
        n = schema.escalation_notices
        row = (
            self.db.execute(
                select(n).where(n.c.envelope_id == envelope_id, n.c.case_ref == case_ref)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        values = aware_row(row)
        values["level"] = int(values["level"])
        return EscalationNotice(**values)


class SqlAccessReports(_Repository):
    def pending(self, limit: int) -> list[str]:
        a = schema.access_reports
        query = (
            select(a.c.report_id)
            .where(a.c.relayed_at.is_(None))
            .order_by(a.c.read_at, a.c.report_id)
            .limit(limit)
        )
        return [row[0] for row in self.db.execute(query)]

    def claim(self, report_id: str, at: datetime) -> CaseRead | None:
        self._uow.writing()
        a = schema.access_reports
        claimed = self.db.execute(
            update(a)
            .where(a.c.report_id == report_id, a.c.relayed_at.is_(None))
            .values(relayed_at=at)
        )
        if claimed.rowcount != 1:
            return None
        return read_from_row(self.db.execute(select(a).where(a.c.report_id == report_id)).one())


class SqlUnitOfWork:
    """One transaction on `engine`: use it as a context manager."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._outbound: list[OutboundMessage] = []
        self._held: dict[Table, list[dict[str, Any]]] = {table: [] for table in _HELD_TABLES}
        self._held_participants: list[tuple[str, str]] = []
        self._held_outbox: list[tuple[OutboundMessage, datetime]] = []
        self._on_rollback: list[Callable[[], None]] = []
        # Envelope ids processed in this transaction and not yet inserted.
        self.held_processed: dict[str, ProcessedAs] = {}
        # Versioned rows written behind, by key, and the cases whose red flag to refresh.
        self.held_cases: dict[str, _Versioned] = {}
        self.held_deadlines: dict[str, _Versioned] = {}
        self.red_refresh: dict[str, None] = {}
        # Open savepoints, innermost last; None until something is written inside one.
        self._savepoints: list[NestedTransaction | None] = []
        self.cases = SqlCases(self)
        self.deadlines = SqlDeadlines(self)
        self.outbox = SqlOutbox(self)
        self.disclosures = SqlDisclosureLog(self)
        self.markers = SqlMarkers(self)
        self.processed = SqlProcessedIds(self)
        self.history = SqlCaseHistory(self)
        self.notices = SqlEscalationNotices(self)
        self.access_reports = SqlAccessReports(self)

    @property
    def connection(self) -> Connection:
        assert self._connection is not None, "use the unit of work as a context manager"
        return self._connection

    @property
    def outbound(self) -> list[OutboundMessage]:
        """What this transaction queued in the outbox, each with its row id, in order."""
        self.flush_outbox()
        return self._outbound

    # -- written behind ------------------------------------------------------------------
    def hold(self, table: Table, row: dict[str, Any]) -> None:
        self._held[table].append(row)

    def hold_participants(self, case_ref: str, forces: Iterable[str]) -> None:
        self._held_participants += [(case_ref, force) for force in forces]

    def hold_outbox(self, message: OutboundMessage, now: datetime) -> None:
        self._held_outbox.append((message, now))

    def flush_outbox(self) -> None:
        """Insert the held outbox rows in one statement; a row whose msg id is in the outbox
        already is not queued again."""
        if not self._held_outbox:
            return
        self.writing()
        held, self._held_outbox = self._held_outbox, []
        firsts: dict[str, tuple[OutboundMessage, datetime]] = {}
        for message, now in held:
            firsts.setdefault(message.msg_id, (message, now))
        rows = [
            {
                "msg_id": message.msg_id,
                "subject": message.subject,
                "headers": message.headers,
                "payload": message.payload,
                "created_at": now,
            }
            for message, now in firsts.values()
        ]
        inserted = dict(
            (msg_id, row_id)
            for row_id, msg_id in self.connection.execute(
                _INSERT_OUTBOX_ROWS[self.connection.dialect.name], rows
            )
        )
        for msg_id, (message, _now) in firsts.items():
            row_id = inserted.get(msg_id)
            if row_id is not None:
                self._outbound.append(
                    OutboundMessage(
                        message.msg_id, message.subject, message.payload, message.headers, row_id
                    )
                )

    def flush(self) -> None:
        """Insert everything held: the outbox, the versioned rows (checking each update's
        version), the red flags they change, then one statement per appended table."""
        self.flush_outbox()
        if not (
            self.held_cases
            or self.held_deadlines
            or self.red_refresh
            or self._held_participants
            or any(self._held.values())
        ):
            return
        self.writing()
        connection = self.connection
        self._flush_versioned(
            self.held_cases,
            _INSERT_CASE,
            lambda _columns: _UPDATE_CASE,
            lambda ref, row: (
                {"ref": ref, "expected": row.expected}
                | {name: row.values[name] for name in _CASE_COLUMNS}
            ),
        )
        self.held_cases = {}
        if self._held_participants:
            rows = [
                {"case_ref": case_ref, "force": force}
                for case_ref, force in sorted(set(self._held_participants))
            ]
            connection.execute(_INSERT_PARTICIPANTS[connection.dialect.name], rows)
            self._held_participants = []
        self._flush_versioned(
            self.held_deadlines,
            _INSERT_DEADLINE,
            lambda columns: _update_deadline(columns - {"version"}),
            lambda deadline_id, row: {
                **{f"new_{name}": value for name, value in row.values.items()},
                "id": deadline_id,
                "expected": row.expected,
            },
        )
        self.held_deadlines = {}
        if self.red_refresh:
            connection.execute(_REFRESH_RED, [{"ref": ref} for ref in self.red_refresh])
            self.red_refresh = {}
        for table, rows in self._held.items():
            if rows:
                connection.execute(insert(table), rows)
                self._held[table] = []
        self.held_processed.clear()

    def _flush_versioned(
        self,
        held: dict[str, _Versioned],
        inserting: Any,
        updating: Callable[[frozenset[str]], Any],
        parameters: Callable[[str, _Versioned], dict[str, Any]],
    ) -> None:
        """New rows in one statement; updates in one per set of columns, each checked against
        the version it expects (any miss is a ConcurrentUpdate: the transaction goes round
        again from fresh reads)."""
        inserts = [row.values for row in held.values() if row.expected is None]
        if inserts:
            self.connection.execute(inserting, inserts)
        updates: dict[frozenset[str], list[dict[str, Any]]] = {}
        for key, row in held.items():
            if row.expected is not None:
                updates.setdefault(frozenset(row.values), []).append(parameters(key, row))
        for columns, rows in updates.items():
            if self.connection.execute(updating(columns), rows).rowcount != len(rows):
                raise ConcurrentUpdate(", ".join(sorted(held)))

    def on_rollback(self, action: Callable[[], None]) -> None:
        self._on_rollback.append(action)

    def _rolled_back(self, since: int = 0) -> None:
        """Run the rollback actions registered since `since`, newest first, and drop them."""
        actions, self._on_rollback = self._on_rollback[since:], self._on_rollback[:since]
        for action in reversed(actions):
            action()

    def _holding(self) -> tuple[int, ...]:
        return (
            len(self._on_rollback),
            len(self._outbound),
            len(self._held_outbox),
            len(self._held_participants),
            len(self.held_processed),
            *(len(rows) for rows in self._held.values()),
        )

    def _drop_held_since(self, marks: tuple[int, ...]) -> None:
        on_rollback, outbound, outbox, participants, processed, *tables = marks
        self._rolled_back(on_rollback)
        del self._outbound[outbound:]
        del self._held_outbox[outbox:]
        del self._held_participants[participants:]
        for envelope_id in list(self.held_processed)[processed:]:
            del self.held_processed[envelope_id]
        for rows, mark in zip(self._held.values(), tables, strict=True):
            del rows[mark:]

    # -- the transaction -----------------------------------------------------------------
    def __enter__(self) -> Self:
        try:
            self._connection = self._engine.connect()
            self._connection.begin()
        except _DRIVER_FAULTS as error:
            raise _as_storage_fault(error) from error
        self._outbound = []
        self._on_rollback = []
        self._savepoints = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        committed = False
        try:
            if exc_type is None:
                self.flush()
                connection.commit()
                committed = True
            else:
                connection.rollback()
        except _DRIVER_FAULTS as error:
            raise _as_storage_fault(error) from error
        finally:
            connection.close()  # returned to the pool, which rolls back what did not commit
            self._connection = None
            if committed:
                self._on_rollback = []
            else:
                self._rolled_back()
        if exc is not None and isinstance(exc, _DRIVER_FAULTS):
            raise _as_storage_fault(exc) from exc

    def writing(self) -> None:
        """About to write to the database now, not behind: open the savepoints that wait
        for a first write (outermost first), so a rollback undoes it."""
        for depth, nested in enumerate(self._savepoints):
            if nested is None:
                self._savepoints[depth] = self.connection.begin_nested()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: a failure inside rolls back only it (and what it queued or
        held). The database's savepoint is opened only once something inside writes now;
        most messages write only behind, and then dropping what they held is the rollback."""
        marks = self._holding()
        versioned = (dict(self.held_cases), dict(self.held_deadlines), dict(self.red_refresh))
        self._savepoints.append(None)
        try:
            yield
        except BaseException:
            nested = self._savepoints.pop()
            if nested is not None:
                nested.rollback()
            self.held_cases, self.held_deadlines, self.red_refresh = versioned
            self._drop_held_since(marks)
            raise
        nested = self._savepoints.pop()
        if nested is not None:
            nested.commit()


def unit_of_work_factory(engine: Engine) -> Any:
    """The port's factory for `engine`."""
    return lambda: SqlUnitOfWork(engine)

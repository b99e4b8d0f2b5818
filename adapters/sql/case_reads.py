"""The read paths' own writes to the hub's database: the s.62 consultation rows of
`crossforce case`, and reads queued for the hub to report to a PSD (decision 0051).

What a read is, and whether it is reported, is decided above (`crossforce.broker.domain.access`
and `crossforce.broker.service.case_reads`); this module only stores it. The web app reaches
`queue_reads` through an engine that may do nothing else (`report_queue`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import stored_utc
from crossforce.broker.domain.access import CaseRead, ReadChannel

# Given the case's stored state (None: no such case), the read as the read path records it,
# and whether it is queued for a PSD.
Decide = Callable[[Mapping[str, Any] | None], tuple[CaseRead, bool]]


def _queue(db: Connection, reads: Iterable[CaseRead]) -> None:
    rows = [
        {
            "report_id": read.report_id,
            "case_ref": read.case_ref,
            "channel": read.channel.value,
            "reader_force": read.reader_force,
            "reader": read.reader,
            "allowed": read.allowed,
            "justification": read.justification,
            "read_at": read.read_at,
            "ledger_entry": read.ledger_entry,
        }
        for read in reads
    ]
    if rows:
        db.execute(insert(schema.access_reports), rows)


def queue_reads(engine: Engine, reads: Iterable[CaseRead]) -> None:
    """Queue reads for the hub to report, in one transaction of their own."""
    with engine.begin() as db:
        _queue(db, reads)


def record_read(engine: Engine, case_ref: str, decide: Decide) -> Mapping[str, Any] | None:
    """One transaction: the case's stored state, the consultation row of the read `decide`
    makes of it and, when `decide` says so, the queued report. Returns the state read."""
    cases = schema.cases
    with engine.begin() as db:
        row = db.execute(select(cases.c.state).where(cases.c.case_ref == case_ref)).first()
        state: Mapping[str, Any] | None = None if row is None else row[0]
        read, report = decide(state)
        db.execute(
            insert(schema.consultation_log).values(
                report_id=read.report_id,
                case_ref=read.case_ref,
                channel=read.channel.value,
                reader_force=read.reader_force,
                reader=read.reader,
                justification=read.justification,
                shown=read.allowed,
                at=read.read_at,
            )
        )
        if report:
            _queue(db, [read])
    return state


def read_from_row(row: Any) -> CaseRead:
    """A queued read as the hub relays it."""
    return CaseRead(
        report_id=row.report_id,
        case_ref=row.case_ref,
        reader_force=row.reader_force,
        reader=row.reader,
        channel=ReadChannel(row.channel),
        allowed=bool(row.allowed),
        justification=row.justification,
        read_at=stored_utc(row.read_at),
        ledger_entry=row.ledger_entry,
    )

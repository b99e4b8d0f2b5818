"""DPA 2018 s.62 logging for the ledger.

Every consultation of the ledger (reading an entry, proving one, looking a subject up) and
every erasure (disposal) leaves a row saying who did it, when, why, and what it touched. The
row is written in the same transaction as the read it records, so a read never happens
without its log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, insert, select

from crossforce.ledger.errors import AccessRefused
from crossforce.ledger.store import LedgerStore, access_log_table, utcnow


class AccessAction(StrEnum):
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    ERASURE = "erasure"


@dataclass(frozen=True)
class AccessRecord:
    at: datetime
    who: str
    action: AccessAction
    justification: str
    entry_index: int | None
    subject_key: str | None
    detail: str | None


def record_access(
    conn: Connection,
    *,
    who: str,
    action: AccessAction,
    justification: str,
    entry_index: int | None = None,
    subject_key: str | None = None,
    detail: str | None = None,
) -> None:
    """Write one s.62 log line; refuses an anonymous or unjustified access."""
    if not who.strip():
        raise AccessRefused("s.62: say who is consulting the ledger")
    if not justification.strip():
        raise AccessRefused("s.62: a justification is required to consult the ledger")
    conn.execute(
        insert(access_log_table).values(
            at=utcnow(),
            who=who,
            action=str(action),
            justification=justification,
            entry_index=entry_index,
            subject_key=subject_key,
            detail=detail,
        )
    )


def read_access_log(store: LedgerStore, *, entry_index: int | None = None) -> list[AccessRecord]:
    query = select(access_log_table).order_by(access_log_table.c.id)
    if entry_index is not None:
        query = query.where(access_log_table.c.entry_index == entry_index)
    with store.reading() as conn:
        return [
            AccessRecord(
                at=row.at,
                who=row.who,
                action=AccessAction(row.action),
                justification=row.justification,
                entry_index=row.entry_index,
                subject_key=row.subject_key,
                detail=row.detail,
            )
            for row in conn.execute(query)
        ]

"""MOPI retention: review dates, and disposal by crypto-shredding.

Disposing of an entry deletes its data key, so its personal fields can never be read again,
while the entry bytes (ciphertext) and so every leaf, node, proof and checkpoint stay as
they were. The disposal itself is recorded three ways:

* appended to the ledger as a `disposal` entry (public fields only), so the log proves
  when, why and by whom personal data was shredded, under the same signed checkpoints;
* a row in `ledger_disposals`, for look-up;
* an s.62 erasure line in the access log.

The entry also leaves subject look-ups: its subject key column is cleared (the key inside
the entry bytes stays, as it is under the hash, but it is an HMAC and useless without the
ledger's secret).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, delete, insert, select, text, update

from crossforce.ledger.access import AccessAction, record_access
from crossforce.ledger.errors import EntryNotFound, LedgerError
from crossforce.ledger.store import (
    Appended,
    LedgerStore,
    NewEntry,
    data_keys_table,
    disposals_table,
    entries_table,
    utcnow,
)


@dataclass(frozen=True)
class Disposal:
    disposed_index: int
    disposal_entry: int
    reason: str
    disposed_by: str
    disposed_at: datetime


def due_for_review(store: LedgerStore, on: date) -> list[int]:
    """Submissions whose MOPI review date has come and whose personal fields still exist."""
    with store.reading() as conn:
        query = (
            select(entries_table.c.idx)
            .where(entries_table.c.kind == "submission")
            .where(entries_table.c.review_date <= on)
            .where(entries_table.c.idx.not_in(select(disposals_table.c.idx)))
            .order_by(entries_table.c.idx)
        )
        return [int(i) for i in conn.execute(query).scalars()]


def dispose(
    store: LedgerStore,
    index: int,
    *,
    reason: str,
    by: str,
    build_record: Callable[[int, datetime], NewEntry],
    after_append: Callable[[Connection], object] | None = None,
) -> Disposal:
    """Shred entry `index`'s personal fields and record the disposal, all in one transaction."""
    if not reason.strip() or not by.strip():
        raise LedgerError("a disposal needs a reason and the name of who authorised it")
    now = utcnow()
    with store.writing() as conn:
        store.head(conn, lock=True)
        row = conn.execute(select(entries_table.c.kind).where(entries_table.c.idx == index)).first()
        if row is None:
            raise EntryNotFound(index)
        if row.kind != "submission":
            raise LedgerError(f"entry {index} is a {row.kind} record and holds no personal data")
        already = conn.execute(
            select(disposals_table.c.disposal_idx).where(disposals_table.c.idx == index)
        ).scalar()
        if already is not None:
            raise LedgerError(f"entry {index} was already disposed of by entry {already}")
        conn.execute(delete(data_keys_table).where(data_keys_table.c.idx == index))
        conn.execute(
            update(entries_table).where(entries_table.c.idx == index).values(subject_key=None)
        )
        appended: Appended = store.append(
            conn, f"disposal:{index}", lambda position: build_record(position, now)
        )
        conn.execute(
            insert(disposals_table).values(
                idx=index,
                disposal_idx=appended.index,
                reason=reason,
                disposed_by=by,
                disposed_at=now,
            )
        )
        record_access(
            conn,
            who=by,
            action=AccessAction.ERASURE,
            justification=reason,
            entry_index=index,
            detail=f"data key destroyed; disposal recorded as entry {appended.index}",
        )
        if after_append is not None:
            after_append(conn)  # e.g. sign the new head in the same transaction
    _reclaim(store)
    return Disposal(index, appended.index, reason, by, now)


def _reclaim(store: LedgerStore) -> None:
    # PostgreSQL keeps deleted tuples until VACUUM; make the wrapped key really go now.
    if store.dialect != "postgresql":
        return
    with store.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ledger_data_keys")
        )

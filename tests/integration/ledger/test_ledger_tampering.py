"""Tampering done straight in the database is detected and located (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from ledger_helpers import append, open_ledger
from sqlalchemy import create_engine, text

from contracts.keys import SigningKey
from ledger import Ledger, ProblemKind
from ledger.store import LedgerStore, NewEntry

ENTRIES = 40


@pytest.fixture()
def ledger(db_url: str) -> Iterator[Ledger]:
    with open_ledger(db_url, SigningKey.generate("LEDGER")) as opened:
        for number in range(ENTRIES):
            append(opened, number)
        opened.checkpoint()
        yield opened


def tamper(url: str, *statements: str) -> None:
    """Raw SQL through a plain engine: nothing of the ledger's code is involved."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_untouched_ledger_verifies(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.entries_checked == ENTRIES and report.checkpoints_checked == 1


def test_updated_entry_is_located(ledger: Ledger, db_url: str) -> None:
    if db_url.startswith("postgresql"):
        edit = "convert_to(replace(convert_from(entry, 'UTF8'), 'disclosed', 'refused'), 'UTF8')"
    else:
        edit = "CAST(replace(CAST(entry AS TEXT), 'disclosed', 'refused') AS BLOB)"
    tamper(db_url, f"UPDATE ledger_entries SET entry = {edit} WHERE idx = 17")
    report = ledger.verify()
    assert not report.ok
    assert report.entries_with(ProblemKind.ALTERED) == [17]
    assert {p.kind for p in report.problems} == {ProblemKind.ALTERED}


def test_deleted_entry_is_located(ledger: Ledger, db_url: str) -> None:
    tamper(db_url, "DELETE FROM ledger_entries WHERE idx = 9")
    report = ledger.verify()
    assert report.entries_with(ProblemKind.DELETED) == [9]
    assert {p.kind for p in report.problems} == {ProblemKind.DELETED}


def test_deleted_last_entry_is_located(ledger: Ledger, db_url: str) -> None:
    tamper(db_url, f"DELETE FROM ledger_entries WHERE idx = {ENTRIES - 1}")
    report = ledger.verify()
    assert report.entries_with(ProblemKind.DELETED) == [ENTRIES - 1]


def test_swapped_rows_are_located(ledger: Ledger, db_url: str) -> None:
    tamper(
        db_url,
        "UPDATE ledger_entries SET idx = -1 WHERE idx = 5",
        "UPDATE ledger_entries SET idx = 5 WHERE idx = 12",
        "UPDATE ledger_entries SET idx = 12 WHERE idx = -1",
    )
    report = ledger.verify()
    assert report.entries_with(ProblemKind.REORDERED) == [5, 12]
    assert all("5 and 12 were swapped" in p.detail for p in report.problems)


def test_inserted_row_is_located(ledger: Ledger, db_url: str) -> None:
    tamper(
        db_url,
        "INSERT INTO ledger_entries (idx, kind, leaf_hash, chain_hash, entry, subject_key, "
        "case_ref, submitted_by, review_date, created_at, idempotency_key) "
        f"SELECT {ENTRIES}, kind, leaf_hash, chain_hash, entry, subject_key, case_ref, "
        "submitted_by, review_date, created_at, 'forged' FROM ledger_entries WHERE idx = 3",
    )
    report = ledger.verify()
    assert report.entries_with(ProblemKind.INSERTED) == [ENTRIES]


def test_changed_lookup_column_is_located(ledger: Ledger, db_url: str) -> None:
    # Hiding a record from subject look-ups by editing only the index column.
    tamper(db_url, "UPDATE ledger_entries SET subject_key = 'ff' WHERE idx = 21")
    report = ledger.verify()
    assert report.entries_with(ProblemKind.ALTERED) == [21]
    assert "subject_key" in report.problems[0].detail


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("submitted_by", "'ESSEX'"),
        ("case_ref", "'ESSEX-2025-00001'"),
        ("review_date", "'2026-01-01'"),
        ("created_at", "'2020-01-01 00:00:00'"),
    ],
)
def test_edited_column_copied_from_the_entry_is_located(
    ledger: Ledger, db_url: str, column: str, value: str
) -> None:
    tamper(db_url, f"UPDATE ledger_entries SET {column} = {value} WHERE idx = 6")
    report = ledger.verify()
    assert report.entries_with(ProblemKind.ALTERED) == [6], report.problems
    assert f"column {column}" in report.problems[0].detail


def test_garbage_in_a_date_column_is_reported_not_a_crash(ledger: Ledger, db_url: str) -> None:
    if db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL refuses a malformed date itself")
    tamper(db_url, "UPDATE ledger_entries SET created_at = 'soon', review_date = 'x' WHERE idx = 2")
    report = ledger.verify()
    assert report.entries_with(ProblemKind.ALTERED) == [2]
    assert len(report.problems) == 2


def test_deleted_data_key_without_a_disposal_is_located(ledger: Ledger, db_url: str) -> None:
    """Shredding personal fields by deleting the key row, with no disposal on record."""
    tamper(db_url, "DELETE FROM ledger_data_keys WHERE idx = 11")
    report = ledger.verify()
    assert not report.ok
    assert report.entries_with(ProblemKind.DATA_KEY) == [11]
    assert "no disposal logged" in report.problems[0].detail


def test_disposal_row_forged_to_cover_a_shredding_is_located(ledger: Ledger, db_url: str) -> None:
    """Key deleted, subject key cleared and a disposal row made up, as retention would do."""
    tamper(
        db_url,
        "DELETE FROM ledger_data_keys WHERE idx = 11",
        "UPDATE ledger_entries SET subject_key = NULL WHERE idx = 11",
        "INSERT INTO ledger_disposals (idx, disposal_idx, reason, disposed_by, disposed_at) "
        "VALUES (11, 39, 'MOPI review', 'DI Jones', '2025-06-01 00:00:00')",
    )
    report = ledger.verify()
    assert report.entries_with(ProblemKind.DISPOSAL) == [11]
    assert report.entries_with(ProblemKind.DATA_KEY) == [11]
    assert report.entries_with(ProblemKind.ALTERED) == [11]  # the cleared subject key


def test_disposal_rows_are_held_to_the_disposal_entries(ledger: Ledger, db_url: str) -> None:
    ledger.dispose(3, reason="MOPI review: no further risk", by="DI Jones")
    ledger.dispose(4, reason="MOPI review: no further risk", by="DI Jones")
    assert ledger.verify().ok
    tamper(
        db_url,
        "UPDATE ledger_disposals SET disposed_by = 'DCI Other' WHERE idx = 3",
        "DELETE FROM ledger_disposals WHERE idx = 4",
    )
    report = ledger.verify()
    assert report.entries_with(ProblemKind.DISPOSAL) == [3, 4], report.problems
    assert {p.kind for p in report.problems} == {ProblemKind.DISPOSAL}


def test_restored_data_key_after_disposal_is_located(ledger: Ledger, db_url: str) -> None:
    ledger.dispose(3, reason="MOPI review: no further risk", by="DI Jones")
    blob = "X'00'" if db_url.startswith("sqlite") else "'\\x00'::bytea"
    tamper(db_url, f"INSERT INTO ledger_data_keys (idx, wrapped_key) VALUES (3, {blob})")
    report = ledger.verify()
    assert report.entries_with(ProblemKind.DATA_KEY) == [3]
    assert "not shredded" in report.problems[0].detail


def test_rewritten_leaf_hash_is_caught_by_the_chain_and_tree(ledger: Ledger, db_url: str) -> None:
    """Content and leaf hash rewritten together: the chain link and tree nodes still catch it."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        entry = bytes(conn.execute(text("SELECT entry FROM ledger_entries WHERE idx=30")).scalar())
        forged = entry.replace(b"disclosed", b"refused!!")
        leaf = hashlib.sha256(b"\x00" + forged).digest()
        conn.execute(
            text("UPDATE ledger_entries SET entry = :e, leaf_hash = :h WHERE idx = 30"),
            {"e": forged, "h": leaf},
        )
    engine.dispose()
    report = ledger.verify()
    assert report.entries_with(ProblemKind.ALTERED) == [30]
    assert "chain" in report.problems[0].detail


def test_consistent_rewrite_is_caught_by_the_signed_checkpoint(ledger: Ledger, db_url: str) -> None:
    """Rewrite an entry, its leaf, its chain, every node and the head: only the checkpoint
    signature still holds the truth, and it locates the change to the checkpointed range."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT idx, entry FROM ledger_entries ORDER BY idx")).all()
        conn.execute(text("DELETE FROM ledger_entries"))
        conn.execute(text("DELETE FROM ledger_nodes"))
        conn.execute(text("DELETE FROM ledger_head"))
    engine.dispose()
    forger = LedgerStore(db_url)  # recreates an empty head, as an insider could
    with forger.writing() as conn:
        for idx, entry in rows:
            data = bytes(entry)
            if idx == 8:
                data = data.replace(b"disclosed", b"refused!!")
            forger.append(conn, f"x{idx}", lambda _i, d=data: _rebuilt(d))
    forger.close()
    report = ledger.verify()
    kinds = {p.kind for p in report.problems}
    assert ProblemKind.CHECKPOINT in kinds, report.problems
    assert any("0..39" in p.detail for p in report.problems)


def _rebuilt(data: bytes) -> NewEntry:
    body = json.loads(data)
    review = body.get("review_date")
    return NewEntry(
        kind=body["kind"],
        entry=data,
        subject_key=body.get("subject_key"),
        case_ref=body.get("case_ref"),
        submitted_by=body["submitted_by"],
        review_date=None if review is None else date.fromisoformat(review),
        created_at=datetime.fromisoformat(body["submitted_at"]),
    )

"""Tampering done straight in the database is detected and located (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from ledger_helpers import append, forge, open_ledger
from sqlalchemy import create_engine, text

from crossforce.contracts.keys import SigningKey
from crossforce.ledger import Checkpoint, Ledger, ProblemKind, PublishedCheckpoint, sign_checkpoint

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
    forge(db_url, rewrite=8, drop_over=None)
    report = ledger.verify()
    kinds = {p.kind for p in report.problems}
    assert ProblemKind.CHECKPOINT in kinds, report.problems
    assert any("0..39" in p.detail for p in report.problems)


@pytest.mark.parametrize("drop_over", [-1, 20])
def test_deleted_checkpoints_leave_the_head_unsigned(
    ledger: Ledger, db_url: str, drop_over: int
) -> None:
    """The hub signs every append, so a head no stored checkpoint covers is itself a FAIL."""
    append(ledger, ENTRIES, checkpoint=True)
    tamper(db_url, f"DELETE FROM ledger_checkpoints WHERE tree_size > {drop_over}")
    report = ledger.verify()
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        f"entry 0: checkpoint: entries 0..{ENTRIES} are covered by no signed checkpoint: "
        "checkpoints were deleted, or entries appended without signing one"
    ]


def test_consistent_rewrite_without_checkpoints_is_caught(ledger: Ledger, db_url: str) -> None:
    note = ledger.checkpoint()  # published earlier: kept outside the database
    forge(db_url, rewrite=8)
    report = ledger.verify()
    assert not report.ok
    assert "covered by no signed checkpoint" in str(report.problems)
    report = ledger.verify(published=[PublishedCheckpoint("witness.txt", note)])
    assert any(
        "published checkpoint witness.txt: the log's root at size 40 differs from the signed "
        "one: an entry in 0..39 was rewritten" in str(p)
        for p in report.problems
    ), report.problems


def test_truncation_is_caught_only_by_a_published_checkpoint(db_url: str) -> None:
    """Entries cut off the end, head rewound, newer checkpoints deleted: the stored
    checkpoints still cover the (shorter) head, so only a note kept elsewhere shows it."""
    with open_ledger(db_url, SigningKey.generate("LEDGER")) as ledger:
        for number in range(10):
            append(ledger, number, checkpoint=True)
        note = ledger.latest_checkpoint()
        assert note is not None and ledger.verify().ok
        forge(db_url, keep=8, drop_over=8)
        assert ledger.verify().ok  # what the database alone can show
        report = ledger.verify(published=[PublishedCheckpoint("note", note)])
        assert [str(p) for p in report.problems] == [
            "entry 8: checkpoint: published checkpoint note: signed 10 entries but the log "
            "now holds 8: entries 8..9 were deleted"
        ]


def test_replaced_checkpoint_key_is_caught_by_a_given_key_or_a_published_note(
    db_url: str,
) -> None:
    """A forger who also swaps the key recorded in the database and signs anew passes
    trust-on-first-use, but not the real key given from outside, nor a published note."""
    real = SigningKey.generate("LEDGER")
    with open_ledger(db_url, real) as ledger:
        for number in range(6):
            append(ledger, number, checkpoint=True)
        note = ledger.checkpoint()
        real_key = ledger.verifier()
    forge(db_url, rewrite=2)
    tamper(db_url, "DELETE FROM ledger_meta WHERE key = 'checkpoint_key'")
    with open_ledger(db_url, SigningKey.generate("LEDGER")) as forger:
        forger.checkpoint()
    with open_ledger(db_url) as ledger:
        assert ledger.verify().ok  # trust on first use trusts the forger's key
        report = ledger.verify(published=[PublishedCheckpoint("note", note)])
        assert "not signed by the trusted checkpoint key" in str(report.problems)
    with open_ledger(db_url) as ledger:
        ledger.trusted_keys = [real_key]
        report = ledger.verify(published=[PublishedCheckpoint("note", note)])
        details = [str(p) for p in report.problems]
        assert any("no signature by a trusted key" in d for d in details), details
        assert any("an entry in 0..5 was rewritten" in d for d in details), details


def test_published_checkpoint_of_an_intact_log_passes(ledger: Ledger) -> None:
    note = ledger.checkpoint()
    append(ledger, ENTRIES, checkpoint=True)
    report = ledger.verify(published=[PublishedCheckpoint("earlier", note)])
    assert report.ok, report.problems
    assert report.checkpoints_checked == 3


def test_published_checkpoint_needs_the_trusted_key(ledger: Ledger) -> None:
    body = Checkpoint(ledger.origin, ledger.size, ledger.root())
    forged = sign_checkpoint(body, SigningKey.generate("LEDGER"), ledger.key_name)
    report = ledger.verify(published=[PublishedCheckpoint("forged.txt", forged)])
    assert [str(p) for p in report.problems] == [
        "ledger: checkpoint: published checkpoint forged.txt: no signature by a trusted key "
        "(not signed by the trusted checkpoint key)"
    ]

"""Shared pieces for the ledger integration tests (also run inside worker processes)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import create_engine, text

from crossforce.contracts.keys import SigningKey
from crossforce.ledger import Ledger
from crossforce.ledger.store import LedgerStore, NewEntry

MASTER_KEY = bytes(range(32))
SUBJECT_SECRET = bytes(range(32, 64))
ORIGIN = "crossforce.test/ledger"


def subject(number: int) -> dict[str, Any]:
    return {"surname": f"Subject{number}", "forenames": "Alex", "date_of_birth": "1985-06-01"}


def submission(number: int, force: str = "KENT") -> dict[str, Any]:
    return {
        "route": "right-to-ask",
        "jurisdiction": "EW",
        "request": "Right to Ask application by A",
        "outcomes": [{"decision": "disclose", "outcome": "disclosed", "rationale_ref": "R-1"}],
        "forces_involved": [force, "ESSEX"],
        "closing_stage": "closed",
        "closed_at": datetime(2025, 3, 1, 12, tzinfo=UTC).isoformat(),
        "requester_is_third_party": number % 2 == 1,
        "parties": [{"role": "A", "home_force": force}, {"role": "B", "home_force": "ESSEX"}],
        "number": number,
    }


def personal(number: int) -> dict[str, Any]:
    return {
        "parties": [
            {
                "role": "B",
                "names": [f"Alex Subject{number}"],
                "date_of_birth": "1985-06-01",
                "sex": "male",
                "ethnicity": "White British",
                "disability": "none",
                "addresses": [f"{number} High Street, Maidstone"],
            }
        ]
    }


def open_ledger(url: str, key: SigningKey | None = None) -> Ledger:
    return Ledger(url, key, SUBJECT_SECRET, ORIGIN, master_key=MASTER_KEY)


def append(
    ledger: Ledger,
    number: int,
    *,
    force: str = "KENT",
    subject_number: int | None = None,
    checkpoint: bool = False,
) -> int:
    result = ledger.append_submission(
        submission(number, force),
        personal=personal(number),
        subject_identity=subject(number if subject_number is None else subject_number),
        case_ref=f"{force}-2025-{number:05d}",
        submitted_by=force,
        review_date=date(2031, 3, 1),
        idempotency_key=f"{force}:{number}",
        checkpoint=checkpoint,
    )
    return result.index


def append_from_worker(url: str, force: str, count: int) -> None:
    """Entry point of a worker process: append `count` submissions as `force`."""
    ledger = open_ledger(url)
    try:
        for number in range(count):
            append(ledger, number, force=force)
    finally:
        ledger.close()


def forge(
    url: str, *, rewrite: int | None = None, keep: int | None = None, drop_over: int | None = -1
) -> None:
    """An insider's consistent rewrite, straight in the database: every entry, leaf, chain
    link, node and the head rebuilt from scratch, entry `rewrite` edited, only the first
    `keep` entries kept (with their data keys), and stored checkpoints of more than
    `drop_over` entries deleted (-1: all of them; None: none)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT idx, entry FROM ledger_entries ORDER BY idx")).all()
        conn.execute(text("DELETE FROM ledger_entries"))
        conn.execute(text("DELETE FROM ledger_nodes"))
        conn.execute(text("DELETE FROM ledger_head"))
        if keep is not None:
            conn.execute(text("DELETE FROM ledger_data_keys WHERE idx >= :k"), {"k": keep})
        if drop_over is not None:
            conn.execute(
                text("DELETE FROM ledger_checkpoints WHERE tree_size > :n"), {"n": drop_over}
            )
    engine.dispose()
    forger = LedgerStore(url)  # recreates an empty head, as an insider could
    with forger.writing() as conn:
        for idx, entry in rows[:keep]:
            data = bytes(entry)
            if idx == rewrite:
                data = data.replace(b"disclosed", b"refused!!")
            forger.append(conn, f"x{idx}", lambda _i, d=data: _rebuilt(d))
    forger.close()


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

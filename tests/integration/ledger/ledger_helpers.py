"""Shared pieces for the ledger integration tests (also run inside worker processes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from contracts.keys import SigningKey
from ledger import Ledger

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
    ledger: Ledger, number: int, *, force: str = "KENT", subject_number: int | None = None
) -> int:
    result = ledger.append_submission(
        submission(number, force),
        personal=personal(number),
        subject_identity=subject(number if subject_number is None else subject_number),
        case_ref=f"{force}-2025-{number:05d}",
        submitted_by=force,
        review_date=date(2031, 3, 1),
        idempotency_key=f"{force}:{number}",
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

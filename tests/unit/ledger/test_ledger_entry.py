"""Entry serialisation and the sealing of personal fields."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crossforce.ledger import sealing
from crossforce.ledger.entry import (
    LedgerEntry,
    PersonalDetails,
    PersonalParty,
    PublicSubmission,
    as_json_object,
    open_personal,
    seal_personal,
)
from crossforce.ledger.errors import LedgerError


def _entry(index: int, personal: dict[str, object], key: bytes) -> LedgerEntry:
    return LedgerEntry(
        index=index,
        kind="submission",
        case_ref="KENT-2025-0001",
        submitted_by="KENT",
        submitted_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
        review_date=date(2031, 3, 1),
        subject_key="ab" * 32,
        submission={"route": "right-to-ask"},
        personal=seal_personal(key, index, personal),
    )


def test_bytes_are_canonical_and_round_trip() -> None:
    key = sealing.new_data_key()
    entry = _entry(3, {"parties": []}, key)
    data = entry.to_bytes()
    assert LedgerEntry.from_bytes(data) == entry
    assert LedgerEntry.from_bytes(data).to_bytes() == data
    assert b'"index":3' in data and b"right-to-ask" in data


def test_personal_fields_are_not_in_the_clear() -> None:
    key = sealing.new_data_key()
    entry = _entry(0, {"parties": [{"names": ["Jane Doe"]}]}, key)
    assert b"Jane" not in entry.to_bytes()
    assert entry.personal is not None
    assert open_personal(key, 0, entry.personal) == {"parties": [{"names": ["Jane Doe"]}]}


def test_sealed_fields_are_bound_to_their_entry_and_key() -> None:
    key = sealing.new_data_key()
    entry = _entry(0, {"x": 1}, key)
    assert entry.personal is not None
    with pytest.raises(LedgerError):
        open_personal(key, 1, entry.personal)
    with pytest.raises(LedgerError):
        open_personal(sealing.new_data_key(), 0, entry.personal)


def test_wrapped_data_key_round_trip() -> None:
    master, data_key = sealing.new_data_key(), sealing.new_data_key()
    wrapped = sealing.wrap_data_key(master, data_key, 7)
    assert sealing.unwrap_data_key(master, wrapped, 7) == data_key
    with pytest.raises(LedgerError):
        sealing.unwrap_data_key(master, wrapped, 8)


def test_typed_models_become_plain_json() -> None:
    public = PublicSubmission(
        route="right-to-know",
        jurisdiction="EW",
        closing_stage="disclosed",
        closed_at=datetime(2025, 3, 1, tzinfo=UTC),
        requester_is_third_party=False,
    )
    personal = PersonalDetails(parties=[PersonalParty(role="B", date_of_birth=date(1980, 1, 1))])
    assert as_json_object(public)["closed_at"].startswith("2025-03-01")
    assert as_json_object(personal)["parties"][0]["date_of_birth"] == "1980-01-01"
    assert as_json_object({"when": date(2025, 1, 1)}) == {"when": "2025-01-01"}

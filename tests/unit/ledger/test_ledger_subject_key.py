"""Subject keys: one key per person, whichever force spells the name."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from crossforce.ledger import Ledger
from crossforce.ledger.errors import LedgerError
from crossforce.ledger.subject_key import is_complete, normalise_dob, normalise_name, subject_key

SECRET = bytes(range(32))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Seán", "SEAN"),
        ("O'Brien", "obrien"),
        ("Smith-Jones", "smith  jones"),
        ("  Zoë\tAnne ", "zoe anne"),
        ("Straße", "STRASSE"),
    ],
)
def test_spellings_normalise_alike(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_same_subject_same_key_across_spellings() -> None:
    one = {"surname": "O'Brien", "forenames": "Seán Patrick", "date_of_birth": "1980-01-02"}
    two = {"surname": "OBRIEN", "forenames": ["sean", "patrick"], "date_of_birth": date(1980, 1, 2)}
    assert subject_key(SECRET, one) == subject_key(SECRET, two)


def test_different_subjects_or_secrets_differ() -> None:
    one = {"surname": "Smith", "forenames": "John", "date_of_birth": "1980-01-02"}
    other = {**one, "date_of_birth": "1980-01-03"}
    assert subject_key(SECRET, one) != subject_key(SECRET, other)
    assert subject_key(SECRET, one) != subject_key(bytes(32), one)
    assert len(subject_key(SECRET, one)) == 64


def test_incomplete_identity_is_refused() -> None:
    with pytest.raises(LedgerError):
        subject_key(SECRET, {"surname": "Smith", "forenames": "John"})
    with pytest.raises(LedgerError):
        subject_key(SECRET, {"surname": "Smith", "forenames": "J", "date_of_birth": "2/1/80"})


@pytest.mark.parametrize("dob", [None, 19800102, 1980.0, ["1980-01-02"], datetime(1980, 1, 2)])
def test_bad_date_of_birth_is_a_ledger_error(dob: object) -> None:
    with pytest.raises(LedgerError):
        normalise_dob(dob)
    with pytest.raises(LedgerError):
        subject_key(SECRET, {"surname": "Smith", "forenames": "John", "date_of_birth": dob})


@pytest.mark.parametrize(
    "identity",
    [
        {"surname": "Smith", "forenames": "John", "date_of_birth": None},
        {"surname": "Smith", "forenames": "John"},
        {"surname": " ", "forenames": "John", "date_of_birth": "1980-01-02"},
        {"surname": "Smith", "forenames": [], "date_of_birth": "1980-01-02"},
        {"surname": None, "forenames": "John", "date_of_birth": "1980-01-02"},
    ],
)
def test_incomplete_identity_is_recognised(identity: dict[str, object]) -> None:
    assert not is_complete(identity)
    with pytest.raises(LedgerError):
        subject_key(SECRET, identity)


def test_complete_identity_is_recognised() -> None:
    assert is_complete({"surname": "Smith", "forenames": ["J"], "date_of_birth": date(1980, 1, 2)})


def test_name_without_date_of_birth_is_appended_without_a_subject_key(tmp_path: Path) -> None:
    """The contract allows a party with a name and no date of birth; its case must close."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger(url, None, SECRET, "crossforce.test/ledger", master_key=bytes(32)) as ledger:
        appended = ledger.append_submission(
            {"route": "right-to-ask"},
            personal={"parties": [{"role": "B", "names": ["John Smith"]}]},
            subject_identity={"surname": "Smith", "forenames": "John", "date_of_birth": None},
            case_ref="KENT-2025-00001",
            submitted_by="KENT",
            review_date=date(2031, 3, 1),
        )
        stored = ledger.entry(appended.index, by="DS Smith", justification="test")
        assert stored.subject_key is None
        assert stored.personal == {"parties": [{"role": "B", "names": ["John Smith"]}]}
        assert ledger.verify().ok
        with pytest.raises(LedgerError):  # a malformed date of birth is still refused
            ledger.append_submission(
                {"route": "right-to-ask"},
                personal={},
                subject_identity={"surname": "Smith", "forenames": "J", "date_of_birth": "2/1/80"},
                case_ref="KENT-2025-00002",
                submitted_by="KENT",
                review_date=date(2031, 3, 1),
            )

"""Subject keys: one key per person, whichever force spells the name."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import LedgerError
from ledger.subject_key import normalise_name, subject_key

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

"""Disposal shreds personal fields and leaves every proof verifying."""

from __future__ import annotations

from datetime import date

import pytest
from ledger_helpers import append, open_ledger, subject

from crossforce.contracts.keys import SigningKey
from crossforce.ledger import AccessAction, LedgerError


def test_disposal_keeps_verification_green_and_shreds_personal_fields(db_url: str) -> None:
    with open_ledger(db_url, SigningKey.generate("LEDGER")) as ledger:
        for number in range(12):
            append(ledger, number)
        before = ledger.checkpoint()
        proof_before = ledger.inclusion_proof(4, by="DS Smith", justification="audit")
        readable = ledger.entry(4, by="DS Smith", justification="MOPI review")
        assert readable.personal is not None
        assert readable.personal["parties"][0]["names"] == ["Alex Subject4"]
        assert ledger.due_for_review(date(2031, 3, 1)) == list(range(12))

        disposal = ledger.dispose(4, reason="MOPI review: no further risk", by="DI Jones")

        assert disposal.disposal_entry == 12
        shredded = ledger.entry(4, by="DS Smith", justification="check disposal")
        assert shredded.personal is None and shredded.disposed
        assert shredded.submission == readable.submission  # public fields stay
        record = ledger.entry(12, by="DS Smith", justification="check disposal")
        assert record.kind == "disposal" and record.disposal is not None
        assert record.disposal.disposed_index == 4
        assert ledger.due_for_review(date(2031, 3, 1)) == [i for i in range(12) if i != 4]

        report = ledger.verify()
        assert report.ok, report.problems
        assert proof_before.verify()
        after = ledger.checkpoint()
        assert ledger.consistency_proof(12, 13).verify()
        assert ledger.inclusion_proof(4, by="DS Smith", justification="audit").verify()
        assert before != after
        assert (
            ledger.find_by_subject(
                ledger.subject_key(subject(4)), by="DS Smith", justification="pattern check"
            )
            == []
        )
        erasures = [r for r in ledger.access_log() if r.action == AccessAction.ERASURE]
        assert [(r.entry_index, r.who) for r in erasures] == [(4, "DI Jones")]
        with pytest.raises(LedgerError):
            ledger.dispose(4, reason="again", by="DI Jones")
        with pytest.raises(LedgerError):
            ledger.dispose(12, reason="a disposal record", by="DI Jones")


def test_find_by_subject_spans_forces_and_is_logged(db_url: str) -> None:
    with open_ledger(db_url) as ledger:
        append(ledger, 1, force="KENT", subject_number=7)
        append(ledger, 2, force="ESSEX", subject_number=8)
        append(ledger, 3, force="ESSEX", subject_number=7)
        same = {"surname": " subject7 ", "forenames": "ALEX", "date_of_birth": "1985-06-01"}
        found = ledger.find_by_subject(
            ledger.subject_key(same), by="PC 123 KENT", justification="repeat request check"
        )
        assert [(e.index, e.submitted_by) for e in found] == [(0, "KENT"), (2, "ESSEX")]
        log = ledger.access_log()
        assert log[-1].who == "PC 123 KENT" and log[-1].justification == "repeat request check"
        with pytest.raises(LedgerError):
            ledger.find_by_subject(found[0].subject_key or "", by="PC 1", justification=" ")


def test_same_submission_twice_is_one_entry(db_url: str) -> None:
    with open_ledger(db_url) as ledger:
        assert append(ledger, 1) == 0
        assert append(ledger, 1) == 0
        assert ledger.size == 1

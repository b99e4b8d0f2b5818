"""Every attempt to read a case with a police employee among its parties is reported to the
employing force's PSD, and to no one else (002 L899–975; 003 §6.14; decision 0051)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crossforce.broker.domain.access import (
    CaseRead,
    ReadChannel,
    must_report,
    one_line,
    police_employers,
    psd_reports,
    read_allowed,
)
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.parties import Party, PartyRole

from .builders import applicant_a, at, opened, subject_b


def _officer_of(force: str) -> Party:
    return Party("B", PartyRole.B, "KENT", police_employee_of=force)


def _read(case_ref: str = "CF-1", **changes: object) -> CaseRead:
    read = CaseRead(
        report_id="0195a2c4-3e1b-7c8d-9f20-6a1b2c3d4e5f",
        case_ref=case_ref,
        reader_force="KENT",
        reader="kent.sup",
        channel=ReadChannel.WEB,
        allowed=True,
        justification="supervision",
        read_at=at(2),
    )
    return replace(read, **changes)  # type: ignore[arg-type]


def test_each_employing_forces_psd_alone_gets_its_own_employees_by_id() -> None:
    case, _ = opened(
        applicant_a("KENT"),
        Party("B", PartyRole.B, "ESSEX", police_employee_of="SURREY"),
        Party("C", PartyRole.C, "KENT", police_employee_of="SURREY"),
        Party("D", PartyRole.CHILD, "KENT", police_employee_of="PSOS"),
    )
    assert must_report(case)
    assert police_employers(case) == {"SURREY": ("B", "C"), "PSOS": ("D",)}
    reports = psd_reports(case, _read())
    assert [(r.psd, r.employing_force, r.party_ids) for r in reports] == [
        ("PSOS_PSD", "PSOS", ("D",)),
        ("SURREY_PSD", "SURREY", ("B", "C")),
    ]
    # Whoever reads, the receiving and co-ordinating forces and the reader's own DVDS
    # system are never among the recipients: only PSDs.
    assert {r.psd for r in reports} == {"PSOS_PSD", "SURREY_PSD"}


def test_the_readers_own_psd_is_told_when_its_force_employs_a_party() -> None:
    case, _ = opened(
        applicant_a("KENT"), Party("B", PartyRole.B, "KENT", police_employee_of="KENT")
    )
    [report] = psd_reports(case, _read(reader_force="KENT"))
    assert (report.psd, report.read.reader_force) == ("KENT_PSD", "KENT")


def test_a_case_without_a_police_employee_is_reported_to_no_one() -> None:
    case, _ = opened(applicant_a("KENT"), subject_b("ESSEX"))
    assert not must_report(case)
    assert police_employers(case) == {}
    assert psd_reports(case, _read()) == []


def test_a_refused_read_is_reported_as_refused() -> None:
    case, _ = opened(
        applicant_a("KENT"),
        Party("B", PartyRole.B, "ESSEX", police_employee_of="SURREY"),
        coordinating="ESSEX",
    )
    # The co-ordinating and receiving forces read; a force with no part is refused, and the
    # operator (no force) reads every case.
    assert read_allowed(case, "ESSEX") and read_allowed(case, "KENT")
    assert not read_allowed(case, "METROPOLITAN")
    assert read_allowed(case, None)
    [report] = psd_reports(case, _read(reader_force="METROPOLITAN", allowed=False))
    assert report.read.allowed is False and report.read.reader_force == "METROPOLITAN"


def test_a_read_of_another_case_is_not_reported_against_this_one() -> None:
    case, _ = opened(
        applicant_a("KENT"), Party("B", PartyRole.B, "KENT", police_employee_of="KENT")
    )
    with pytest.raises(ValueError, match="CF-2"):
        psd_reports(case, _read("CF-2"))


@pytest.mark.parametrize(
    "changes",
    [{"reader": " "}, {"justification": ""}, {"reader": "a\nb"}, {"justification": "x" * 201}],
)
def test_a_read_says_who_and_why_in_one_line(changes: dict[str, str]) -> None:
    with pytest.raises(DomainRefusal) as refused:
        _read(**changes)
    assert refused.value.rule == "s62-who-and-why"


def test_one_line_folds_whitespace() -> None:
    assert one_line("  supervision\n of  the case ") == "supervision of the case"

"""The final intelligence report is checked against the case, and every closure has one,
including an application routed away at initial contact [001 ¶19, ¶92–93]."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.opening import open_case
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.records import FinalReport, ReportedParty
from crossforce.broker.domain.routes import RequestType, Route
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.contracts.errors import ReasonCode

from .builders import at, only

C_APPLICANT = Party("C", PartyRole.C, "KENT", is_applicant=True, identity_verified=True)
A = Party("A", PartyRole.A, "KENT")
B = Party("B", PartyRole.B, "ESSEX", subject_key="b")
TRUE_REPORT = FinalReport(
    route=Route.RIGHT_TO_ASK,
    request_type=RequestType.GENUINE,
    receiving_force="KENT",
    parties=(
        ReportedParty("C", PartyRole.C, True),
        ReportedParty("A", PartyRole.A, False),
        ReportedParty("B", PartyRole.B, False),
    ),
    requester_is_third_party=True,
    forces_involved=("KENT", "ESSEX"),
)


def _case(request_type: RequestType = RequestType.GENUINE) -> Case:
    case, _ = open_case(
        c.OpenCase(
            case_ref="CF-1",
            actor="KENT",
            at=at(),
            receiving_force="KENT",
            coordinating_force="KENT",
            route=Route.RIGHT_TO_ASK,
            parties=(C_APPLICANT, A, B),
            request_type=request_type,
        )
    )
    return case


def _submit(case: Case, report: FinalReport) -> list[e.DomainEvent]:
    return apply_command(
        case,
        c.SubmitIntelligence(
            case_ref="CF-1", actor="KENT", at=at(5), summary="filed", outcome="x", report=report
        ),
    )


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (replace(TRUE_REPORT, parties=TRUE_REPORT.parties[:2]), "parties: leaves out B"),
        (replace(TRUE_REPORT, requester_is_third_party=False), "requester_is_third_party"),
        (
            replace(
                TRUE_REPORT,
                parties=(ReportedParty("C", PartyRole.A, True), *TRUE_REPORT.parties[1:]),
            ),
            "parties[C].role",
        ),
        (replace(TRUE_REPORT, route=Route.RIGHT_TO_KNOW), "request.route"),
        (replace(TRUE_REPORT, receiving_force="SURREY"), "request.receiving_force"),
        (replace(TRUE_REPORT, request_type=RequestType.DBS_CHECK), "request.application_category"),
        (replace(TRUE_REPORT, forces_involved=("ESSEX",)), "forces_involved"),
    ],
)
def test_a_report_untrue_to_the_case_is_refused_naming_the_field(
    report: FinalReport, field: str
) -> None:
    case = _case()
    with pytest.raises(DomainRefusal) as refused:
        _submit(case, report)
    assert (refused.value.code, refused.value.rule) == (
        ReasonCode.RULE_VIOLATION,
        "final-report-mismatch",
    )
    assert refused.value.message.startswith(field)
    assert not any(p.kind is PartKind.INTELLIGENCE_SUBMISSION for p in case.parts)


def test_a_true_report_is_filed() -> None:
    case = _case()
    submitted = only(_submit(case, TRUE_REPORT), e.IntelligenceSubmitted)
    assert isinstance(submitted, e.IntelligenceSubmitted) and submitted.third_party_requester


def test_an_application_routed_away_still_files_its_final_report_once() -> None:
    case = _case(RequestType.SUBJECT_ACCESS_REQUEST)
    assert case.status is CaseStatus.CLOSED and case.parts == []
    report = replace(TRUE_REPORT, request_type=RequestType.SUBJECT_ACCESS_REQUEST)
    only(_submit(case, report), e.IntelligenceSubmitted)
    [part] = case.parts
    assert (part.kind, part.status) == (PartKind.INTELLIGENCE_SUBMISSION, PartStatus.COMPLETED)
    assert case.status is CaseStatus.CLOSED
    # Only the report: nothing else reopens it, and the report is filed once.
    for command in (
        c.RequestEnquiry(case_ref="CF-1", actor="KENT", at=at(6), party_id="B"),
        c.SubmitIntelligence(case_ref="CF-1", actor="KENT", at=at(6), summary="y", outcome="y"),
    ):
        with pytest.raises(DomainRefusal) as refused:
            apply_command(case, command)
        assert refused.value.rule == "case-closed"

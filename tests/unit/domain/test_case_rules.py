"""Rules that run across the whole case: immediate risk, crimes, markers, delay, closure."""

from __future__ import annotations

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import applicant_may_be_told, audience
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.markers import SubjectMarkers, markers_from_events
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.rules import DomainSettings
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.contracts.errors import ReasonCode

from .builders import applicant_a, at, names, only, opened, subject_b


def _three_force_case() -> tuple[Case, str]:
    case, _ = opened(
        applicant_a("ESSEX"), subject_b("SURREY"), receiving="KENT", coordinating="ESSEX"
    )
    [requested] = apply_command(
        case, c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B")
    )
    return case, requested.part_id or ""


def test_immediate_risk_from_any_participant_is_priority_for_everyone_and_the_case_goes_on() -> (
    None
):
    case, part_id = _three_force_case()
    [risk] = apply_command(
        case,
        c.RaiseImmediateRisk(
            case_ref="CF-1",
            actor="SURREY",
            at=at(2),
            summary="B seen at A's address",
            part_id=part_id,
        ),
    )
    assert isinstance(risk, e.ImmediateRiskRaised) and risk.priority
    assert audience(case, risk) == {"KENT", "ESSEX", "SURREY"}
    assert case.status is CaseStatus.OPEN and case.priority
    # The normal flow carries on, now flagged priority.
    [ack] = apply_command(
        case, c.AcknowledgeEnquiry(case_ref="CF-1", actor="SURREY", at=at(3), part_id=part_id)
    )
    assert ack.priority
    # Accepted again, in any open state, even from the receiving force.
    apply_command(
        case, c.RaiseImmediateRisk(case_ref="CF-1", actor="KENT", at=at(4), summary="call")
    )
    assert len(case.immediate_risks) == 2


def test_immediate_risk_from_a_force_outside_the_case_is_refused() -> None:
    case, _ = _three_force_case()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case, c.RaiseImmediateRisk(case_ref="CF-1", actor="DORSET", at=at(2), summary="x")
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    assert not case.priority


def test_a_linked_crime_runs_alongside_the_case() -> None:
    case, part_id = _three_force_case()
    [linked] = apply_command(
        case,
        c.LinkCrime(
            case_ref="CF-1",
            actor="SURREY",
            at=at(2),
            crime_reference="CR/123",
            investigating_force="SURREY",
        ),
    )
    assert isinstance(linked, e.CrimeLinked)
    assert audience(case, linked) == {"ESSEX", "SURREY"}
    assert case.status is CaseStatus.OPEN
    assert [crime.crime_reference for crime in case.linked_crimes] == ["CR/123"]
    apply_command(
        case, c.AcknowledgeEnquiry(case_ref="CF-1", actor="SURREY", at=at(3), part_id=part_id)
    )
    assert case.part(part_id).status is PartStatus.IN_PROGRESS


def test_a_malicious_application_marker_is_seen_by_later_requests_from_any_force() -> None:
    case, _ = _three_force_case()
    with pytest.raises(DomainRefusal) as no_evidence:
        apply_command(
            case, c.MarkMaliciousApplication(case_ref="CF-1", actor="ESSEX", at=at(2), evidence="")
        )
    assert no_evidence.value.rule == "evidence-required"
    events = apply_command(
        case,
        c.MarkMaliciousApplication(
            case_ref="CF-1", actor="ESSEX", at=at(2), evidence="applicant admitted fabrication"
        ),
    )
    marked = only(events, e.MaliciousApplicationMarked)
    assert isinstance(marked, e.MaliciousApplicationMarked)
    assert marked.subject_key == "subject-b-1"
    markers = SubjectMarkers().with_marker(markers_from_events(events)[0])
    assert len(markers) == 1

    later, later_events = opened(
        applicant_a("DORSET"),
        subject_b("SUSSEX"),
        receiving="DORSET",
        coordinating="DORSET",
        ref="CF-2",
        context=DomainContext(markers=markers),
    )
    found = only(later_events, e.MaliciousMarkerFound)
    assert isinstance(found, e.MaliciousMarkerFound)
    assert (found.marked_in_case, found.marked_by) == ("CF-1", "ESSEX")
    assert [m.evidence for m in later.markers_seen] == ["applicant admitted fabrication"]


def test_a_delay_is_notified_and_may_reach_the_applicant() -> None:
    case, part_id = _three_force_case()
    [delay] = apply_command(
        case,
        c.NotifyDelay(
            case_ref="CF-1", actor="SURREY", at=at(2), part_id=part_id, reason="PNC down"
        ),
    )
    assert audience(case, delay) == {"ESSEX", "SURREY"}
    assert applicant_may_be_told(case, delay)
    with pytest.raises(DomainRefusal) as refused:
        apply_command(case, c.NotifyDelay(case_ref="CF-1", actor="KENT", at=at(2), reason="x"))
    assert refused.value.code is ReasonCode.NOT_AUTHORISED


def test_closure_needs_an_intelligence_submission() -> None:
    case, part_id = _three_force_case()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case, c.CloseCase(case_ref="CF-1", actor="ESSEX", at=at(5), reason="withdrawn")
        )
    assert refused.value.rule == "intelligence-submission-required"
    assert case.status is CaseStatus.OPEN
    apply_command(
        case,
        c.SubmitIntelligence(
            case_ref="CF-1", actor="ESSEX", at=at(5), summary="request withdrawn", outcome="none"
        ),
    )
    events = apply_command(
        case, c.CloseCase(case_ref="CF-1", actor="ESSEX", at=at(6), reason="withdrawn")
    )
    assert names(events) == ["part-cancelled", "case-closed"]
    assert case.part(part_id).status is PartStatus.CANCELLED
    assert audience(case, events[-1]) == {"KENT", "ESSEX", "SURREY"}
    assert case.parts_needing_timers() == []


def test_the_coordinating_force_files_the_intelligence_by_default() -> None:
    case, _ = _three_force_case()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.SubmitIntelligence(
                case_ref="CF-1", actor="SURREY", at=at(5), summary="s", outcome="o"
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    [submitted] = apply_command(
        case,
        c.SubmitIntelligence(case_ref="CF-1", actor="ESSEX", at=at(5), summary="s", outcome="o"),
    )
    assert isinstance(submitted, e.IntelligenceSubmitted)
    assert submitted.submitted_by == "ESSEX" and not submitted.third_party_requester
    part = case.part(submitted.part_id or "")
    assert (part.kind, part.owner) == (PartKind.INTELLIGENCE_SUBMISSION, "ESSEX")
    with pytest.raises(DomainRefusal) as twice:
        apply_command(
            case,
            c.SubmitIntelligence(
                case_ref="CF-1", actor="ESSEX", at=at(6), summary="s", outcome="o"
            ),
        )
    assert twice.value.rule == "intelligence-already-submitted"


def test_the_submitter_can_be_the_owner_of_the_intelligence_part_when_configured() -> None:
    case, _ = opened(
        applicant_a("ESSEX", verified=False, anonymous=True),
        subject_b("SURREY"),
        coordinating="ESSEX",
    )
    context = DomainContext(settings=DomainSettings(coordinating_force_files_intelligence=False))
    [submitted] = apply_command(
        case,
        c.SubmitIntelligence(case_ref="CF-1", actor="ESSEX", at=at(5), summary="s", outcome="o"),
        context,
    )
    assert case.part(submitted.part_id or "").status is PartStatus.COMPLETED


def test_only_the_coordinating_force_closes_the_case() -> None:
    case, _ = _three_force_case()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.CloseCase(
                case_ref="CF-1",
                actor="KENT",
                at=at(5),
                reason="r",
                intelligence=c.SubmitIntelligence(
                    case_ref="CF-1", actor="KENT", at=at(5), summary="s", outcome="o"
                ),
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    assert not any(p.kind is PartKind.INTELLIGENCE_SUBMISSION for p in case.parts)

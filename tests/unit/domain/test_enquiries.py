"""Enquiries for parties in other forces: request, acknowledge, decline, re-assign, result."""

from __future__ import annotations

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import audience
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.parts import PartStatus
from crossforce.contracts.errors import ReasonCode

from .builders import applicant_a, at, names, opened, subject_b


def _with_enquiry(home: str = "SURREY") -> tuple[Case, str]:
    case, _ = opened(applicant_a("ESSEX"), subject_b(home), coordinating="ESSEX")
    [event] = apply_command(
        case, c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B")
    )
    assert event.part_id is not None
    return case, event.part_id


def test_only_the_coordinating_force_requests_an_enquiry() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    with pytest.raises(DomainRefusal) as refused:
        apply_command(case, c.RequestEnquiry(case_ref="CF-1", actor="KENT", at=at(1), party_id="B"))
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    assert refused.value.rule == "not-coordinating-force"
    assert case.parts_owned_by("SURREY") == []


def test_only_the_assigned_force_sends_the_result() -> None:
    case, part_id = _with_enquiry()
    apply_command(
        case, c.AcknowledgeEnquiry(case_ref="CF-1", actor="SURREY", at=at(2), part_id=part_id)
    )
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordEnquiryResult(
                case_ref="CF-1", actor="KENT", at=at(3), part_id=part_id, concern=True, summary="x"
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    [result] = apply_command(
        case,
        c.RecordEnquiryResult(
            case_ref="CF-1", actor="SURREY", at=at(3), part_id=part_id, concern=True, summary="PNC"
        ),
    )
    assert isinstance(result, e.EnquiryResultRecorded) and result.concern
    assert case.part(part_id).status is PartStatus.COMPLETED
    assert audience(case, result) == {"ESSEX", "SURREY"}


def test_a_result_before_acknowledgement_is_an_invalid_transition() -> None:
    case, part_id = _with_enquiry()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordEnquiryResult(
                case_ref="CF-1",
                actor="SURREY",
                at=at(2),
                part_id=part_id,
                concern=False,
                summary="",
            ),
        )
    assert refused.value.code is ReasonCode.INVALID_TRANSITION


def test_a_declined_enquiry_must_be_reassigned_by_the_coordinating_force() -> None:
    case, part_id = _with_enquiry()
    apply_command(
        case,
        c.DeclineEnquiry(
            case_ref="CF-1", actor="SURREY", at=at(2), part_id=part_id, reason="B not known here"
        ),
    )
    part = case.part(part_id)
    assert (part.status, part.owner) == (PartStatus.DECLINED, "SURREY")
    # The declining force cannot pick it back up; only re-assignment moves it on.
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case, c.AcknowledgeEnquiry(case_ref="CF-1", actor="SURREY", at=at(3), part_id=part_id)
        )
    assert refused.value.code is ReasonCode.INVALID_TRANSITION
    with pytest.raises(DomainRefusal) as not_coord:
        apply_command(
            case,
            c.ReassignEnquiry(
                case_ref="CF-1",
                actor="SURREY",
                at=at(3),
                part_id=part_id,
                to_force="SUSSEX",
                reason="r",
            ),
        )
    assert not_coord.value.code is ReasonCode.NOT_AUTHORISED
    [moved] = apply_command(
        case,
        c.ReassignEnquiry(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(3),
            part_id=part_id,
            to_force="SUSSEX",
            reason="PND",
        ),
    )
    assert isinstance(moved, e.EnquiryReassigned)
    assert (moved.from_force, moved.to_force) == ("SURREY", "SUSSEX")
    assert audience(case, moved) == {"ESSEX", "SURREY", "SUSSEX"}
    assert (part.status, part.owner) == (PartStatus.REQUESTED, "SUSSEX")
    assert [(h.from_owner, h.to_owner) for h in part.ownership_history()] == [
        (None, "SURREY"),
        ("SURREY", "SUSSEX"),
    ]
    assert [h.action for h in part.history] == ["request-enquiry", "decline", "reassign"]


def test_declining_needs_a_reason() -> None:
    case, part_id = _with_enquiry()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.DeclineEnquiry(
                case_ref="CF-1", actor="SURREY", at=at(2), part_id=part_id, reason=" "
            ),
        )
    assert refused.value.rule == "reason-required"


def test_correcting_a_partys_home_force_reassigns_the_enquiry() -> None:
    case, part_id = _with_enquiry()
    apply_command(
        case, c.AcknowledgeEnquiry(case_ref="CF-1", actor="SURREY", at=at(2), part_id=part_id)
    )
    events = apply_command(
        case,
        c.CorrectPartyHomeForce(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(3),
            party_id="B",
            home_force="HAMPSHIRE",
            reason="moved",
        ),
    )
    assert names(events) == ["party-home-force-corrected", "enquiry-reassigned"]
    part = case.part(part_id)
    assert (part.owner, part.status) == ("HAMPSHIRE", PartStatus.REQUESTED)
    assert case.party("B").home_force == "HAMPSHIRE"


def test_correcting_a_party_into_the_coordinating_force_cancels_the_enquiry() -> None:
    case, part_id = _with_enquiry()
    events = apply_command(
        case,
        c.CorrectPartyHomeForce(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(3),
            party_id="B",
            home_force="ESSEX",
            reason="typo",
        ),
    )
    assert names(events) == ["party-home-force-corrected", "part-cancelled"]
    assert case.part(part_id).status is PartStatus.CANCELLED
    assert case.part(part_id).owner == "SURREY"


def test_the_applicant_moves_only_by_coordination_transfer() -> None:
    case, _ = _with_enquiry()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.CorrectPartyHomeForce(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(3),
                party_id="A",
                home_force="KENT",
                reason="m",
            ),
        )
    assert refused.value.rule == "applicant-moves-by-coordination-transfer"


def test_a_refused_command_leaves_the_case_untouched() -> None:
    case, part_id = _with_enquiry()
    before = case.to_dict()
    with pytest.raises(DomainRefusal):
        apply_command(
            case,
            c.ReassignEnquiry(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(3),
                part_id=part_id,
                to_force="ESSEX",
                reason="r",
            ),
        )
    assert case.to_dict() == before
    apply_command(
        case, c.AcknowledgeEnquiry(case_ref="CF-1", actor="SURREY", at=at(2), part_id=part_id)
    )
    assert case.version == before["version"] + 1


def test_a_second_open_enquiry_for_the_same_party_is_refused() -> None:
    case, _ = _with_enquiry()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case, c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=at(2), party_id="B")
        )
    assert refused.value.rule == "enquiry-already-open"


def test_an_enquiry_goes_only_to_the_force_the_party_lives_in() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    ask_psos = c.RequestEnquiry(
        case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B", responding_force="PSOS"
    )
    with pytest.raises(DomainRefusal) as refused:
        apply_command(case, ask_psos)
    assert refused.value.code is ReasonCode.RULE_VIOLATION
    assert refused.value.rule == "enquiry-party-elsewhere"
    assert case.parts_owned_by("PSOS") == []
    ask_surrey = c.RequestEnquiry(
        case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B", responding_force="SURREY"
    )
    [event] = apply_command(case, ask_surrey)
    assert isinstance(event, e.EnquiryRequested) and event.to_force == "SURREY"

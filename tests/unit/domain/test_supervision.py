"""What supervisors do about a part: acknowledge an escalation, chase the owner, reassign the
part within the owning force.

- Only the force a notice of the ladder was sent to acknowledges it, once; acknowledging
  changes no part, due date or owner (domain.md §8; 000 §3.10.7; 002 L144–146, L457–62).
- Only the co-ordinating force chases, and only another force's open, timed part
  (000 §3.10.7).
- Only the owner reassigns a part within itself; the owner force stays (domain.md §1.2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import audience
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.parts import PartStatus
from crossforce.broker.domain.views import consultation_view
from crossforce.contracts.errors import ReasonCode

from .builders import applicant_a, at, opened, subject_b

NOTICE = "0195a000-0000-7000-8000-000000000042"


def _case() -> tuple[Case, str]:
    """Essex co-ordinates; Surrey owns the enquiry on B."""
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    [requested] = apply_command(
        case,
        c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B", due_at=at(200)),
    )
    assert requested.part_id is not None
    return case, requested.part_id


def _refused(code: ReasonCode, rule: str, call: Callable[[], Any]) -> None:
    with pytest.raises(DomainRefusal) as refused:
        call()
    assert (refused.value.code, refused.value.rule) == (code, rule)


def _ack(part_id: str | None, actor: str, **changes: Any) -> c.AcknowledgeEscalation:
    fields: dict[str, Any] = {
        "case_ref": "CF-1",
        "actor": actor,
        "at": at(300),
        "escalation_id": NOTICE,
        "part_id": part_id,
        "deadline": "responding-force-answer",
        "level": 3,
        "notice": "escalation-raised",
        "sent_to": "ESSEX",
        "raised_at": at(290),
        "acted_by": "essex.senior",
    }
    return c.AcknowledgeEscalation(**{**fields, **changes})


# -- acknowledging an escalation ---------------------------------------------------------------
def test_only_the_force_the_escalation_went_to_acknowledges_it() -> None:
    case, part_id = _case()
    # Surrey owns the late part, but the senior officer's escalation went to Essex.
    _refused(
        ReasonCode.NOT_AUTHORISED,
        "escalation-not-sent-to-you",
        lambda: apply_command(case, _ack(part_id, "SURREY")),
    )
    [event] = apply_command(case, _ack(part_id, "ESSEX"))
    assert isinstance(event, e.EscalationAcknowledged)
    assert (event.level, event.notice, event.part_owner) == (3, "escalation-raised", "SURREY")
    [record] = case.escalation_acknowledgements
    assert (record.acknowledged_by, record.acknowledged_at, record.acted_by) == (
        "ESSEX",
        at(300),
        "essex.senior",
    )


def test_a_notice_is_acknowledged_once_and_a_reminder_is_not_an_escalation() -> None:
    case, part_id = _case()
    apply_command(case, _ack(part_id, "ESSEX"))
    _refused(
        ReasonCode.RULE_VIOLATION,
        "escalation-already-acknowledged",
        lambda: apply_command(case, _ack(part_id, "ESSEX", at=at(301))),
    )
    _refused(
        ReasonCode.RULE_VIOLATION,
        "not-an-escalation",
        lambda: apply_command(
            case,
            _ack(
                part_id, "SURREY", escalation_id="r1", notice="deadline-reminder", sent_to="SURREY"
            ),
        ),
    )


def test_acknowledging_changes_no_part_due_date_or_owner() -> None:
    case, part_id = _case()
    before = case.part(part_id)
    status, owner, due, history = before.status, before.owner, before.due_at, len(before.history)
    # The owner acknowledges its own overdue notice; the co-ordinating force hears of it.
    [event] = apply_command(
        case, _ack(part_id, "SURREY", notice="overdue-notice", level=2, sent_to="SURREY")
    )
    part = case.part(part_id)
    assert (part.status, part.owner, part.due_at, len(part.history)) == (
        status,
        owner,
        due,
        history,
    )
    assert audience(case, event) == {"ESSEX", "SURREY"}


def test_a_case_clock_escalation_names_no_part_and_stays_with_the_coordinating_force() -> None:
    case, _ = _case()
    [event] = apply_command(case, _ack(None, "ESSEX", deadline="ew-right-to-ask.initial-checks"))
    assert event.part_id is None
    assert audience(case, event) == {"ESSEX"}


def test_acknowledgements_are_seen_by_the_coordinating_force_and_about_ones_own_parts() -> None:
    case, part_id = _case()
    apply_command(case, _ack(part_id, "ESSEX"))
    assert len(consultation_view(case, "ESSEX").escalation_acknowledgements) == 1
    # Surrey sees it: it is about Surrey's part.
    assert len(consultation_view(case, "SURREY").escalation_acknowledgements) == 1
    # Kent, the receiving force that passed the case on, does not.
    assert consultation_view(case, "KENT").escalation_acknowledgements == ()


# -- chasing the owner ---------------------------------------------------------------------------
def _chase(part_id: str, actor: str = "ESSEX", note: str = "") -> c.ChasePart:
    return c.ChasePart(case_ref="CF-1", actor=actor, at=at(250), part_id=part_id, note=note)


def test_only_the_coordinating_force_chases_and_the_owner_is_told() -> None:
    case, part_id = _case()
    _refused(
        ReasonCode.NOT_AUTHORISED,
        "not-coordinating-force",
        lambda: apply_command(case, _chase(part_id, actor="SURREY")),
    )
    [event] = apply_command(case, _chase(part_id, note="  the applicant has asked twice  "))
    assert isinstance(event, e.PartChased) and event.note == "the applicant has asked twice"
    assert audience(case, event) == {"ESSEX", "SURREY"}
    part = case.part(part_id)
    assert (part.history[-1].action, part.history[-1].note) == (
        "chase",
        "the applicant has asked twice",
    )
    # Nothing moves: status, owner and due date are as they were.
    assert (part.status, part.owner, part.due_at) == (PartStatus.REQUESTED, "SURREY", at(200))


def test_a_force_does_not_chase_itself_nor_a_finished_or_declined_part() -> None:
    case, part_id = _case()
    liaison = next(p.part_id for p in case.parts if p.owner == "ESSEX")
    _refused(
        ReasonCode.RULE_VIOLATION, "chase-own-part", lambda: apply_command(case, _chase(liaison))
    )
    apply_command(
        case,
        c.DeclineEnquiry(
            case_ref="CF-1", actor="SURREY", at=at(10), part_id=part_id, reason="not in area"
        ),
    )
    # A declined enquiry waits for the co-ordinating force to re-assign it: nothing to chase.
    _refused(
        ReasonCode.INVALID_TRANSITION,
        "part-transition",
        lambda: apply_command(case, _chase(part_id)),
    )


# -- reassigning within the owning force ---------------------------------------------------------
def _assign(part_id: str, actor: str = "SURREY", to: str = "SURREY-DA-2") -> c.ReassignWithinForce:
    return c.ReassignWithinForce(
        case_ref="CF-1",
        actor=actor,
        at=at(20),
        part_id=part_id,
        assigned_to=to,
        assignee_kind="team",
    )


def test_only_the_owner_reassigns_a_part_within_itself() -> None:
    case, part_id = _case()
    _refused(
        ReasonCode.NOT_AUTHORISED,
        "not-part-owner",
        lambda: apply_command(case, _assign(part_id, actor="ESSEX")),
    )
    [event] = apply_command(case, _assign(part_id))
    assert isinstance(event, e.PartReassignedWithinForce)
    assert (event.assigned_to, event.previously) == ("SURREY-DA-2", None)
    # The co-ordinating force, which oversees the case, hears of it.
    assert audience(case, event) == {"ESSEX", "SURREY"}
    part = case.part(part_id)
    assert (part.owner, part.status, part.due_at) == ("SURREY", PartStatus.REQUESTED, at(200))
    assert (part.assigned_to, part.assignee_kind) == ("SURREY-DA-2", "team")
    assert part.history[-1].action == "reassign-within-force"
    assert part.history[-1].from_owner == part.history[-1].to_owner == "SURREY"
    _refused(
        ReasonCode.RULE_VIOLATION,
        "assignee-unchanged",
        lambda: apply_command(case, _assign(part_id)),
    )
    [again] = apply_command(case, _assign(part_id, to="SURREY-PC-4711"))
    assert isinstance(again, e.PartReassignedWithinForce) and again.previously == "SURREY-DA-2"


def test_the_assignee_is_cleared_when_the_part_moves_to_another_force() -> None:
    case, part_id = _case()
    apply_command(case, _assign(part_id))
    apply_command(
        case,
        c.ReassignEnquiry(
            case_ref="CF-1", actor="ESSEX", at=at(30), part_id=part_id, to_force="KENT", reason="x"
        ),
    )
    part = case.part(part_id)
    assert (part.owner, part.assigned_to, part.assignee_kind) == ("KENT", None, None)
    # Surrey's record of what it held shows no officer or team of anyone's.
    [held] = consultation_view(case, "SURREY").parts
    assert held.assigned_to is None


def test_a_declined_or_finished_part_is_not_reassigned_within_the_force() -> None:
    case, part_id = _case()
    apply_command(
        case,
        c.DeclineEnquiry(
            case_ref="CF-1", actor="SURREY", at=at(10), part_id=part_id, reason="not in area"
        ),
    )
    _refused(
        ReasonCode.INVALID_TRANSITION,
        "part-transition",
        lambda: apply_command(case, _assign(part_id)),
    )


def test_the_new_records_survive_a_round_trip_through_json() -> None:
    case, part_id = _case()
    apply_command(case, _assign(part_id))
    apply_command(case, _ack(part_id, "ESSEX"))
    again = Case.from_dict(case.to_dict())
    assert again == case
    assert again.part(part_id).assigned_to == "SURREY-DA-2"

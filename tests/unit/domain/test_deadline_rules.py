"""Deadlines cannot be abused: a sender's due date is checked, and an extension is agreed.

A due date already past, or sooner than the SLA policy allows without immediate risk, would let
one force escalate another at once (000 §3.10.7; 002 L144–146). An agreed extension moves the
due date and is recorded on the part (001 fn4).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import audience
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command
from crossforce.contracts.errors import ReasonCode

from .builders import applicant_a, at, opened, subject_b

POLICY_DUE = at(24 * 7)  # what the translator computes from the SLA policy


def _request(case: Case, due_hours: float, **extra: object) -> list[e.DomainEvent]:
    return apply_command(
        case,
        c.RequestEnquiry(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(1),
            party_id="B",
            due_at=at(due_hours),
            earliest_due_at=POLICY_DUE,
            **extra,  # type: ignore[arg-type]
        ),
    )


def _case() -> Case:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    return case


def _refused(rule: str, call: object) -> DomainRefusal:
    assert callable(call)
    with pytest.raises(DomainRefusal) as refused:
        call()
    assert refused.value.code is ReasonCode.RULE_VIOLATION
    assert refused.value.rule == rule
    return refused.value


def test_a_due_date_already_past_is_refused_and_no_part_is_made() -> None:
    case = _case()
    _refused("due-at-in-past", lambda: _request(case, -24))
    _refused("due-at-in-past", lambda: _request(case, 1))  # due at the very moment it is sent
    assert case.parts_owned_by("SURREY") == []


def test_a_due_date_sooner_than_the_policy_needs_immediate_risk() -> None:
    case = _case()
    refusal = _refused("due-at-shorter-than-policy", lambda: _request(case, 24))
    assert "no immediate risk" in refusal.message
    apply_command(
        case,
        c.RaiseImmediateRisk(case_ref="CF-1", actor="ESSEX", at=at(1), summary="threat to kill"),
    )
    [requested] = _request(case, 24)
    assert isinstance(requested, e.EnquiryRequested) and requested.due_at == at(24)


def test_a_due_date_at_or_after_the_policy_is_accepted() -> None:
    case = _case()
    [requested] = _request(case, 24 * 10)
    assert case.part(requested.part_id or "").due_at == at(240)


def _enquiry(case: Case) -> str:
    [requested] = _request(case, 24 * 7)
    assert requested.part_id is not None
    return requested.part_id


def _extend(case: Case, part_id: str, due_hours: float, **changes: str) -> list[e.DomainEvent]:
    values = {"actor": "ESSEX", "agreed_with": "SURREY", "reason": "partner records awaited"}
    values.update(changes)
    return apply_command(
        case,
        c.ExtendDeadline(
            case_ref="CF-1", at=at(48), part_id=part_id, due_at=at(due_hours), **values
        ),
    )


def test_an_agreed_extension_moves_the_due_date_and_shows_in_the_part_history() -> None:
    case = _case()
    part_id = _enquiry(case)
    [extended] = _extend(case, part_id, 24 * 14)
    assert isinstance(extended, e.DeadlineExtended)
    assert (extended.from_due_at, extended.due_at) == (POLICY_DUE, at(24 * 14))
    part = case.part(part_id)
    assert part.due_at == at(24 * 14)
    last = part.history[-1]
    assert (last.action, last.note, last.from_status, last.to_status) == (
        "extend-deadline",
        "partner records awaited",
        part.status,
        part.status,
    )
    # The owner and the co-ordinating force hear of it; nobody else.
    assert audience(case, extended) == {"ESSEX", "SURREY"}


def test_an_extension_must_be_later_agreed_with_the_owner_and_sent_by_the_coordinator() -> None:
    case = _case()
    part_id = _enquiry(case)
    _refused("extension-not-later", lambda: _extend(case, part_id, 24 * 6))
    _refused(
        "extension-not-agreed-with-owner", lambda: _extend(case, part_id, 400, agreed_with="KENT")
    )
    with pytest.raises(DomainRefusal) as refused:
        _extend(case, part_id, 400, actor="SURREY")
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    with pytest.raises(DomainRefusal) as refused:
        _extend(case, part_id, 400, reason=" ")
    assert refused.value.rule == "reason-required"
    assert case.part(part_id).due_at == POLICY_DUE


def test_a_delay_notice_names_the_late_part() -> None:
    case = _case()
    part_id = _enquiry(case)
    [delay] = apply_command(
        case,
        c.NotifyDelay(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(200),
            reason="checks outstanding",
            part_id=part_id,
            late_step="ENQ-1",
            expected_by=at(200) + timedelta(days=3),
        ),
    )
    assert isinstance(delay, e.DelayNotified)
    assert (delay.part_id, delay.part_owner, delay.late_step) == (part_id, "SURREY", "ENQ-1")

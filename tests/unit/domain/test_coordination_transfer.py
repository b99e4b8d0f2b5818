"""Co-ordination handed over when the applicant moves force [000 §3.10.3]."""

from __future__ import annotations

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import audience
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.records import TransferOutcome
from crossforce.broker.domain.roles import ForceRole
from crossforce.broker.domain.views import view_for
from crossforce.contracts.errors import ReasonCode

from .builders import applicant_a, at, names, opened, subject_b


def test_handover_when_the_applicant_moves_and_the_old_force_loses_write_authority() -> None:
    case, _ = opened(
        applicant_a("ESSEX"), subject_b("SURREY"), receiving="ESSEX", coordinating="ESSEX"
    )
    [enquiry] = apply_command(
        case, c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B")
    )
    [requested] = apply_command(
        case,
        c.RequestCoordinationTransfer(
            case_ref="CF-1", actor="ESSEX", at=at(2), to_force="KENT", reason="applicant moved"
        ),
    )
    assert audience(case, requested) == {"ESSEX", "KENT"}
    # Until Kent accepts, Essex still co-ordinates.
    assert case.coordinating_force == "ESSEX"
    events = apply_command(
        case, c.AcceptCoordinationTransfer(case_ref="CF-1", actor="KENT", at=at(3))
    )
    assert names(events) == ["coordination-transfer-accepted"]
    assert case.coordinating_force == "KENT"
    assert case.party("A").home_force == "KENT"
    liaison = next(p for p in case.parts if p.kind is PartKind.APPLICANT_LIAISON)
    assert liaison.owner == "KENT"
    assert [(h.from_owner, h.to_owner) for h in liaison.ownership_history()] == [
        (None, "ESSEX"),
        ("ESSEX", "KENT"),
    ]
    # Surrey, still working on B, is told whom it now answers to.
    assert audience(case, events[0]) == {"ESSEX", "KENT", "SURREY"}
    assert case.coordination_history[-1].outcome is TransferOutcome.ACCEPTED
    assert ForceRole.COORDINATING not in case.roles_of("ESSEX")

    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.ReassignEnquiry(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(4),
                part_id=enquiry.part_id or "",
                to_force="SUSSEX",
                reason="r",
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    with pytest.raises(DomainRefusal):
        apply_command(case, c.CloseCase(case_ref="CF-1", actor="ESSEX", at=at(4), reason="done"))
    # The new co-ordinating force has the authority instead.
    [delay] = apply_command(
        case, c.NotifyDelay(case_ref="CF-1", actor="KENT", at=at(4), reason="move")
    )
    assert isinstance(delay, e.DelayNotified)


def test_a_declined_handover_leaves_coordination_where_it_was() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    apply_command(
        case,
        c.RequestCoordinationTransfer(
            case_ref="CF-1", actor="ESSEX", at=at(2), to_force="KENT", reason="applicant moved"
        ),
    )
    with pytest.raises(DomainRefusal) as wrong_force:
        apply_command(case, c.AcceptCoordinationTransfer(case_ref="CF-1", actor="SURREY", at=at(3)))
    assert wrong_force.value.code is ReasonCode.NOT_AUTHORISED
    [declined] = apply_command(
        case,
        c.DeclineCoordinationTransfer(
            case_ref="CF-1", actor="KENT", at=at(3), reason="not on our system"
        ),
    )
    assert isinstance(declined, e.CoordinationTransferDeclined)
    assert case.coordinating_force == "ESSEX"
    assert case.pending_transfer is None
    assert case.coordination_history[-1].decline_reason == "not on our system"
    with pytest.raises(DomainRefusal) as nothing_pending:
        apply_command(case, c.AcceptCoordinationTransfer(case_ref="CF-1", actor="KENT", at=at(4)))
    assert nothing_pending.value.code is ReasonCode.INVALID_TRANSITION


def test_only_one_handover_may_be_pending() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    apply_command(
        case,
        c.RequestCoordinationTransfer(
            case_ref="CF-1", actor="ESSEX", at=at(2), to_force="KENT", reason="moved"
        ),
    )
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RequestCoordinationTransfer(
                case_ref="CF-1", actor="ESSEX", at=at(3), to_force="SUSSEX", reason="moved"
            ),
        )
    assert refused.value.rule == "transfer-already-pending"
    assert case.pending_transfer is not None and case.pending_transfer.to_force == "KENT"


def test_coordination_cannot_go_to_a_dmf() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RequestCoordinationTransfer(
                case_ref="CF-1", actor="ESSEX", at=at(2), to_force="PSOS_E", reason="moved"
            ),
        )
    assert refused.value.rule == "not-a-force"


def test_after_handover_the_old_force_hears_nothing_more_and_cannot_view_the_case() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    apply_command(
        case,
        c.RequestCoordinationTransfer(
            case_ref="CF-1", actor="ESSEX", at=at(2), to_force="KENT", reason="moved"
        ),
    )
    apply_command(case, c.AcceptCoordinationTransfer(case_ref="CF-1", actor="KENT", at=at(3)))
    [requested] = apply_command(
        case, c.RequestEnquiry(case_ref="CF-1", actor="KENT", at=at(4), party_id="B")
    )
    assert audience(case, requested) == {"KENT", "SURREY"}
    with pytest.raises(DomainRefusal) as refused:
        view_for(case, "ESSEX")
    assert refused.value.code is ReasonCode.NOT_AUTHORISED


def test_closing_keeps_an_unanswered_handover_in_the_history() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    apply_command(
        case,
        c.RequestCoordinationTransfer(
            case_ref="CF-1", actor="ESSEX", at=at(2), to_force="KENT", reason="moved"
        ),
    )
    apply_command(
        case,
        c.CloseCase(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(3),
            reason="withdrawn",
            intelligence=c.SubmitIntelligence(
                case_ref="CF-1", actor="ESSEX", at=at(3), summary="s", outcome="withdrawn"
            ),
        ),
    )
    assert case.pending_transfer is None
    assert case.coordination_history[-1].decline_reason == "case closed"


def test_a_transfer_is_answered_by_the_id_of_the_open_request() -> None:
    case, _ = opened(
        applicant_a("ESSEX"), subject_b("SURREY"), receiving="ESSEX", coordinating="ESSEX"
    )

    def request(transfer_id: str, hours: float) -> None:
        apply_command(
            case,
            c.RequestCoordinationTransfer(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(hours),
                to_force="KENT",
                reason="applicant moved",
                transfer_id=transfer_id,
            ),
        )

    request("TR-1", 1)
    for answer in (
        c.AcceptCoordinationTransfer(case_ref="CF-1", actor="KENT", at=at(2), transfer_id="TR-9"),
        c.DeclineCoordinationTransfer(
            case_ref="CF-1", actor="KENT", at=at(2), transfer_id="TR-9", reason="not ours"
        ),
    ):
        with pytest.raises(DomainRefusal) as refused:
            apply_command(case, answer)
        assert (refused.value.code, refused.value.rule) == (
            ReasonCode.RULE_VIOLATION,
            "unknown-transfer",
        )
    assert case.coordinating_force == "ESSEX" and case.pending_transfer is not None
    apply_command(
        case,
        c.DeclineCoordinationTransfer(
            case_ref="CF-1", actor="KENT", at=at(3), transfer_id="TR-1", reason="not ours"
        ),
    )
    # The answered id cannot name a new request; a fresh id can, and is accepted by it.
    with pytest.raises(DomainRefusal) as refused:
        request("TR-1", 4)
    assert refused.value.rule == "transfer-id-reused"
    request("TR-2", 5)
    apply_command(
        case,
        c.AcceptCoordinationTransfer(case_ref="CF-1", actor="KENT", at=at(6), transfer_id="TR-2"),
    )
    assert case.coordinating_force == "KENT"
    assert [t.transfer_id for t in case.coordination_history] == ["TR-1", "TR-2"]

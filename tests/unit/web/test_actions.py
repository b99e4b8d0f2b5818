"""What the case page offers each force, and the messages its forms become (decision 0022)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crossforce.adapters.web.actions import (
    actor_of,
    assignable_parts,
    chase,
    chaseable_parts,
    escalation_acknowledgement,
    reassignment,
)
from crossforce.adapters.web.store import Account, Role
from crossforce.broker.domain import commands as c
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.opening import open_case
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.routes import Route
from crossforce.broker.domain.views import consultation_view
from crossforce.broker.service.queries import EscalationNotice
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages.supervision import AssigneeKind

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _case() -> Case:
    """Essex co-ordinates; Surrey owns the enquiry on B (part-2)."""
    case, _ = open_case(
        c.OpenCase(
            case_ref="CF-1",
            actor="KENT",
            at=AT,
            receiving_force="KENT",
            coordinating_force="ESSEX",
            route=Route.RIGHT_TO_ASK,
            parties=(
                Party("A", PartyRole.A, "ESSEX", is_applicant=True, identity_verified=True),
                Party("B", PartyRole.B, "SURREY", subject_key="b"),
            ),
        )
    )
    apply_command(case, c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=AT, party_id="B"))
    return case


def test_each_force_is_offered_only_what_its_role_allows() -> None:
    case = _case()
    essex, surrey, kent = (consultation_view(case, f) for f in ("ESSEX", "SURREY", "KENT"))
    assert [p.part_id for p in chaseable_parts(essex)] == ["part-2"]
    assert chaseable_parts(surrey) == [] and chaseable_parts(kent) == []
    assert [p.owner for p in assignable_parts(essex)] == ["ESSEX"]  # its liaison part
    assert [p.part_id for p in assignable_parts(surrey)] == ["part-2"]
    assert assignable_parts(kent) == []


def test_the_forms_become_the_messages_and_refuse_what_was_not_offered() -> None:
    case = _case()
    essex, surrey = consultation_view(case, "ESSEX"), consultation_view(case, "SURREY")
    chased = chase(essex, part_id="part-2", note="  ")
    assert (chased.part_id, chased.note) == ("part-2", None)
    with pytest.raises(ContractError):
        chase(surrey, part_id="part-2", note="")
    moved = reassignment(surrey, part_id="part-2", assigned_to=" SY-4711 ", assignee_kind="officer")
    assert (moved.assigned_to, moved.assignee_kind) == ("SY-4711", AssigneeKind.OFFICER)
    with pytest.raises(ContractError) as named:
        reassignment(surrey, part_id="part-2", assigned_to="DC Jo Example", assignee_kind="officer")
    assert named.value.code is ReasonCode.SCHEMA_INVALID
    with pytest.raises(ContractError):
        reassignment(essex, part_id="part-2", assigned_to="X1", assignee_kind="team")


def test_an_acknowledgement_names_a_notice_the_force_was_sent() -> None:
    notice = EscalationNotice(
        "0195a000-0000-7000-8000-000000000042",
        "part-2",
        "cross-force.responding-force-answer",
        3,
        "escalation-raised",
        "SURREY",
        AT,
    )
    message = escalation_acknowledgement([notice], escalation_id=notice.envelope_id)
    assert (message.part_id, message.deadline, message.level) == (
        "part-2",
        "cross-force.responding-force-answer",
        3,
    )
    with pytest.raises(ContractError):
        escalation_acknowledgement([notice], escalation_id="someone-elses")


def test_the_account_name_is_the_actor_when_it_fits() -> None:
    assert actor_of(Account("essex.sup", "ESSEX", Role.SUPERVISOR, False)) == "essex.sup"
    # An account made before names were checked cannot act until it has a name that fits.
    with pytest.raises(ContractError) as unfit:
        actor_of(Account("Jo Example", "ESSEX", Role.SUPERVISOR, False))
    assert unfit.value.code is ReasonCode.ACCOUNT_ERROR

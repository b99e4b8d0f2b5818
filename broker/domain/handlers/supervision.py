"""What supervisors do about a part: acknowledge an escalation, chase the owner, reassign the
part within the owning force. None of them moves a due date, an owner or a status.

- Acknowledging is for the force the notice went to, once per notice. It does not pause the
  ladder or clear a red mark: the sources define no escalation ladder (domain.md §8), and the
  only things they say of one are that the co-ordinating force keeps the level of service
  [000 §3.10.7] and that risk is never downgraded for lack of capacity [002 L144–146,
  L457–62]. So a late part stays late until its owner answers it or the co-ordinating force
  agrees a later date (`extend_deadline`), and the next rung still fires.
- Chasing is the co-ordinating force's: it co-ordinates the responding forces and keeps the
  applicant's level of service [000 §3.10.7]. A force does not chase itself.
- Reassigning within the force is the owner's own business; the owner force stays the owner
  (each part has exactly one owner force, domain.md §1.2). Moving a part to another force is
  `reassign` (enquiry-reassigned) after a home-force correction [000 §3.10.4].
"""

from __future__ import annotations

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import require_aware, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import not_authorised, rule_violation
from crossforce.broker.domain.records import EscalationAcknowledgement
from crossforce.broker.domain.transitions import PartAction

# The ladder's notices that say a deadline has been missed; a reminder before due is not an
# escalation, and is answered by doing the work.
ACKNOWLEDGEABLE = frozenset({"overdue-notice", "escalation-raised"})
ASSIGNEE_KINDS = frozenset({"officer", "team"})


def acknowledge_escalation(
    case: Case, cmd: c.AcknowledgeEscalation, ctx: DomainContext
) -> list[e.DomainEvent]:
    if cmd.notice not in ACKNOWLEDGEABLE:
        raise rule_violation(
            f"a {cmd.notice} is not an escalation: only an overdue notice or an escalation "
            "is acknowledged",
            "not-an-escalation",
        )
    if cmd.actor != cmd.sent_to:
        raise not_authorised(
            f"escalation {cmd.escalation_id} was sent to {cmd.sent_to}, not {cmd.actor}",
            "escalation-not-sent-to-you",
        )
    require_aware(cmd.raised_at)
    if any(a.escalation_id == cmd.escalation_id for a in case.escalation_acknowledgements):
        raise rule_violation(
            f"escalation {cmd.escalation_id} is already acknowledged",
            "escalation-already-acknowledged",
        )
    part = case.part(cmd.part_id) if cmd.part_id is not None else None
    case.escalation_acknowledgements.append(
        EscalationAcknowledgement(
            escalation_id=cmd.escalation_id,
            part_id=cmd.part_id,
            deadline=cmd.deadline,
            level=cmd.level,
            notice=cmd.notice,
            raised_at=cmd.raised_at,
            acknowledged_by=cmd.actor,
            acknowledged_at=cmd.at,
            acted_by=cmd.acted_by,
        )
    )
    return [
        case.emit(
            e.EscalationAcknowledged,
            cmd,
            part,
            escalation_id=cmd.escalation_id,
            deadline=cmd.deadline,
            level=cmd.level,
            notice=cmd.notice,
        )
    ]


def chase_part(case: Case, cmd: c.ChasePart, ctx: DomainContext) -> list[e.DomainEvent]:
    case.require_coordinating(cmd.actor, "chase the owner of a part")
    part = case.part(cmd.part_id)
    if part.owner == cmd.actor:
        raise rule_violation(
            f"part {part.part_id} is {cmd.actor}'s own: a force does not chase itself",
            "chase-own-part",
        )
    note = cmd.note.strip()
    # The transition table refuses a part that is finished, declined or not another force's
    # timed work (INVALID_TRANSITION part-transition).
    case.move_part(part, cmd, PartAction.CHASE, note=note)
    return [case.emit(e.PartChased, cmd, part, note=note)]


def reassign_within_force(
    case: Case, cmd: c.ReassignWithinForce, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case.require_owner(part, cmd.actor)
    require_text(cmd.assigned_to, "assignee-required", "the officer or team")
    if cmd.assignee_kind not in ASSIGNEE_KINDS:
        raise rule_violation(
            f"an assignee is an officer or a team, not {cmd.assignee_kind!r}", "assignee-kind"
        )
    if (part.assigned_to, part.assignee_kind) == (cmd.assigned_to, cmd.assignee_kind):
        raise rule_violation(
            f"part {part.part_id} is already with {cmd.assignee_kind} {cmd.assigned_to}",
            "assignee-unchanged",
        )
    previously = part.assigned_to
    case.move_part(
        part, cmd, PartAction.REASSIGN_WITHIN_FORCE, note=f"{cmd.assignee_kind} {cmd.assigned_to}"
    )
    part.assigned_to = cmd.assigned_to
    part.assignee_kind = cmd.assignee_kind
    return [
        case.emit(
            e.PartReassignedWithinForce,
            cmd,
            part,
            assigned_to=cmd.assigned_to,
            assignee_kind=cmd.assignee_kind,
            previously=previously,
        )
    ]

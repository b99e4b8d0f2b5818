"""Things any participant may raise at any stage: immediate risk, a linked crime, delay."""

from __future__ import annotations

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import police_force, require_aware, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import not_authorised, rule_violation
from crossforce.broker.domain.records import (
    LinkedCrime,
    RiskFlag,
)
from crossforce.broker.domain.transitions import PartAction


def _require_participant(case: Case, actor: str) -> None:
    if actor not in case.participants():
        raise not_authorised(f"{actor} has no part in case {case.case_ref}", "not-a-participant")


def raise_immediate_risk(
    case: Case, cmd: c.RaiseImmediateRisk, ctx: DomainContext
) -> list[e.DomainEvent]:
    # §4 item 3: any participant, at any stage; it pre-empts but does not end the case.
    _require_participant(case, cmd.actor)
    require_text(cmd.summary, "summary-required", "a summary of the risk")
    part = case.part(cmd.part_id) if cmd.part_id is not None else None
    case.priority = True
    case.immediate_risks.append(RiskFlag(cmd.actor, cmd.at, cmd.summary, cmd.part_id))
    return [case.emit(e.ImmediateRiskRaised, cmd, part, priority=True, summary=cmd.summary)]


def link_crime(case: Case, cmd: c.LinkCrime, ctx: DomainContext) -> list[e.DomainEvent]:
    # §4 item 2: the crime is investigated alongside; the case carries on.
    _require_participant(case, cmd.actor)
    require_text(cmd.crime_reference, "crime-reference-required", "a crime reference")
    police_force(cmd.investigating_force)
    case.linked_crimes.append(
        LinkedCrime(cmd.crime_reference, cmd.investigating_force, cmd.actor, cmd.at)
    )
    return [
        case.emit(
            e.CrimeLinked,
            cmd,
            crime_reference=cmd.crime_reference,
            investigating_force=cmd.investigating_force,
        )
    ]


def notify_delay(case: Case, cmd: c.NotifyDelay, ctx: DomainContext) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id) if cmd.part_id is not None else None
    allowed = {case.coordinating_force} | ({part.owner} if part else set())
    if cmd.actor not in allowed:
        raise not_authorised(
            "a delay is notified by the part's owner or the co-ordinating force", "not-part-owner"
        )
    require_text(cmd.reason, "reason-required", "a reason for the delay")
    if cmd.expected_by is not None:
        require_aware(cmd.expected_by)
    return [
        case.emit(
            e.DelayNotified,
            cmd,
            part,
            reason=cmd.reason,
            expected_by=cmd.expected_by,
            late_step=cmd.late_step,
        )
    ]


def extend_deadline(case: Case, cmd: c.ExtendDeadline, ctx: DomainContext) -> list[e.DomainEvent]:
    # The co-ordinating force keeps the level of service [000 §3.10.7], so it is the one that
    # agrees a later date with the part's owner; timescales are a guide [001 fn4].
    case.require_coordinating(cmd.actor, "extend a deadline")
    part = case.part(cmd.part_id)
    require_aware(cmd.due_at)
    require_text(cmd.reason, "reason-required", "a reason for the extension")
    if cmd.agreed_with != part.owner:
        raise rule_violation(
            f"part {part.part_id} is owned by {part.owner}: the extension is agreed with the "
            f"owner, not {cmd.agreed_with}",
            "extension-not-agreed-with-owner",
        )
    if part.due_at is None:
        raise rule_violation(f"part {part.part_id} has no due date", "no-deadline-to-extend")
    if cmd.due_at <= part.due_at:
        # Shortening is not an extension: it would rush the owner, and escalate it at once.
        raise rule_violation(
            f"the new due date must be later than {part.due_at.isoformat()}",
            "extension-not-later",
        )
    if cmd.due_at <= cmd.at:
        raise rule_violation("the new due date is already past", "due-at-in-past")
    previous = part.due_at
    case.move_part(part, cmd, PartAction.EXTEND_DEADLINE, note=cmd.reason)
    part.due_at = cmd.due_at
    return [
        case.emit(
            e.DeadlineExtended,
            cmd,
            part,
            from_due_at=previous,
            due_at=cmd.due_at,
            reason=cmd.reason,
            agreed_with=cmd.agreed_with,
        )
    ]

"""Things any participant may raise at any stage: immediate risk, a linked crime, delay."""

from __future__ import annotations

from broker.domain import commands as c
from broker.domain import events as e
from broker.domain.case import Case
from broker.domain.checks import police_force, require_aware, require_text
from broker.domain.context import DomainContext
from broker.domain.errors import not_authorised
from broker.domain.records import (
    LinkedCrime,
    RiskFlag,
)


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
    return [case.emit(e.DelayNotified, cmd, part, reason=cmd.reason, expected_by=cmd.expected_by)]

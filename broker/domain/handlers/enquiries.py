"""Enquiries for parties in other forces [000 §3.10.4, §3.10.8], and their re-assignment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import is_scottish, police_force, require_aware, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import rule_violation
from crossforce.broker.domain.handlers.decisions import check_items
from crossforce.broker.domain.handlers.dsdas import dmf_decided
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.transitions import PartAction, target


def request_enquiry(case: Case, cmd: c.RequestEnquiry, ctx: DomainContext) -> list[e.DomainEvent]:
    # §3.10.8: responding forces start once informed by the co-ordinating force.
    case.require_coordinating(cmd.actor, "request an enquiry")
    party = case.party(cmd.party_id)
    if party.home_force == case.coordinating_force:
        raise rule_violation(
            f"{party.party_id} lives in the co-ordinating force; no cross-force enquiry",
            "enquiry-not-cross-force",
        )
    if cmd.responding_force is not None and cmd.responding_force != party.home_force:
        # Need to know: a force is asked only about the people who live in its area.
        raise rule_violation(
            f"{party.party_id} lives in {party.home_force}, not {cmd.responding_force}: "
            "send one enquiry per responding force",
            "enquiry-party-elsewhere",
        )
    if case.has_open_part(PartKind.ENQUIRY, party.party_id):
        raise rule_violation(
            f"an enquiry for {party.party_id} is already open", "enquiry-already-open"
        )
    if cmd.due_at is not None:
        _check_sender_due(case, cmd, cmd.due_at)
    part = case.add_part(
        cmd,
        PartKind.ENQUIRY,
        party.home_force,
        PartAction.REQUEST_ENQUIRY,
        party_id=party.party_id,
        due_at=cmd.due_at,
        enquiry_id=cmd.enquiry_id,
    )
    return [
        case.emit(
            e.EnquiryRequested,
            cmd,
            part,
            party_id=party.party_id,
            to_force=party.home_force,
            due_at=cmd.due_at,
        )
    ]


def _check_sender_due(case: Case, cmd: c.RequestEnquiry, due: datetime) -> None:
    """A sender-set due date may not be used to escalate another force at once."""
    require_aware(due)
    if due <= cmd.at:
        raise rule_violation(
            f"due_at {due.isoformat()} is already past at {cmd.at.isoformat()}", "due-at-in-past"
        )
    earliest = cmd.earliest_due_at
    if earliest is not None and due < earliest and not case.immediate_risk_raised():
        # Only immediate risk pre-empts the normal flow [001 ¶34(g); 002 L144–146].
        raise rule_violation(
            f"due_at {due.isoformat()} is sooner than the SLA policy allows "
            f"({earliest.isoformat()}) and no immediate risk is raised",
            "due-at-shorter-than-policy",
        )


def acknowledge(
    case: Case,
    cmd: c.AcknowledgeEnquiry | c.AcknowledgeDisclosureHandoff,
    kind: PartKind,
    event: type[e.EnquiryAcknowledged] | type[e.DisclosureHandoffAcknowledged],
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case.require_kind(part, kind)
    case.require_owner(part, cmd.actor)
    case.move_part(part, cmd, PartAction.ACKNOWLEDGE)
    return [case.emit(event, cmd, part)]


def decline(
    case: Case,
    cmd: c.DeclineEnquiry | c.DeclineDisclosureHandoff,
    kind: PartKind,
    event: type[e.EnquiryDeclined] | type[e.DisclosureHandoffDeclined],
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case.require_kind(part, kind)
    case.require_owner(part, cmd.actor)
    require_text(cmd.reason, "reason-required", "a reason for declining")
    if kind is PartKind.DISCLOSURE_DELIVERY:
        # A declined hand-off goes back to the co-ordinating force with the reason: it made
        # the decision, and must deliver it or hand it to the right force [000 §3.10.5–3.10.7].
        case.move_part(
            part, cmd, PartAction.DECLINE, to_owner=case.coordinating_force, note=cmd.reason
        )
        return [case.emit(event, cmd, part, reason=cmd.reason)]
    # An enquiry stays with the declining force, in DECLINED, until the co-ordinating force
    # re-assigns it: it always has exactly one owner.
    case.move_part(part, cmd, PartAction.DECLINE, note=cmd.reason)
    return [case.emit(event, cmd, part, reason=cmd.reason)]


def reassign(
    case: Case,
    cmd: c.ReassignEnquiry | c.ReassignDisclosureDelivery,
    kind: PartKind,
    event: type[e.EnquiryReassigned] | type[e.DisclosureReassigned],
) -> list[e.DomainEvent]:
    case.require_coordinating(cmd.actor, "re-assign a part")
    part = case.part(cmd.part_id)
    case.require_kind(part, kind)
    police_force(cmd.to_force)
    require_text(cmd.reason, "reason-required", "a reason for re-assigning")
    if kind is PartKind.ENQUIRY and cmd.to_force == case.coordinating_force:
        raise rule_violation(
            "an enquiry is for a force other than the co-ordinating force; correct the "
            "party's home force instead",
            "enquiry-not-cross-force",
        )
    from_force = part.owner
    case.move_part(part, cmd, PartAction.REASSIGN, to_owner=cmd.to_force, note=cmd.reason)
    return [
        case.emit(event, cmd, part, from_force=from_force, to_force=cmd.to_force, reason=cmd.reason)
    ]


def record_result(
    case: Case, cmd: c.RecordEnquiryResult, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case.require_kind(part, PartKind.ENQUIRY)
    # Only the force the enquiry was assigned to may send its result.
    case.require_owner(part, cmd.actor)
    target(part.kind, part.status, PartAction.RECORD_RESULT)
    if (
        cmd.concern
        and is_scottish(part.owner)
        and not case.immediate_risk_raised()
        and not dmf_decided(case, part.party_id)
    ):
        # DSDAS: concern / no concern is the DMF's decision for a Scottish party [003 §9.8].
        raise rule_violation(
            "a concern about a Scottish party needs a DMF decision first", "dmf-decision-required"
        )
    check_items(case, cmd.items, part.owner, ctx)
    part.concern = cmd.concern
    part.summary = cmd.summary
    case.move_part(part, cmd, PartAction.RECORD_RESULT)
    return [
        case.emit(
            e.EnquiryResultRecorded,
            cmd,
            part,
            concern=cmd.concern,
            summary=cmd.summary,
            items=cmd.items,
        )
    ]


def correct_home_force(
    case: Case, cmd: c.CorrectPartyHomeForce, ctx: DomainContext
) -> list[e.DomainEvent]:
    case.require_coordinating(cmd.actor, "correct a party's home force")
    party = case.party(cmd.party_id)
    police_force(cmd.home_force)
    require_text(cmd.reason, "reason-required", "a reason for the correction")
    if cmd.home_force == party.home_force:
        raise rule_violation(
            f"{party.party_id} already lives in {party.home_force}", "home-force-unchanged"
        )
    if party.is_applicant and cmd.home_force != case.coordinating_force:
        # The co-ordinating force is where the applicant lives [§3.10.3]: hand it over.
        raise rule_violation(
            "the applicant has moved: request a co-ordination transfer",
            "applicant-moves-by-coordination-transfer",
        )
    events: list[e.DomainEvent] = [
        case.emit(
            e.PartyHomeForceCorrected,
            cmd,
            party_id=party.party_id,
            from_force=party.home_force,
            to_force=cmd.home_force,
            reason=cmd.reason,
        )
    ]
    case.replace_party(replace(party, home_force=cmd.home_force))
    for part in case.open_parts():
        if part.party_id != party.party_id:
            continue
        if part.kind is PartKind.ENQUIRY and cmd.home_force == case.coordinating_force:
            case.move_part(part, cmd, PartAction.CANCEL, note=cmd.reason)
            events.append(case.emit(e.PartCancelled, cmd, part, kind=part.kind, reason=cmd.reason))
        elif part.kind in (PartKind.ENQUIRY, PartKind.DISCLOSURE_DELIVERY):
            if part.status is PartStatus.UNDERTAKING_REFUSED:
                continue  # awaits its proceed-or-withhold decision first
            from_force = part.owner
            case.move_part(part, cmd, PartAction.REASSIGN, to_owner=cmd.home_force, note=cmd.reason)
            cls: type[e.EnquiryReassigned] | type[e.DisclosureReassigned] = (
                e.EnquiryReassigned if part.kind is PartKind.ENQUIRY else e.DisclosureReassigned
            )
            events.append(
                case.emit(
                    cls,
                    cmd,
                    part,
                    from_force=from_force,
                    to_force=cmd.home_force,
                    reason=cmd.reason,
                )
            )
    return events

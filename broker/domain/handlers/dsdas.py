"""DSDAS for Scottish parties: referral to the divisional DMF and its decision [003 §9]."""

from __future__ import annotations

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import force_of, is_scottish, require_aware, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import not_authorised, rule_violation
from crossforce.broker.domain.forums import check_dmf_composition
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.transitions import PartAction, target
from crossforce.contracts.forces import POLICE_SCOTLAND, ParticipantKind


def dmf_decided(case: Case, party_id: str | None) -> bool:
    return any(
        p.kind is PartKind.DMF_REFERRAL
        and p.status is PartStatus.COMPLETED
        and (party_id is None or p.party_id == party_id)
        for p in case.parts
    )


def refer_to_dmf(case: Case, cmd: c.ReferToDmf, ctx: DomainContext) -> list[e.DomainEvent]:
    if cmd.actor != POLICE_SCOTLAND:
        raise not_authorised("only Police Scotland refers to a DMF", "not-police-scotland")
    party = case.party(cmd.party_id)
    enquiry = next(
        (
            p
            for p in case.parts
            if p.kind is PartKind.ENQUIRY
            and p.party_id == party.party_id
            and p.owner == cmd.actor
            and p.status is PartStatus.IN_PROGRESS
        ),
        None,
    )
    if cmd.actor != case.coordinating_force and enquiry is None:
        raise not_authorised(
            f"Police Scotland holds no open enquiry for {party.party_id}", "no-scottish-part"
        )
    if not is_scottish(party.home_force):
        raise rule_violation(f"{party.party_id} does not live in Scotland", "not-a-scottish-party")
    dmf = force_of(cmd.dmf)
    if dmf.kind is not ParticipantKind.DMF:
        raise rule_violation(f"{cmd.dmf} is not a DMF", "not-a-dmf")
    if party.division is not None and cmd.dmf != f"{POLICE_SCOTLAND}_{party.division}":
        # 003 §9.11: one DMF per local policing division.
        raise rule_violation(
            f"{party.party_id} is in division {party.division}; refer to "
            f"{POLICE_SCOTLAND}_{party.division}",
            "wrong-dmf",
        )
    if any(item.spent_conviction for item in cmd.items):
        # 003 §9.4: spent convictions must not reach the DMF.
        raise rule_violation("spent convictions must not reach the DMF", "spent-conviction-to-dmf")
    if case.has_open_part(PartKind.DMF_REFERRAL, party.party_id):
        raise rule_violation(
            f"a DMF referral for {party.party_id} is already open", "dmf-referral-already-open"
        )
    if cmd.due_at is not None:
        require_aware(cmd.due_at)
    part = case.add_part(
        cmd,
        PartKind.DMF_REFERRAL,
        cmd.dmf,
        PartAction.REFER_TO_DMF,
        party_id=party.party_id,
        due_at=cmd.due_at,
        parent_part_id=enquiry.part_id if enquiry else None,
        referred_by=cmd.actor,
    )
    return [
        case.emit(
            e.DmfReferred,
            cmd,
            part,
            party_id=party.party_id,
            dmf=cmd.dmf,
            referred_by=cmd.actor,
            items=cmd.items,
            due_at=cmd.due_at,
        )
    ]


def record_dmf_decision(
    case: Case, cmd: c.RecordDmfDecision, ctx: DomainContext
) -> list[e.DomainEvent]:
    if cmd.includes_spent_convictions:
        # 003 §9.4: spent convictions are never put before a DMF.
        raise rule_violation("spent convictions must not reach a DMF", "spent-conviction-to-dmf")
    part = case.part(cmd.part_id)
    case.require_kind(part, PartKind.DMF_REFERRAL)
    case.require_owner(part, cmd.actor)
    action = PartAction.RECONSIDER if cmd.reconsideration else PartAction.RECORD_DMF_DECISION
    target(part.kind, part.status, action)
    if cmd.reconsideration and not any(
        p.kind is PartKind.DISCLOSURE_DELIVERY and p.status is PartStatus.UNDERTAKING_REFUSED
        for p in case.parts
    ):
        raise rule_violation(
            "a DMF reconsiders only after a refused undertaking", "reconsideration-without-refusal"
        )
    check_dmf_composition(cmd.bodies, cmd.chair)
    require_text(cmd.rationale, "rationale-required", "a rationale")
    if cmd.recommend_disclosure and not cmd.concern:
        raise rule_violation("disclosure needs a concern", "disclose-without-concern")
    part.concern = cmd.concern
    part.recommend_disclosure = cmd.recommend_disclosure
    part.summary = cmd.rationale
    case.move_part(part, cmd, action)
    return [
        case.emit(
            e.DmfDecisionRecorded,
            cmd,
            part,
            referred_by=part.referred_by or POLICE_SCOTLAND,
            concern=cmd.concern,
            recommend_disclosure=cmd.recommend_disclosure,
            rationale=cmd.rationale,
            reconsideration=cmd.reconsideration,
        )
    ]

"""Making the disclosure, or telling the applicant there is nothing to disclose."""

from __future__ import annotations

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import is_scottish, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import not_authorised, rule_violation
from crossforce.broker.domain.parts import PartKind, PartOfJob
from crossforce.broker.domain.routes import DeliveryMethod
from crossforce.broker.domain.transitions import PartAction, target
from crossforce.contracts.envelope import Jurisdiction


def _delivery_part(case: Case, part_id: str) -> PartOfJob:
    part = case.part(part_id)
    case.require_kind(part, PartKind.DISCLOSURE_DELIVERY)
    return part


def _informed_dmfs(case: Case, part: PartOfJob) -> tuple[str, ...]:
    # 003 §10.3: in Scotland the DMF is told and reconsiders.
    if is_scottish(part.owner) or case.jurisdiction is Jurisdiction.SCOTLAND:
        return case.dmf_forces()
    return ()


def undertaking_refused(
    case: Case, cmd: c.RecordUndertakingRefused, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = _delivery_part(case, cmd.part_id)
    case.require_owner(part, cmd.actor)
    dmfs = _informed_dmfs(case, part)
    if cmd.refer_to_dmf and not dmfs:
        # England & Wales has no DMF: the force itself records proceed or withhold [001 ¶86].
        raise rule_violation(
            "only a Scottish disclosure is referred to a DMF: record proceed or withhold",
            "dmf-referral-scotland-only",
        )
    case.move_part(part, cmd, PartAction.REFUSE_UNDERTAKING, note=cmd.note)
    return [case.emit(e.UndertakingRefused, cmd, part, dmfs_informed=dmfs)]


def undertaking_decision(
    case: Case, cmd: c.RecordUndertakingDecision, ctx: DomainContext
) -> list[e.DomainEvent]:
    # §4 item 10: a recorded decision to proceed or withhold [001 ¶86].
    part = _delivery_part(case, cmd.part_id)
    if cmd.actor not in (part.owner, case.coordinating_force):
        raise not_authorised(
            "the delivering or co-ordinating force records this decision", "not-part-owner"
        )
    require_text(cmd.rationale, "rationale-required", "a rationale")
    action = PartAction.PROCEED if cmd.proceed else PartAction.WITHHOLD
    case.move_part(part, cmd, action, note=cmd.rationale)
    return [
        case.emit(
            e.UndertakingDecisionRecorded,
            cmd,
            part,
            proceed=cmd.proceed,
            rationale=cmd.rationale,
            dmfs_informed=_informed_dmfs(case, part),
        )
    ]


def disclosure_delivered(
    case: Case, cmd: c.RecordDisclosureDelivered, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = _delivery_part(case, cmd.part_id)
    case.require_owner(part, cmd.actor)
    target(part.kind, part.status, PartAction.RECORD_DELIVERED)
    if cmd.method is DeliveryMethod.LETTER:
        # 001 ¶87; 003 §10.4-10.5: never given in writing.
        raise rule_violation("a disclosure is never given in writing", "no-written-disclosure")
    if cmd.method is not DeliveryMethod.IN_PERSON and is_scottish(part.owner):
        raise rule_violation("in Scotland a disclosure is made in person", "in-person-only")
    if not cmd.wording_recorded:
        raise rule_violation(
            "the words disclosed must be recorded verbatim", "wording-not-recorded"
        )
    case.move_part(part, cmd, PartAction.RECORD_DELIVERED)
    return [
        case.emit(
            e.DisclosureDelivered,
            cmd,
            part,
            recipient_party_id=part.party_id or "",
            method=cmd.method,
        )
    ]


def notify_non_disclosure(
    case: Case, cmd: c.NotifyNonDisclosure, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case.require_kind(part, PartKind.NON_DISCLOSURE_NOTIFICATION)
    case.require_owner(part, cmd.actor)
    target(part.kind, part.status, PartAction.NOTIFY_NON_DISCLOSURE)
    if cmd.method is DeliveryMethod.LETTER and not ctx.settings.non_disclosure_letter_allowed:
        # CONFLICT §9 item 8: no written correspondence by default [001 ¶89(b)(iv)].
        raise rule_violation(
            "no written correspondence to the applicant", "no-written-correspondence"
        )
    case.move_part(part, cmd, PartAction.NOTIFY_NON_DISCLOSURE)
    return [case.emit(e.NonDisclosureNotified, cmd, part, method=cmd.method)]

"""The police decision on concern and disclosure, and the disclosure handoff [001 ¶71-84]."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import police_force, require_aware, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import invalid_transition, rule_violation
from crossforce.broker.domain.forums import DisclosableItem, forum_warnings
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.records import (
    Decision,
)
from crossforce.broker.domain.routes import Route
from crossforce.broker.domain.rules import SpentConvictionPolicy
from crossforce.broker.domain.transitions import PartAction
from crossforce.contracts.envelope import Jurisdiction


def verify_identity(
    case: Case, cmd: c.VerifyApplicantIdentity, ctx: DomainContext
) -> list[e.DomainEvent]:
    case.require_coordinating(cmd.actor, "verify the applicant's identity")
    party = case.party(cmd.party_id)
    if not party.is_applicant:
        raise rule_violation(f"{party.party_id} is not the applicant", "not-the-applicant")
    if party.anonymous:
        raise rule_violation("an anonymous applicant cannot be verified", "anonymous-applicant")
    require_text(cmd.method, "method-required", "the verification method")
    case.replace_party(replace(party, identity_verified=True))
    return [
        case.emit(
            e.ApplicantIdentityVerified,
            cmd,
            party_id=party.party_id,
            method=cmd.method,
            face_to_face=cmd.face_to_face,
        )
    ]


def check_items(
    case: Case, items: Iterable[DisclosableItem], force: str, ctx: DomainContext
) -> tuple[str, ...]:
    """Apply the spent-convictions policy (§9 item 5); returns warnings."""
    if not any(item.spent_conviction for item in items):
        return ()
    if case.spent_policy(force, ctx) is SpentConvictionPolicy.EXCLUDE:
        raise rule_violation(
            "spent convictions may not be passed on here (003 §9.4)", "spent-conviction"
        )
    return ("spent-conviction-disclosed-with-care",)


def record_decision(case: Case, cmd: c.RecordDecision, ctx: DomainContext) -> list[e.DomainEvent]:
    # The police make the final decision [001 Annex A, ¶71]; the co-ordinating force owns it.
    case.require_coordinating(cmd.actor, "record the decision")
    if case.decision is not None:
        raise invalid_transition("the decision is already recorded", "decision-already-recorded")
    require_text(cmd.rationale, "rationale-required", "a rationale")
    if cmd.inform_b and not cmd.disclose:
        # §4 item 9: B is never told when nothing is disclosed.
        raise rule_violation(
            "B is never told when nothing is disclosed", "inform-b-without-disclosure"
        )
    if cmd.disclose and not cmd.concern:
        raise rule_violation("disclosure needs a concern", "disclose-without-concern")
    if any(p.kind is PartKind.DMF_REFERRAL and p.is_open for p in case.parts):
        raise rule_violation("a DMF decision is still awaited", "dmf-decision-pending")
    applicant = case.applicant()
    warnings: list[str] = []
    recipient: Party | None = None
    if cmd.disclose:
        if applicant is not None and (applicant.anonymous or case.disclosure_barred):
            # §4 item 4: anonymous applicant, no disclosure; intelligence route instead.
            raise rule_violation("no disclosure for an anonymous applicant", "anonymous-applicant")
        if applicant is not None and not applicant.identity_verified:
            raise rule_violation(
                "no disclosure before the applicant's identity is verified",
                "identity-not-verified",
            )
        if cmd.recipient_party_id is None:
            raise rule_violation("a disclosure needs a recipient", "recipient-required")
        recipient = case.party(cmd.recipient_party_id)
        if recipient.role is PartyRole.B:
            raise rule_violation("B is not a disclosure recipient", "recipient-is-subject")
        if (
            case.jurisdiction is Jurisdiction.SCOTLAND
            and not case.immediate_risk_raised()
            and not any(
                p.kind is PartKind.DMF_REFERRAL and p.recommend_disclosure for p in case.parts
            )
        ):
            # 003 §5.4, §9.8: the DMF recommends disclosure; Police Scotland discloses.
            raise rule_violation(
                "a Scottish disclosure needs a DMF recommendation", "dmf-decision-required"
            )
        warnings += check_items(case, cmd.items, case.coordinating_force, ctx)
    if case.jurisdiction is Jurisdiction.ENGLAND_WALES:
        warnings += forum_warnings(
            cmd.bodies,
            children_involved=any(p.role is PartyRole.CHILD for p in case.parties),
            childrens_social_care_required=ctx.settings.childrens_social_care_required_at_forum,
        )
    case.decision = Decision(
        decided_by=cmd.actor,
        decided_at=cmd.at,
        concern=cmd.concern,
        disclose=cmd.disclose,
        rationale=cmd.rationale,
        recipient_party_id=cmd.recipient_party_id if cmd.disclose else None,
        inform_b=cmd.inform_b,
        seek_representations=cmd.seek_representations,
        mappa_iom_referral=cmd.mappa_iom_referral,
        forum=cmd.forum,
        bodies=cmd.bodies,
        items=cmd.items,
        warnings=tuple(warnings),
    )
    events: list[e.DomainEvent] = [
        case.emit(
            e.DecisionRecorded,
            cmd,
            concern=cmd.concern,
            disclose=cmd.disclose,
            recipient_party_id=case.decision.recipient_party_id,
            inform_b=cmd.inform_b,
            warnings=tuple(warnings),
        )
    ]
    if recipient is not None:
        events.append(_hand_off(case, cmd, recipient, applicant, ctx))
    elif case.route is Route.RIGHT_TO_ASK and applicant is not None and not applicant.anonymous:
        # §4 item 11: the applicant is told in person that there is nothing to disclose.
        part = case.add_part(
            cmd,
            PartKind.NON_DISCLOSURE_NOTIFICATION,
            case.coordinating_force,
            PartAction.OPEN_NON_DISCLOSURE,
            party_id=applicant.party_id,
        )
        events.append(
            case.emit(e.NonDisclosureNotificationOpened, cmd, part, party_id=applicant.party_id)
        )
    if (
        cmd.concern
        and applicant is not None
        and not applicant.identity_verified
        and not any(p.kind is PartKind.INTELLIGENCE_SUBMISSION for p in case.parts)
    ):
        # §4 item 4: concerns about an unverified applicant's B become intelligence.
        part = case.add_part(
            cmd,
            PartKind.INTELLIGENCE_SUBMISSION,
            case.coordinating_force,
            PartAction.OPEN_INTELLIGENCE_ROUTE,
            note="identity not verified",
        )
        events.append(
            case.emit(
                e.IntelligenceRouteOpened,
                cmd,
                part,
                reason="identity not verified",
                power_to_tell=case.jurisdiction is Jurisdiction.SCOTLAND,
            )
        )
    return events


def _hand_off(
    case: Case,
    cmd: c.RecordDecision,
    recipient: Party,
    applicant: Party | None,
    ctx: DomainContext,
) -> e.DomainEvent:
    """Give the disclosure to the recipient's home force; oversight stays put [§3.10.5-6]."""
    applicant_is_recipient = applicant is not None and recipient.party_id == applicant.party_id
    if applicant_is_recipient:
        owner = case.coordinating_force
    else:
        owner = ctx.resolve_home_force(recipient) or recipient.home_force
        police_force(owner)
    action = PartAction.DELIVER_OWN if owner == case.coordinating_force else PartAction.HAND_OFF
    if cmd.delivery_due_at is not None:
        require_aware(cmd.delivery_due_at)
    part = case.add_part(
        cmd,
        PartKind.DISCLOSURE_DELIVERY,
        owner,
        action,
        party_id=recipient.party_id,
        due_at=cmd.delivery_due_at,
    )
    return case.emit(
        e.DisclosureHandedOff,
        cmd,
        part,
        recipient_party_id=recipient.party_id,
        to_force=owner,
        oversight_force=case.coordinating_force,
        applicant_is_recipient=applicant_is_recipient,
        due_at=cmd.delivery_due_at,
    )

"""The decision, third-party disclosure handoff and need-to-know [000 §3.3.3, §3.10.5-6]."""

from __future__ import annotations

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import applicant_may_be_told, audience, deliveries
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.forums import AgencyKind, DisclosableItem, ForumBody
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.roles import ForceRole
from crossforce.broker.domain.routes import DeliveryMethod
from crossforce.broker.domain.rules import DomainSettings, SpentConvictionPolicy
from crossforce.broker.domain.views import view_for
from crossforce.contracts.errors import ReasonCode

from .builders import EW_FORUM, applicant_a, at, names, only, opened, subject_b

A_IN_SURREY = Party("A", PartyRole.A, "SURREY", identity_verified=True)


def _c_applies(c_home: str) -> Case:
    c_party = Party("C", PartyRole.C, c_home, is_applicant=True, identity_verified=True)
    case, _ = opened(c_party, A_IN_SURREY, subject_b("SURREY"), coordinating=c_home)
    return case


def _disclose(
    case: Case, recipient: str = "A", context: DomainContext | None = None, **extra: object
) -> list[e.DomainEvent]:
    return apply_command(
        case,
        c.RecordDecision(
            case_ref="CF-1",
            actor=case.coordinating_force,
            at=at(10),
            concern=True,
            disclose=True,
            rationale="lawful, necessary, proportionate",
            recipient_party_id=recipient,
            **{"bodies": EW_FORUM, **extra},  # type: ignore[arg-type]
        ),
        context,
    )


def test_c_applies_in_kent_about_a_in_surrey_disclosure_goes_through_surrey() -> None:
    case = _c_applies("KENT")
    events = _disclose(case)
    assert names(events) == ["decision-recorded", "disclosure-handoff"]
    handoff = only(events, e.DisclosureHandedOff)
    assert isinstance(handoff, e.DisclosureHandedOff)
    assert (handoff.to_force, handoff.oversight_force) == ("SURREY", "KENT")
    assert not handoff.applicant_is_recipient
    delivery = case.part(handoff.part_id or "")
    assert (delivery.kind, delivery.owner) == (PartKind.DISCLOSURE_DELIVERY, "SURREY")
    assert ForceRole.THIRD_PARTYS_HOME_FORCE in case.roles_of("SURREY")
    # Kent keeps oversight but C's liaison channel gets no outcome.
    assert audience(case, handoff) == {"KENT", "SURREY"}
    assert not applicant_may_be_told(case, handoff)
    assert not any(applicant_may_be_told(case, event) for event in events)
    assert {d.force: d.applicant_channel for d in deliveries(case, handoff)} == {
        "KENT": False,
        "SURREY": False,
    }
    # Surrey sees only the delivery and the person it discloses to.
    surrey = view_for(case, "SURREY")
    assert [p.kind for p in surrey.parts] == [PartKind.DISCLOSURE_DELIVERY]
    assert [p.party_id for p in surrey.parties] == ["A"]
    assert surrey.decision is None

    later = apply_command(
        case,
        c.AcknowledgeDisclosureHandoff(
            case_ref="CF-1", actor="SURREY", at=at(11), part_id=delivery.part_id
        ),
    )
    later += apply_command(
        case,
        c.RecordDisclosureDelivered(
            case_ref="CF-1", actor="SURREY", at=at(12), part_id=delivery.part_id
        ),
    )
    assert delivery.status is PartStatus.COMPLETED
    assert not any(applicant_may_be_told(case, event) for event in later)


def test_when_the_applicant_lives_elsewhere_the_receiving_force_gets_no_outcome() -> None:
    c_party = Party("C", PartyRole.C, "ESSEX", is_applicant=True, identity_verified=True)
    case, _ = opened(c_party, A_IN_SURREY, subject_b("SURREY"), coordinating="ESSEX")
    events = _disclose(case)
    for event in events:
        assert "KENT" not in audience(case, event)
    assert audience(case, only(events, e.DecisionRecorded)) == {"ESSEX"}


def test_disclosure_to_the_applicant_is_made_by_the_applicants_home_force() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    events = _disclose(case)
    handoff = only(events, e.DisclosureHandedOff)
    assert isinstance(handoff, e.DisclosureHandedOff) and handoff.applicant_is_recipient
    delivery = case.part(handoff.part_id or "")
    assert (delivery.owner, delivery.status) == ("ESSEX", PartStatus.IN_PROGRESS)
    assert applicant_may_be_told(case, handoff)
    assert [d.applicant_channel for d in deliveries(case, handoff)] == [True]


def test_a_resolver_picks_the_recipients_home_force() -> None:
    case = _c_applies("KENT")
    context = DomainContext(resolve_home_force=lambda party: "SUSSEX")
    handoff = only(_disclose(case, context=context), e.DisclosureHandedOff)
    assert isinstance(handoff, e.DisclosureHandedOff) and handoff.to_force == "SUSSEX"


def test_no_disclosure_without_verified_applicant_identity() -> None:
    case, _ = opened(applicant_a("ESSEX", verified=False), subject_b("KENT"), coordinating="ESSEX")
    with pytest.raises(DomainRefusal) as refused:
        _disclose(case)
    assert (refused.value.code, refused.value.rule) == (
        ReasonCode.RULE_VIOLATION,
        "identity-not-verified",
    )
    assert case.decision is None
    apply_command(
        case,
        c.VerifyApplicantIdentity(
            case_ref="CF-1", actor="ESSEX", at=at(5), party_id="A", method="passport"
        ),
    )
    assert names(_disclose(case)) == ["decision-recorded", "disclosure-handoff"]


def test_unverified_identity_with_concerns_becomes_intelligence() -> None:
    case, _ = opened(applicant_a("ESSEX", verified=False), subject_b("KENT"), coordinating="ESSEX")
    events = apply_command(
        case,
        c.RecordDecision(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(10),
            concern=True,
            disclose=False,
            rationale="identity not verified",
            bodies=EW_FORUM,
        ),
    )
    assert "intelligence-route-opened" in names(events)
    assert any(
        p.kind is PartKind.INTELLIGENCE_SUBMISSION and p.status is PartStatus.IN_PROGRESS
        for p in case.parts
    )


@pytest.mark.parametrize(("coordinating", "power_to_tell"), [("ESSEX", False), ("PSOS", True)])
def test_an_anonymous_applicant_leads_to_the_intelligence_route(
    coordinating: str, power_to_tell: bool
) -> None:
    anonymous = applicant_a(coordinating, verified=False, anonymous=True)
    case, events = opened(
        anonymous, subject_b("KENT"), receiving=coordinating, coordinating=coordinating
    )
    route = only(events, e.IntelligenceRouteOpened)
    assert isinstance(route, e.IntelligenceRouteOpened)
    assert route.power_to_tell is power_to_tell
    assert case.disclosure_barred
    with pytest.raises(DomainRefusal) as refused:
        _disclose(case)
    assert refused.value.rule == "anonymous-applicant"
    # Checks on B still run and the concerns are filed as intelligence.
    events = apply_command(
        case,
        c.CloseCase(
            case_ref="CF-1",
            actor=coordinating,
            at=at(20),
            reason="intelligence route",
            intelligence=c.SubmitIntelligence(
                case_ref="CF-1", actor=coordinating, at=at(20), summary="concerns", outcome="intel"
            ),
        ),
    )
    assert names(events)[0] == "intelligence-submitted"
    assert names(events)[-1] == "case-closed"


def test_inform_b_is_refused_when_nothing_is_disclosed() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("KENT"), coordinating="ESSEX")
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordDecision(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(10),
                concern=False,
                disclose=False,
                inform_b=True,
                rationale="no concern",
                bodies=EW_FORUM,
            ),
        )
    assert refused.value.rule == "inform-b-without-disclosure"


def test_only_the_coordinating_force_records_the_decision() -> None:
    case = _c_applies("KENT")
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordDecision(
                case_ref="CF-1",
                actor="SURREY",
                at=at(10),
                concern=True,
                disclose=True,
                rationale="r",
                recipient_party_id="A",
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED


def test_a_refused_undertaking_needs_a_recorded_proceed_or_withhold_decision() -> None:
    case = _c_applies("KENT")
    handoff = only(_disclose(case), e.DisclosureHandedOff)
    part_id = handoff.part_id or ""
    apply_command(
        case,
        c.AcknowledgeDisclosureHandoff(case_ref="CF-1", actor="SURREY", at=at(11), part_id=part_id),
    )
    [refused_event] = apply_command(
        case,
        c.RecordUndertakingRefused(case_ref="CF-1", actor="SURREY", at=at(12), part_id=part_id),
    )
    assert isinstance(refused_event, e.UndertakingRefused)
    assert refused_event.dmfs_informed == ()  # England & Wales: no DMF
    with pytest.raises(DomainRefusal) as blocked:
        apply_command(
            case,
            c.RecordDisclosureDelivered(
                case_ref="CF-1", actor="SURREY", at=at(13), part_id=part_id
            ),
        )
    assert blocked.value.code is ReasonCode.INVALID_TRANSITION
    with pytest.raises(DomainRefusal) as no_reason:
        apply_command(
            case,
            c.RecordUndertakingDecision(
                case_ref="CF-1",
                actor="KENT",
                at=at(13),
                part_id=part_id,
                proceed=False,
                rationale="",
            ),
        )
    assert no_reason.value.rule == "rationale-required"
    [decision] = apply_command(
        case,
        c.RecordUndertakingDecision(
            case_ref="CF-1",
            actor="KENT",
            at=at(13),
            part_id=part_id,
            proceed=False,
            rationale="risk outweighs",
        ),
    )
    assert isinstance(decision, e.UndertakingDecisionRecorded) and not decision.proceed
    assert case.part(part_id).status is PartStatus.WITHHELD


def test_a_disclosure_is_never_given_in_writing() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    part_id = only(_disclose(case), e.DisclosureHandedOff).part_id or ""
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordDisclosureDelivered(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(12),
                part_id=part_id,
                method=DeliveryMethod.LETTER,
            ),
        )
    assert refused.value.rule == "no-written-disclosure"


def _decide_no_disclosure(case: Case) -> str:
    events = apply_command(
        case,
        c.RecordDecision(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(10),
            concern=False,
            disclose=False,
            rationale="no concern",
            bodies=EW_FORUM,
        ),
    )
    opened_part = only(events, e.NonDisclosureNotificationOpened)
    assert applicant_may_be_told(case, opened_part)
    return opened_part.part_id or ""


def test_non_disclosure_is_told_in_person_not_by_letter_by_default() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    part_id = _decide_no_disclosure(case)
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.NotifyNonDisclosure(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(11),
                part_id=part_id,
                method=DeliveryMethod.LETTER,
            ),
        )
    assert refused.value.rule == "no-written-correspondence"
    apply_command(
        case, c.NotifyNonDisclosure(case_ref="CF-1", actor="ESSEX", at=at(11), part_id=part_id)
    )
    assert case.part(part_id).status is PartStatus.COMPLETED


def test_a_non_disclosure_letter_is_allowed_when_the_setting_says_so() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    part_id = _decide_no_disclosure(case)
    context = DomainContext(settings=DomainSettings(non_disclosure_letter_allowed=True))
    [notified] = apply_command(
        case,
        c.NotifyNonDisclosure(
            case_ref="CF-1", actor="ESSEX", at=at(11), part_id=part_id, method=DeliveryMethod.LETTER
        ),
        context,
    )
    assert isinstance(notified, e.NonDisclosureNotified)


def test_england_and_wales_forum_gaps_are_warnings_not_refusals() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    events = _disclose(case, bodies=(ForumBody("Essex Police", AgencyKind.POLICE),))
    decision = only(events, e.DecisionRecorded)
    assert isinstance(decision, e.DecisionRecorded)
    assert decision.warnings == ("forum-missing-probation", "forum-missing-idva")
    assert case.decision is not None and case.decision.warnings == decision.warnings


@pytest.mark.parametrize(("required", "warned"), [(False, False), (True, True)])
def test_childrens_social_care_at_the_forum_is_a_setting(required: bool, warned: bool) -> None:
    child = Party("K1", PartyRole.CHILD, "ESSEX")
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), child, coordinating="ESSEX")
    context = DomainContext(
        settings=DomainSettings(childrens_social_care_required_at_forum=required)
    )
    decision = only(_disclose(case, context=context), e.DecisionRecorded)
    assert isinstance(decision, e.DecisionRecorded)
    assert ("forum-missing-childrens-social-care" in decision.warnings) is warned


def test_spent_convictions_in_england_and_wales_are_disclosed_with_care() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    spent = (DisclosableItem("PNC-1", "2009 assault", spent_conviction=True),)
    decision = only(_disclose(case, items=spent), e.DecisionRecorded)
    assert isinstance(decision, e.DecisionRecorded)
    assert "spent-conviction-disclosed-with-care" in decision.warnings

    strict = DomainContext(
        settings=DomainSettings(spent_convictions_england_wales=SpentConvictionPolicy.EXCLUDE)
    )
    other, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    with pytest.raises(DomainRefusal) as refused:
        _disclose(other, context=strict, items=spent)
    assert refused.value.rule == "spent-conviction"


def test_the_decision_is_recorded_once() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("SURREY"), coordinating="ESSEX")
    _disclose(case)
    with pytest.raises(DomainRefusal) as refused:
        _disclose(case)
    assert refused.value.code is ReasonCode.INVALID_TRANSITION


def test_a_declined_handoff_returns_to_the_coordinating_force_with_the_reason() -> None:
    case = _c_applies("KENT")
    handoff = only(_disclose(case), e.DisclosureHandedOff)
    part = case.part(handoff.part_id or "")
    # Only the force the hand-off went to may decline it, and it must say why.
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.DeclineDisclosureHandoff(
                case_ref="CF-1", actor="ESSEX", at=at(11), part_id=part.part_id, reason="x"
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    [declined] = apply_command(
        case,
        c.DeclineDisclosureHandoff(
            case_ref="CF-1",
            actor="SURREY",
            at=at(11),
            part_id=part.part_id,
            reason="recipient-not-in-area",
        ),
    )
    assert isinstance(declined, e.DisclosureHandoffDeclined)
    assert (part.owner, part.status) == ("KENT", PartStatus.DECLINED)
    last = part.history[-1]
    assert (last.from_owner, last.to_owner, last.note) == (
        "SURREY",
        "KENT",
        "recipient-not-in-area",
    )
    # Surrey no longer holds it; Kent re-assigns it to the right force.
    assert ForceRole.THIRD_PARTYS_HOME_FORCE not in case.roles_of("SURREY")
    apply_command(
        case,
        c.ReassignDisclosureDelivery(
            case_ref="CF-1",
            actor="KENT",
            at=at(12),
            part_id=part.part_id,
            to_force="ESSEX",
            reason="recipient moved to Essex",
        ),
    )
    assert (part.owner, part.status) == ("ESSEX", PartStatus.REQUESTED)

"""DSDAS for Scottish parts: DMF referral and decision [003 §9]."""

from __future__ import annotations

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import audience
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.forums import (
    AgencyKind,
    DisclosableItem,
    ForumBody,
    ForumChair,
    PoliceRank,
)
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.roles import ForceRole
from crossforce.broker.domain.routes import DeliveryMethod
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.broker.domain.views import view_for
from crossforce.contracts.errors import ReasonCode

from .builders import (
    DMF_BODIES,
    EW_FORUM,
    SUPERINTENDENT,
    applicant_a,
    at,
    names,
    only,
    opened,
    subject_b,
)


def _essex_case_with_psos_enquiry() -> tuple[Case, str]:
    case, _ = opened(applicant_a("ESSEX"), subject_b("PSOS", division="E"), coordinating="ESSEX")
    [requested] = apply_command(
        case, c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B")
    )
    part_id = requested.part_id or ""
    apply_command(
        case, c.AcknowledgeEnquiry(case_ref="CF-1", actor="PSOS", at=at(2), part_id=part_id)
    )
    return case, part_id


def _refer(case: Case, dmf: str = "PSOS_E", **extra: object) -> list[e.DomainEvent]:
    return apply_command(
        case,
        c.ReferToDmf(case_ref="CF-1", actor="PSOS", at=at(3), party_id="B", dmf=dmf, **extra),  # type: ignore[arg-type]
    )


def _dmf_decides(
    case: Case,
    part_id: str,
    bodies: tuple[ForumBody, ...] = DMF_BODIES,
    chair: ForumChair = SUPERINTENDENT,
) -> list[e.DomainEvent]:
    return apply_command(
        case,
        c.RecordDmfDecision(
            case_ref="CF-1",
            actor="PSOS_E",
            at=at(4),
            part_id=part_id,
            bodies=bodies,
            chair=chair,
            concern=True,
            recommend_disclosure=True,
            rationale="history of violence toward partners",
        ),
    )


def test_an_england_and_wales_case_with_a_scottish_responding_part_works_end_to_end() -> None:
    case, enquiry_id = _essex_case_with_psos_enquiry()
    referral = only(_refer(case), e.DmfReferred)
    assert isinstance(referral, e.DmfReferred)
    assert audience(case, referral) == {"ESSEX", "PSOS", "PSOS_E"}
    referral_part = case.part(referral.part_id or "")
    assert (referral_part.owner, referral_part.parent_part_id) == ("PSOS_E", enquiry_id)
    assert case.roles_of("PSOS_E") == {ForceRole.DECISION_MAKING_FORUM}

    decided = only(_dmf_decides(case, referral_part.part_id), e.DmfDecisionRecorded)
    assert audience(case, decided) == {"ESSEX", "PSOS", "PSOS_E"}
    apply_command(
        case,
        c.RecordEnquiryResult(
            case_ref="CF-1",
            actor="PSOS",
            at=at(5),
            part_id=enquiry_id,
            concern=True,
            summary="DMF recommends disclosure",
        ),
    )
    events = apply_command(
        case,
        c.RecordDecision(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(6),
            concern=True,
            disclose=True,
            rationale="lawful, necessary, proportionate",
            recipient_party_id="A",
            bodies=EW_FORUM,
        ),
    )
    delivery_id = only(events, e.DisclosureHandedOff).part_id or ""
    apply_command(
        case,
        c.RecordDisclosureDelivered(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(7),
            part_id=delivery_id,
            method=DeliveryMethod.VIDEO,
        ),
    )
    closing = apply_command(
        case,
        c.CloseCase(
            case_ref="CF-1",
            actor="ESSEX",
            at=at(8),
            reason="disclosed",
            intelligence=c.SubmitIntelligence(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(8),
                summary="final report",
                outcome="disclosed",
            ),
        ),
    )
    assert names(closing) == ["intelligence-submitted", "case-closed"]
    assert case.status is CaseStatus.CLOSED
    assert {p.kind: p.status for p in case.parts} == {
        PartKind.APPLICANT_LIAISON: PartStatus.COMPLETED,
        PartKind.ENQUIRY: PartStatus.COMPLETED,
        PartKind.DMF_REFERRAL: PartStatus.COMPLETED,
        PartKind.DISCLOSURE_DELIVERY: PartStatus.COMPLETED,
        PartKind.INTELLIGENCE_SUBMISSION: PartStatus.COMPLETED,
    }
    # The DMF sees its referral only; Police Scotland its enquiry and the referral it made.
    assert [p.kind for p in view_for(case, "PSOS_E").parts] == [PartKind.DMF_REFERRAL]
    assert {p.kind for p in view_for(case, "PSOS").parts} == {
        PartKind.ENQUIRY,
        PartKind.DMF_REFERRAL,
    }
    assert Case.from_dict(case.to_dict()) == case


def test_a_dmf_decision_with_two_bodies_is_refused() -> None:
    case, _ = _essex_case_with_psos_enquiry()
    part_id = _refer(case)[0].part_id or ""
    with pytest.raises(DomainRefusal) as refused:
        _dmf_decides(case, part_id, bodies=DMF_BODIES[:2])
    assert (refused.value.code, refused.value.rule) == (ReasonCode.RULE_VIOLATION, "dmf-quorum")
    assert case.part(part_id).status is PartStatus.REQUESTED


def test_a_dmf_without_police_scotland_is_refused() -> None:
    case, _ = _essex_case_with_psos_enquiry()
    part_id = _refer(case)[0].part_id or ""
    bodies = (*DMF_BODIES[1:], ForumBody("Lothian Housing", AgencyKind.HOUSING))
    with pytest.raises(DomainRefusal) as refused:
        _dmf_decides(case, part_id, bodies=bodies)
    assert refused.value.rule == "dmf-police-scotland"


@pytest.mark.parametrize(
    ("chair", "accepted"),
    [
        (ForumChair(PoliceRank.SUPERINTENDENT), True),
        (ForumChair(PoliceRank.CHIEF_INSPECTOR, nominated_deputy=True), True),
        (ForumChair(PoliceRank.INSPECTOR, nominated_deputy=True), False),
        (ForumChair(PoliceRank.CHIEF_INSPECTOR), False),
    ],
)
def test_the_dmf_chair_is_a_superintendent_or_a_chief_inspector_deputy(
    chair: ForumChair, accepted: bool
) -> None:
    case, _ = _essex_case_with_psos_enquiry()
    part_id = _refer(case)[0].part_id or ""
    if accepted:
        assert names(_dmf_decides(case, part_id, chair=chair)) == ["dmf-decision"]
    else:
        with pytest.raises(DomainRefusal) as refused:
            _dmf_decides(case, part_id, chair=chair)
        assert refused.value.rule == "dmf-chair-rank"


def test_only_the_dmf_that_owns_the_referral_decides() -> None:
    case, _ = _essex_case_with_psos_enquiry()
    part_id = _refer(case)[0].part_id or ""
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordDmfDecision(
                case_ref="CF-1",
                actor="PSOS_G",
                at=at(4),
                part_id=part_id,
                bodies=DMF_BODIES,
                chair=SUPERINTENDENT,
                concern=True,
                recommend_disclosure=True,
                rationale="r",
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED


def test_spent_convictions_are_refused_in_a_dmf_referral() -> None:
    case, _ = _essex_case_with_psos_enquiry()
    spent = (DisclosableItem("CHS-9", "1998 breach of the peace", spent_conviction=True),)
    with pytest.raises(DomainRefusal) as refused:
        _refer(case, items=spent)
    assert refused.value.rule == "spent-conviction-to-dmf"
    assert not any(p.kind is PartKind.DMF_REFERRAL for p in case.parts)


def test_spent_convictions_are_refused_in_a_scottish_enquiry_result() -> None:
    case, enquiry_id = _essex_case_with_psos_enquiry()
    spent = (DisclosableItem("CHS-9", "1998 breach of the peace", spent_conviction=True),)
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordEnquiryResult(
                case_ref="CF-1",
                actor="PSOS",
                at=at(5),
                part_id=enquiry_id,
                concern=False,
                summary="s",
                items=spent,
            ),
        )
    assert refused.value.rule == "spent-conviction"


def test_the_referral_goes_to_the_partys_divisional_dmf() -> None:
    case, _ = _essex_case_with_psos_enquiry()
    with pytest.raises(DomainRefusal) as wrong:
        _refer(case, dmf="PSOS_G")
    assert wrong.value.rule == "wrong-dmf"
    with pytest.raises(DomainRefusal) as not_dmf:
        _refer(case, dmf="ESSEX")
    assert not_dmf.value.rule == "not-a-dmf"


def test_only_police_scotland_with_a_scottish_part_refers_to_a_dmf() -> None:
    case, _ = _essex_case_with_psos_enquiry()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case, c.ReferToDmf(case_ref="CF-1", actor="ESSEX", at=at(3), party_id="B", dmf="PSOS_E")
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED


def test_a_scottish_concern_needs_a_dmf_decision_first() -> None:
    case, enquiry_id = _essex_case_with_psos_enquiry()
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordEnquiryResult(
                case_ref="CF-1",
                actor="PSOS",
                at=at(5),
                part_id=enquiry_id,
                concern=True,
                summary="s",
            ),
        )
    assert refused.value.rule == "dmf-decision-required"


def test_the_decision_waits_for_an_open_dmf_referral() -> None:
    case, _ = _essex_case_with_psos_enquiry()
    _refer(case)
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RecordDecision(
                case_ref="CF-1",
                actor="ESSEX",
                at=at(6),
                concern=False,
                disclose=False,
                rationale="r",
            ),
        )
    assert refused.value.rule == "dmf-decision-pending"


def _scottish_case() -> Case:
    case, _ = opened(applicant_a("PSOS"), subject_b("PSOS"), receiving="PSOS", coordinating="PSOS")
    return case


def _scottish_disclosure(case: Case) -> list[e.DomainEvent]:
    return apply_command(
        case,
        c.RecordDecision(
            case_ref="CF-1",
            actor="PSOS",
            at=at(6),
            concern=True,
            disclose=True,
            rationale="r",
            recipient_party_id="A",
        ),
    )


def test_a_scottish_disclosure_needs_a_dmf_recommendation_unless_risk_is_immediate() -> None:
    case = _scottish_case()
    with pytest.raises(DomainRefusal) as refused:
        _scottish_disclosure(case)
    assert refused.value.rule == "dmf-decision-required"
    # 003 §5.20.2: immediate risk is the only case for disclosing before all stages are done.
    apply_command(
        case, c.RaiseImmediateRisk(case_ref="CF-1", actor="PSOS", at=at(5), summary="threat")
    )
    events = _scottish_disclosure(case)
    assert all(event.priority for event in events)
    assert "disclosure-handoff" in names(events)


def test_a_scottish_coordinating_force_refers_its_own_party_and_the_dmf_hears_of_refusal() -> None:
    case = _scottish_case()
    part_id = _refer(case)[0].part_id or ""
    _dmf_decides(case, part_id)
    delivery_id = only(_scottish_disclosure(case), e.DisclosureHandedOff).part_id or ""
    with pytest.raises(DomainRefusal) as video:
        apply_command(
            case,
            c.RecordDisclosureDelivered(
                case_ref="CF-1",
                actor="PSOS",
                at=at(7),
                part_id=delivery_id,
                method=DeliveryMethod.VIDEO,
            ),
        )
    assert video.value.rule == "in-person-only"
    [refused] = apply_command(
        case,
        c.RecordUndertakingRefused(case_ref="CF-1", actor="PSOS", at=at(7), part_id=delivery_id),
    )
    assert isinstance(refused, e.UndertakingRefused)
    # 003 §10.3: in Scotland the DMF is told.
    assert refused.dmfs_informed == ("PSOS_E",)
    assert "PSOS_E" in audience(case, refused)


@pytest.mark.parametrize(
    ("bodies", "rule"),
    [
        # Any part of Police Scotland is Police Scotland, whatever it is called.
        (
            (
                ForumBody("Police Scotland – Edinburgh City Division", AgencyKind.POLICE),
                *DMF_BODIES[1:],
            ),
            None,
        ),
        (
            (ForumBody("E Division Public Protection Unit", AgencyKind.POLICE, force="PSOS_E"),)
            + DMF_BODIES[1:],
            None,
        ),
        # ... but it is one body, however many of its divisions attend.
        (
            (
                ForumBody("Police Scotland", AgencyKind.POLICE),
                ForumBody("Police Scotland – Edinburgh City Division", AgencyKind.POLICE),
                DMF_BODIES[1],
            ),
            "dmf-quorum",
        ),
        # A police body of another force is not Police Scotland.
        (
            (ForumBody("British Transport Police", AgencyKind.POLICE, force="BTP"),)
            + DMF_BODIES[1:],
            "dmf-police-scotland",
        ),
        # Membership rests on data-controller status, not on the name [003 §9.12].
        (
            (
                ForumBody("Police Scotland", AgencyKind.POLICE),
                *DMF_BODIES[1:],
                ForumBody("Lothian Befriending Group", AgencyKind.OTHER, data_controller=False),
            ),
            "dmf-data-controller",
        ),
    ],
)
def test_dmf_bodies_are_known_by_kind_force_and_data_controller_status(
    bodies: tuple[ForumBody, ...], rule: str | None
) -> None:
    case, _ = _essex_case_with_psos_enquiry()
    part_id = _refer(case)[0].part_id or ""
    if rule is None:
        _dmf_decides(case, part_id, bodies=bodies)
        assert case.part(part_id).status is PartStatus.COMPLETED
        return
    with pytest.raises(DomainRefusal) as refused:
        _dmf_decides(case, part_id, bodies=bodies)
    assert (refused.value.code, refused.value.rule) == (ReasonCode.RULE_VIOLATION, rule)

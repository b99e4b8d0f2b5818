"""The message catalogue: names, shapes and the structural rules each payload enforces."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Jurisdiction, parse_envelope
from crossforce.contracts.examples import example_data
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.case import CaseOpened
from crossforce.contracts.messages.decision import DecisionRecorded
from crossforce.contracts.messages.disclosure import DisclosureDelivered, DisclosureHandoff
from crossforce.contracts.messages.dmf import DmfDecision, DmfReferral
from crossforce.contracts.messages.enquiry import CheckOutcome, EnquiryRequested, EnquiryResult
from crossforce.contracts.messages.escalation import DeadlineReminder, OverdueNotice
from crossforce.contracts.messages.receipt import Receipt
from crossforce.contracts.messages.supervision import (
    EscalationAcknowledged,
    PartChased,
    PartReassigned,
)
from crossforce.contracts.registry import REGISTRY

EXPECTED_NAMES = {
    "case-opened",
    "co-ordination-transfer-requested",
    "co-ordination-transfer-accepted",
    "co-ordination-transfer-declined",
    "party-home-force-corrected",
    "enquiry-reassigned",
    "enquiry-requested",
    "enquiry-acknowledged",
    "enquiry-declined",
    "enquiry-result",
    "immediate-risk-raised",
    "crime-linked",
    "decision-recorded",
    "dmf-referral",
    "dmf-decision",
    "disclosure-handoff",
    "disclosure-delivered",
    "non-disclosure-notified",
    "delay-notified",
    "malicious-application-marked",
    "case-closed",
    "intelligence-submission",
    "receipt",
    "overdue-notice",
    "escalation-raised",
    "deadline-reminder",
    "deadline-extended",
    "escalation-acknowledged",
    "part-chased",
    "part-reassigned",
    "step-completed",
    "applicant-identity-verified",
    "disclosure-handoff-acknowledged",
    "disclosure-handoff-declined",
    "malicious-marker-found",
    "police-employee-party-notified",
    "case-access-reported",
}


def data(name: str, version: int | None = None, **changes: Any) -> dict[str, Any]:
    body = example_data(name, "KENT", "ESSEX", version)
    body.update(changes)
    return body


def test_catalogue_has_every_family() -> None:
    assert set(REGISTRY.names()) == EXPECTED_NAMES
    assert REGISTRY.versions("enquiry-result") == [1, 2]
    assert REGISTRY.latest("enquiry-result") is EnquiryResult


@pytest.mark.parametrize("model", REGISTRY.catalogue(), ids=lambda m: m.type_uri())
def test_every_model_is_named_documented_and_closed(model: type[Message]) -> None:
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", model.NAME)
    assert "domain.md §" in (model.__doc__ or ""), "docstring cites domain.md"
    body = data(model.NAME, model.VERSION)
    with pytest.raises(ValidationError, match="extra"):
        model.model_validate({**body, "unexpected_field": 1})


@pytest.mark.parametrize("model", REGISTRY.catalogue(), ids=lambda m: m.type_uri())
def test_every_model_travels_in_an_envelope(model: type[Message]) -> None:
    message = model.model_validate(data(model.NAME, model.VERSION))
    envelope = compose(message, sender="KENT", case_ref="CF-1", recipients=["ESSEX"])
    received = parse_envelope(envelope.to_bytes())
    opened = REGISTRY.open(received)
    assert type(opened) is REGISTRY.latest(model.NAME)
    if model.VERSION == REGISTRY.latest(model.NAME).VERSION:
        assert opened == message


class TestCaseOpened:
    def test_route_must_exist_in_the_jurisdiction(self) -> None:
        with pytest.raises(ValidationError, match="does not exist in scotland"):
            CaseOpened.model_validate(
                data("case-opened", jurisdiction="scotland", route="right-to-know")
            )
        with pytest.raises(ValidationError, match="does not exist in england-wales"):
            CaseOpened.model_validate(data("case-opened", route="power-to-tell"))

    def test_right_to_ask_names_one_applicant_matching_applicant_role(self) -> None:
        with pytest.raises(ValidationError, match="applicant_role"):
            CaseOpened.model_validate(data("case-opened", applicant_role=None))
        with pytest.raises(ValidationError, match="must match applicant_role"):
            CaseOpened.model_validate(data("case-opened", applicant_role="C"))
        body = data("case-opened")
        body["parties"][1] = {**body["parties"][1], "role": "C", "is_applicant": True}
        with pytest.raises(ValidationError, match="exactly one party"):
            CaseOpened.model_validate(body)

    def test_right_to_know_has_no_applicant(self) -> None:
        body = data("case-opened", route="right-to-know", applicant_role=None)
        with pytest.raises(ValidationError, match="has no applicant"):
            CaseOpened.model_validate(body)
        body["parties"][0] = {**body["parties"][0], "is_applicant": False}
        case = CaseOpened.model_validate(body)
        assert case.applicant_role is None

    def test_only_a_or_c_can_be_the_applicant(self) -> None:
        body = data("case-opened")
        body["parties"][1] = {**body["parties"][1], "is_applicant": True}
        with pytest.raises(ValidationError, match="always A or C"):
            CaseOpened.model_validate(body)

    def test_party_ids_are_unique(self) -> None:
        body = data("case-opened")
        body["parties"][2] = {**body["parties"][2], "party_id": "P1"}
        with pytest.raises(ValidationError, match="appears twice"):
            CaseOpened.model_validate(body)

    def test_anonymous_party_carries_no_identity(self) -> None:
        body = data("case-opened")
        body["parties"][0] = {**body["parties"][0], "anonymous": True, "identity_verified": False}
        with pytest.raises(ValidationError, match="no identity"):
            CaseOpened.model_validate(body)
        body["parties"][0].pop("person")
        case = CaseOpened.model_validate(body)
        assert case.party("P1").anonymous and case.party("P1").person is None

    def test_initial_contact_must_carry_an_offset(self) -> None:
        body = data("case-opened", initial_contact_at=datetime(2026, 3, 2, 9, 30).isoformat())
        with pytest.raises(ValidationError, match="timezone"):
            CaseOpened.model_validate(body)

    def test_postcode_district_is_an_outward_code_only(self) -> None:
        body = data("case-opened")
        body["parties"][0] = {**body["parties"][0], "postcode_district": "ME14 5AB"}
        with pytest.raises(ValidationError, match="pattern"):
            CaseOpened.model_validate(body)


class TestEnquiries:
    def test_parties_are_exactly_those_named(self) -> None:
        body = data("enquiry-requested", party_ids=["P2", "P3"])
        with pytest.raises(ValidationError, match="exactly the parties"):
            EnquiryRequested.model_validate(body)

    def test_checks_come_from_the_jurisdiction_catalogue(self) -> None:
        with pytest.raises(ValidationError, match="not in the england-wales catalogue"):
            EnquiryRequested.model_validate(data("enquiry-requested", requested_checks=["CHS"]))
        scottish = data(
            "enquiry-requested", jurisdiction="scotland", requested_checks=["CHS", "IVPD"]
        )
        assert EnquiryRequested.model_validate(scottish).jurisdiction is Jurisdiction.SCOTLAND
        with pytest.raises(ValidationError, match="appears twice"):
            EnquiryRequested.model_validate(
                data("enquiry-requested", requested_checks=["PNC", "PNC"])
            )

    def test_risk_level_only_on_a_risk_tool(self) -> None:
        with pytest.raises(ValidationError, match="DASH or DAQ"):
            CheckOutcome.model_validate(
                {"check": "PNC", "result": "trace-concern", "risk_level": "high"}
            )
        assert (
            CheckOutcome.model_validate(
                {"check": "DAQ", "result": "trace-concern", "risk_level": "high"}
            ).risk_level
            == "high"
        )

    def test_spent_conviction_is_a_trace(self) -> None:
        with pytest.raises(ValidationError, match="is a trace"):
            CheckOutcome.model_validate(
                {"check": "PNC", "result": "no-trace", "spent_conviction": True}
            )

    def test_other_check_needs_a_name(self) -> None:
        with pytest.raises(ValidationError, match="check_name"):
            CheckOutcome.model_validate({"check": "OTHER", "result": "no-trace"})

    def test_any_concern(self) -> None:
        result = EnquiryResult.model_validate(data("enquiry-result"))
        assert result.any_concern
        calm = data("enquiry-result", checks=[{"check": "PNC", "result": "no-trace"}])
        assert not EnquiryResult.model_validate(calm).any_concern


class TestDecisions:
    def test_disclosure_names_its_recipient(self) -> None:
        with pytest.raises(ValidationError, match="disclosure_recipient_party_id"):
            DecisionRecorded.model_validate(
                data("decision-recorded", disclosure_recipient_party_id=None)
            )
        no = {"answer": False, "rationale": "Not necessary"}
        with pytest.raises(ValidationError, match="no disclosure_recipient_party_id"):
            DecisionRecorded.model_validate(data("decision-recorded", disclose=no))

    def test_rule_breaches_stay_representable_for_the_hub_to_refuse(self) -> None:
        # B told although nothing is disclosed (001 ¶89(b)(v)): a case rule, not a schema rule.
        body = data(
            "decision-recorded",
            disclose={"answer": False, "rationale": "No pressing need"},
            inform_b={"answer": True, "rationale": "Requested"},
            disclosure_recipient_party_id=None,
        )
        assert DecisionRecorded.model_validate(body).inform_b.answer is True
        spent = DmfDecision.model_validate(data("dmf-decision", includes_spent_convictions=True))
        assert spent.includes_spent_convictions
        low_rank = data("dmf-decision", chair={"name": "F. Nobody", "rank": "SERGEANT"})
        assert DmfDecision.model_validate(low_rank).chair.rank == "SERGEANT"

    def test_dmf_codes_are_divisional(self) -> None:
        with pytest.raises(ValidationError, match="pattern"):
            DmfReferral.model_validate(data("dmf-referral", dmf="PSOS"))
        assert DmfReferral.model_validate(data("dmf-referral", dmf="PSOS_G")).dmf == "PSOS_G"

    def test_unknown_chair_rank_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="rank"):
            DmfDecision.model_validate(data("dmf-decision", chair={"name": "X", "rank": "BOSS"}))


class TestDisclosure:
    def test_refused_undertaking_needs_a_recorded_decision(self) -> None:
        with pytest.raises(ValidationError, match="refused_decision"):
            DisclosureDelivered.model_validate(data("disclosure-delivered", undertaking="refused"))
        withheld = DisclosureDelivered.model_validate(
            data(
                "disclosure-delivered",
                undertaking="refused",
                refused_decision="withhold",
                refused_rationale="Recipient would share it with B",
            )
        )
        assert not withheld.disclosed
        assert DisclosureDelivered.model_validate(data("disclosure-delivered")).disclosed

    def test_wording_travels_only_as_a_reference(self) -> None:
        text = {"force": "KENT", "reference": "Your partner has convictions for assault"}
        with pytest.raises(ValidationError, match="pattern"):
            DisclosureDelivered.model_validate(data("disclosure-delivered", wording=text))
        with pytest.raises(ValidationError, match="extra"):
            DisclosureDelivered.model_validate(data("disclosure-delivered", wording_text="..."))

    def test_handoff_never_goes_to_b_or_an_anonymous_party(self) -> None:
        body = data("disclosure-handoff")
        with pytest.raises(ValidationError, match="never the disclosure recipient"):
            DisclosureHandoff.model_validate(
                {**body, "recipient": {**body["recipient"], "role": "B", "is_applicant": False}}
            )
        with pytest.raises(ValidationError, match="recipient_party_id"):
            DisclosureHandoff.model_validate({**body, "recipient_party_id": "P9"})


class TestReceiptsAndDeadlines:
    def test_rejection_carries_a_reason_code(self) -> None:
        with pytest.raises(ValidationError, match="reason_code"):
            Receipt.model_validate(data("receipt", status="rejected"))
        rejected = Receipt.model_validate(
            data("receipt", status="rejected", reason_code="BAD_SIGNATURE", message="bad sig")
        )
        assert rejected.reason_code == "BAD_SIGNATURE"
        with pytest.raises(ValidationError, match="reason_code"):
            Receipt.model_validate(data("receipt", status="rejected", reason_code="NOT_A_CODE"))

    def test_receipt_message_is_one_line(self) -> None:
        with pytest.raises(ValidationError, match="pattern"):
            Receipt.model_validate(data("receipt", message="two\nlines"))

    def test_lateness_sign(self) -> None:
        with pytest.raises(ValidationError, match="less than or equal"):
            DeadlineReminder.model_validate(data("deadline-reminder", working_days_late=1))
        with pytest.raises(ValidationError, match="greater than or equal"):
            OverdueNotice.model_validate(data("overdue-notice", working_days_late=-1))
        with pytest.raises(ValidationError, match="level"):
            OverdueNotice.model_validate(data("overdue-notice", level=10))


class TestSupervision:
    def test_a_reassignment_names_an_officer_or_team_by_reference_not_by_name(self) -> None:
        with pytest.raises(ValidationError, match="pattern"):
            PartReassigned.model_validate(data("part-reassigned", assigned_to="DC Jo Bloggs"))
        with pytest.raises(ValidationError, match="assignee_kind"):
            PartReassigned.model_validate(data("part-reassigned", assignee_kind="agency"))
        # No force to move it to: that is enquiry-reassigned.
        with pytest.raises(ValidationError, match="extra"):
            PartReassigned.model_validate(data("part-reassigned", to_force="SURREY"))

    def test_a_chase_note_is_one_short_line(self) -> None:
        assert PartChased.model_validate(data("part-chased", note=None)).note is None
        with pytest.raises(ValidationError, match="at most 140"):
            PartChased.model_validate(data("part-chased", note="x" * 141))
        with pytest.raises(ValidationError, match="pattern"):
            PartChased.model_validate(data("part-chased", note="two\nlines"))

    def test_an_acknowledgement_names_the_notice_part_and_level(self) -> None:
        body = data("escalation-acknowledged")
        for field in ("escalation_id", "part_id", "level"):
            with pytest.raises(ValidationError, match=field):
                EscalationAcknowledged.model_validate({k: v for k, v in body.items() if k != field})
        with pytest.raises(ValidationError, match="level"):
            EscalationAcknowledged.model_validate({**body, "level": 10})

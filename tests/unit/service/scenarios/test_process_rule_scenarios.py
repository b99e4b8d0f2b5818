"""Process rules through the hub's core in-process: the final report, routed-away
applications and identity verified after opening.

Each scenario sends signed messages as the forces and checks the hub's signed receipt, what
each force was delivered and what the hub stored. The pure-domain versions are in
tests/unit/domain/test_final_report.py and test_step_clocks.py.
"""

from __future__ import annotations

from typing import Any

from scenario_support import (
    A_APPLICANT,
    accepted,
    build,
    deadlines,
    events,
    names_by_force,
    opened,
    party,
    refused,
    send,
    view,
)

from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.service.queries import case_history
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message

CASE = "CF-2026-400001"


def report(sender: str, receiving: str, **changes: Any) -> Message:
    """A final report of a Right to Ask by C (P4, Essex) about B (P2, Surrey) for A (P1)."""
    parties = [
        {"party_id": "P1", "role": "A", "home_force": "ESSEX"},
        {"party_id": "P2", "role": "B", "home_force": "SURREY"},
        {"party_id": "P4", "role": "C", "is_applicant": True, "home_force": "ESSEX"},
    ]
    request = build("intelligence-submission", sender, sender).model_dump(mode="json")["request"]
    fields: dict[str, Any] = {
        "request": {**request, "receiving_force": receiving},
        "parties": parties,
        "requester_is_third_party": True,
        "forces_involved": sorted({receiving, sender}),
        "outcomes": [],
    }
    return build("intelligence-submission", sender, sender, **{**fields, **changes})


def test_a_final_report_untrue_to_the_case_is_refused_naming_the_field(hub: InProcessHub) -> None:
    parties = [
        party("P1", "A", "ESSEX"),
        party("P2", "B", "SURREY"),
        party("P4", "C", "ESSEX", **A_APPLICANT),
    ]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties, applicant_role="C"))
    names_by_force(hub, "ESSEX", "KENT", "SURREY")

    # A report that leaves B out, or says the requester is not a third party when C applied.
    true = report("ESSEX", "KENT")
    left_out = report("ESSEX", "KENT", parties=true.model_dump(mode="json")["parties"][::2])
    detail = refused(
        send(hub, "ESSEX", CASE, left_out),
        ReasonCode.RULE_VIOLATION,
        "final-report-mismatch",
    )
    assert "parties: leaves out P2" in detail
    not_third = report("ESSEX", "KENT", requester_is_third_party=False)
    detail = refused(
        send(hub, "ESSEX", CASE, not_third),
        ReasonCode.RULE_VIOLATION,
        "final-report-mismatch",
    )
    assert "requester_is_third_party" in detail
    assert "intelligence-submitted" not in events(hub, CASE)

    # The true report is filed; nobody outside the case hears of it.
    accepted(hub, "ESSEX", CASE, true)
    assert "intelligence-submitted" in events(hub, CASE)
    heard = names_by_force(hub, "KENT", "SURREY", "METROPOLITAN")
    assert heard == {"KENT": [], "SURREY": [], "METROPOLITAN": []}


def test_an_application_routed_away_is_closed_at_once_and_still_files_its_report(
    hub: InProcessHub,
) -> None:
    parties = [party("P1", "A", "KENT", **A_APPLICANT), party("P2", "B", "ESSEX")]
    accepted(hub, "KENT", CASE, opened("KENT", "KENT", parties, application_category="sar"))
    assert view(hub, CASE).status.value == "closed"

    def routed_away_report(category: str) -> Message:
        request = build("intelligence-submission", "KENT", "KENT").model_dump(mode="json")
        return build(
            "intelligence-submission",
            "KENT",
            "KENT",
            request={**request["request"], "application_category": category},
            outcome="not-genuine-application",
            closing_stage="initial-contact",
            outcomes=[],
            forces_involved=["KENT"],
        )

    # A report that says it was a genuine application is refused; the true one is filed once.
    filed, genuine = routed_away_report("sar"), routed_away_report("genuine")
    refused(send(hub, "KENT", CASE, genuine), ReasonCode.RULE_VIOLATION, "final-report-mismatch")
    accepted(hub, "KENT", CASE, filed)
    # Filed into the intelligence ledger like any final report.
    assert events(hub, CASE) == [
        "case-opened",
        "application-routed-away",
        "intelligence-submitted",
        "ledger-entry",
    ]
    [part] = view(hub, CASE).parts
    assert (part.kind.value, part.status.value) == ("intelligence-submission", "completed")
    refused(send(hub, "KENT", CASE, filed), ReasonCode.INVALID_TRANSITION, "case-closed")
    # Essex, where B lives, was never asked anything.
    assert hub.names("ESSEX") == []


def test_identity_verified_after_opening_lets_the_case_reach_a_disclosure(
    hub: InProcessHub,
) -> None:
    unverified = {"is_applicant": True, "identity_verified": False}
    parties = [party("P1", "A", "ESSEX", **unverified), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    disclose = build(
        "decision-recorded",
        "ESSEX",
        "ESSEX",
        disclosure_recipient_party_id="P1",
        subject_party_id="P2",
    )
    refused(
        send(hub, "ESSEX", CASE, disclose),
        ReasonCode.RULE_VIOLATION,
        "identity-not-verified",
    )
    # Only the co-ordinating force verifies, with Annex E evidence, at the face-to-face meeting.
    verified = build("applicant-identity-verified", "ESSEX", "ESSEX")
    refused(
        send(hub, "KENT", CASE, verified),
        ReasonCode.NOT_AUTHORISED,
        "not-coordinating-force",
    )
    names_by_force(hub, "ESSEX", "SURREY")
    accepted(hub, "ESSEX", CASE, verified)
    [applicant] = [p for p in view(hub, CASE).parties if p.is_applicant]
    assert applicant.identity_verified
    [line] = [h for h in case_history(hub.engine, CASE) if h.event == "applicant-identity-verified"]
    assert "method=passport, Council tax bill at the home address" in line.summary
    assert "face_to_face=True" in line.summary
    # It completes the face-to-face step, and the initial checks before it: their clocks stop.
    clocks = {r["step"]: r["status"] for r in deadlines(hub, CASE)}
    assert clocks["ew-right-to-ask.face-to-face"] == "closed"
    assert clocks["ew-right-to-ask.initial-checks"] == "closed"
    assert clocks["ew-right-to-ask.full-risk-assessment"] == "open"
    accepted(hub, "ESSEX", CASE, disclose)
    # Surrey, which holds nothing of the applicant, never heard of the verification.
    assert "applicant-identity-verified" not in hub.names("SURREY")


def test_a_coordination_transfer_is_answered_by_the_id_of_the_open_request(
    hub: InProcessHub,
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    ask = build(
        "co-ordination-transfer-requested",
        "ESSEX",
        "METROPOLITAN",
        transfer_id="TR-0001",
        from_force="ESSEX",
        to_force="METROPOLITAN",
    )
    accepted(hub, "ESSEX", CASE, ask)
    names_by_force(hub, "ESSEX", "METROPOLITAN", "KENT")

    # An answer naming another request moves nothing, and nobody hears of it.
    wrong = build("co-ordination-transfer-accepted", "METROPOLITAN", "ESSEX", transfer_id="TR-9")
    detail = refused(
        send(hub, "METROPOLITAN", CASE, wrong), ReasonCode.RULE_VIOLATION, "unknown-transfer"
    )
    assert "TR-9 is not the open request (TR-0001)" in detail
    assert view(hub, CASE).coordinating_force == "ESSEX"
    assert names_by_force(hub, "ESSEX", "KENT") == {"ESSEX": [], "KENT": []}

    right = build("co-ordination-transfer-accepted", "METROPOLITAN", "ESSEX", transfer_id="TR-0001")
    accepted(hub, "METROPOLITAN", CASE, right)
    assert view(hub, CASE).coordinating_force == "METROPOLITAN"
    heard = names_by_force(hub, "ESSEX", "KENT")
    assert heard == {"ESSEX": ["co-ordination-transfer-accepted"], "KENT": []}


def test_a_disclosure_handoff_is_acknowledged_or_declined_back_to_the_coordinator(
    hub: InProcessHub,
) -> None:
    # C (Kent) asks about B (Essex); the disclosure goes to A, who lives in Surrey.
    parties = [
        party("P1", "A", "SURREY"),
        party("P2", "B", "ESSEX"),
        party("P4", "C", "KENT", **A_APPLICANT),
    ]
    accepted(hub, "KENT", CASE, opened("KENT", "KENT", parties, applicant_role="C"))
    decision = build(
        "decision-recorded",
        "KENT",
        "KENT",
        disclosure_recipient_party_id="P1",
        subject_party_id="P2",
    )
    accepted(hub, "KENT", CASE, decision)
    got = names_by_force(hub, "SURREY", "KENT", "ESSEX")
    assert got["SURREY"] == ["disclosure-handoff"]

    def delivery_part() -> Any:
        [part] = [p for p in view(hub, CASE).parts if p.kind.value == "disclosure-delivery"]
        return part

    # Surrey takes it on: Kent, which decided, hears so; Essex, B's force, does not.
    ack = build("disclosure-handoff-acknowledged", "SURREY", "KENT", recipient_party_id="P1")
    accepted(hub, "SURREY", CASE, ack)
    part = delivery_part()
    assert (part.owner, part.status.value) == ("SURREY", "in-progress")
    got = names_by_force(hub, "KENT", "ESSEX")
    assert got == {"KENT": ["disclosure-handoff-acknowledged"], "ESSEX": []}

    # Then finds A has moved. Only the force holding the hand-off answers it.
    decline = build(
        "disclosure-handoff-declined",
        "SURREY",
        "KENT",
        recipient_party_id="P1",
        detail="A moved to Essex last month",
        suggested_force="ESSEX",
    )
    refused(send(hub, "ESSEX", CASE, decline), ReasonCode.INVALID_TRANSITION, "no-handoff")
    accepted(hub, "SURREY", CASE, decline)
    part = delivery_part()
    assert (part.owner, part.status.value) == ("KENT", "declined")
    assert part.history[-1].note == "recipient-not-in-area: A moved to Essex last month"
    # Kent, which must now deliver or re-assign, hears why; Essex, B's force, hears nothing.
    got = names_by_force(hub, "KENT", "ESSEX")
    assert got == {"KENT": ["disclosure-handoff-declined"], "ESSEX": []}
    # Surrey holds nothing any more: it can neither acknowledge nor deliver.
    refused(send(hub, "SURREY", CASE, ack), ReasonCode.INVALID_TRANSITION, "no-handoff")


def test_a_malicious_marker_reaches_the_later_cases_coordinating_force_alone(
    hub: InProcessHub,
) -> None:
    first, later = "CF-2026-400071", "CF-2026-400072"
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", first, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", first, build("malicious-application-marked", "ESSEX", "ESSEX"))
    names_by_force(hub, "ESSEX", "KENT", "SURREY", "METROPOLITAN")

    # Kent receives a later case about the same B; the Met, where A now lives, co-ordinates.
    again = [party("P1", "A", "METROPOLITAN", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", later, opened("KENT", "METROPOLITAN", again))
    drained = {f: hub.drain(f) for f in ("METROPOLITAN", "KENT", "ESSEX", "SURREY")}
    names = {f: sorted(d.name for d in found) for f, found in drained.items()}
    assert names == {
        "METROPOLITAN": ["case-opened", "malicious-marker-found"],
        "KENT": [],
        "ESSEX": [],
        "SURREY": [],
    }
    [found] = [d.envelope for d in drained["METROPOLITAN"] if d.name == "malicious-marker-found"]
    assert found.senderforce == "HUB" and found.caseref == later
    assert (found.data["party_id"], found.data["marked_in_case"], found.data["marked_by"]) == (
        "P2",
        first,
        "ESSEX",
    )
    assert found.data["marked_at"]


def test_a_referral_goes_to_the_dmf_of_the_partys_division_and_its_bodies_are_known_by_kind(
    hub: InProcessHub,
) -> None:
    # B lives in Leith (EH6): Edinburgh City, E Division. No division is sent: the hub reads it.
    b_in_leith = party("P2", "B", "PSOS", postcode_district="EH6")
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), b_in_leith]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    ask = build(
        "enquiry-requested",
        "ESSEX",
        "PSOS",
        enquiry_id="E1",
        responding_force="PSOS",
        party_ids=["P2"],
        parties=[b_in_leith],
        due_at=None,
    )
    accepted(hub, "ESSEX", CASE, ask)
    accepted(hub, "PSOS", CASE, build("enquiry-acknowledged", "PSOS", "ESSEX", enquiry_id="E1"))
    names_by_force(hub, "PSOS_E", "ESSEX")

    def referral(dmf: str) -> Message:
        return build("dmf-referral", "PSOS", dmf, dmf=dmf, party_ids=["P2"])

    detail = refused(
        send(hub, "PSOS", CASE, referral("PSOS_G")),
        ReasonCode.RULE_VIOLATION,
        "wrong-dmf",
    )
    assert "division E" in detail and "PSOS_E" in detail
    accepted(hub, "PSOS", CASE, referral("PSOS_E"))
    assert hub.names("PSOS_E") == ["dmf-referral"]

    # Police Scotland attends as its Edinburgh division: still Police Scotland.
    bodies = build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E").model_dump(mode="json")[
        "bodies_present"
    ]
    bodies[0] = {
        "agency": "police",
        "name": "Police Scotland – Edinburgh City Division",
        "registered_data_controller": True,
    }
    decided = build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E", bodies_present=bodies)
    accepted(hub, "PSOS_E", CASE, decided)
    assert hub.names("PSOS")[-1:] == ["dmf-decision"]

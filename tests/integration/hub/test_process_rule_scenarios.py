"""Process rules end to end through the hub: the final report, routed-away applications and
identity verified after opening.

Each scenario sends signed messages from ForceClients to a real nats-server and hub and checks
the hub's signed receipt, what each force heard and what the hub stored. The pure-domain
versions are in tests/unit/domain/test_final_report.py and test_step_clocks.py.
"""

from __future__ import annotations

from typing import Any

from hub_helpers import A_APPLICANT, drain_all, names_by_force, opened, party

from crossforce.adapters.client.force_client import ForceClient, SignedReceipt
from crossforce.adapters.sql import schema
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import _build
from crossforce.broker.service.queries import case_history, case_view
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message

CASE = "CF-2026-400001"


def refused(receipt: SignedReceipt, code: ReasonCode, rule: str) -> str:
    assert not receipt.accepted, f"accepted, but {rule} should have refused it"
    assert receipt.reason_code is code, receipt.receipt.message
    message = receipt.receipt.message or ""
    assert message.startswith(f"{rule}:"), message
    return message


async def accepted(client: ForceClient, message: Message, case_ref: str = CASE) -> None:
    receipt = await client.send(message, case_ref=case_ref)
    assert receipt.accepted, f"{message.NAME}: {receipt.reason_code} {receipt.receipt.message}"


def events(running: RunningBroker, case_ref: str = CASE) -> list[str]:
    assert running.engine is not None
    return [line.event for line in case_history(running.engine, case_ref)]


def report(sender: str, receiving: str, **changes: Any) -> Message:
    """A final report of a Right to Ask by C (P4, Essex) about B (P2, Surrey) for A (P1)."""
    parties = [
        {"party_id": "P1", "role": "A", "home_force": "ESSEX"},
        {"party_id": "P2", "role": "B", "home_force": "SURREY"},
        {"party_id": "P4", "role": "C", "is_applicant": True, "home_force": "ESSEX"},
    ]
    request = _build("intelligence-submission", sender, sender).model_dump(mode="json")["request"]
    fields: dict[str, Any] = {
        "request": {**request, "receiving_force": receiving},
        "parties": parties,
        "requester_is_third_party": True,
        "forces_involved": sorted({receiving, sender}),
        "outcomes": [],
    }
    return _build("intelligence-submission", sender, sender, **{**fields, **changes})


async def test_a_final_report_untrue_to_the_case_is_refused_naming_the_field(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [
        party("P1", "A", "ESSEX"),
        party("P2", "B", "SURREY"),
        party("P4", "C", "ESSEX", **A_APPLICANT),
    ]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties, applicant_role="C"))
    await names_by_force(clients, "ESSEX", "KENT", "SURREY")
    essex = clients["ESSEX"]

    # A report that leaves B out, or says the requester is not a third party when C applied.
    true = report("ESSEX", "KENT")
    left_out = report("ESSEX", "KENT", parties=true.model_dump(mode="json")["parties"][::2])
    detail = refused(
        await essex.send(left_out, case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "final-report-mismatch",
    )
    assert "parties: leaves out P2" in detail
    not_third = report("ESSEX", "KENT", requester_is_third_party=False)
    detail = refused(
        await essex.send(not_third, case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "final-report-mismatch",
    )
    assert "requester_is_third_party" in detail
    assert "intelligence-submitted" not in events(running)

    # The true report is filed; nobody outside the case hears of it.
    await accepted(essex, true)
    assert "intelligence-submitted" in events(running)
    heard = await names_by_force(clients, "KENT", "SURREY", "METROPOLITAN")
    assert heard == {"KENT": [], "SURREY": [], "METROPOLITAN": []}


async def test_an_application_routed_away_is_closed_at_once_and_still_files_its_report(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    kent = clients["KENT"]
    parties = [party("P1", "A", "KENT", **A_APPLICANT), party("P2", "B", "ESSEX")]
    await accepted(kent, opened("KENT", "KENT", parties, application_category="sar"))
    assert running.engine is not None
    assert case_view(running.engine, CASE, None).status.value == "closed"

    def routed_away_report(category: str) -> Message:
        request = _build("intelligence-submission", "KENT", "KENT").model_dump(mode="json")
        return _build(
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
    refused(
        await kent.send(genuine, case_ref=CASE), ReasonCode.RULE_VIOLATION, "final-report-mismatch"
    )
    await accepted(kent, filed)
    # Filed into the intelligence ledger like any final report.
    assert events(running) == [
        "case-opened",
        "application-routed-away",
        "intelligence-submitted",
        "ledger-entry",
    ]
    [part] = case_view(running.engine, CASE, None).parts
    assert (part.kind.value, part.status.value) == ("intelligence-submission", "completed")
    refused(await kent.send(filed, case_ref=CASE), ReasonCode.INVALID_TRANSITION, "case-closed")
    # Essex, where B lives, was never asked anything.
    assert (await names_by_force(clients, "ESSEX"))["ESSEX"] == []


async def test_identity_verified_after_opening_lets_the_case_reach_a_disclosure(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any
) -> None:
    unverified = {"is_applicant": True, "identity_verified": False}
    parties = [party("P1", "A", "ESSEX", **unverified), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    disclose = _build(
        "decision-recorded",
        "ESSEX",
        "ESSEX",
        disclosure_recipient_party_id="P1",
        subject_party_id="P2",
    )
    refused(
        await clients["ESSEX"].send(disclose, case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "identity-not-verified",
    )
    # Only the co-ordinating force verifies, with Annex E evidence, at the face-to-face meeting.
    verified = _build("applicant-identity-verified", "ESSEX", "ESSEX")
    refused(
        await clients["KENT"].send(verified, case_ref=CASE),
        ReasonCode.NOT_AUTHORISED,
        "not-coordinating-force",
    )
    await names_by_force(clients, "ESSEX", "SURREY")
    await accepted(clients["ESSEX"], verified)
    assert running.engine is not None
    [applicant] = [p for p in case_view(running.engine, CASE, None).parties if p.is_applicant]
    assert applicant.identity_verified
    line = [
        h for h in case_history(running.engine, CASE) if h.event == "applicant-identity-verified"
    ]
    assert "method=passport, Council tax bill at the home address" in line[0].summary
    assert "face_to_face=True" in line[0].summary
    # It completes the face-to-face step, and the initial checks before it: their clocks stop.
    clocks = {r["step"]: r["status"] for r in admin.rows(schema.deadlines, case_ref=CASE)}
    assert clocks["ew-right-to-ask.face-to-face"] == "closed"
    assert clocks["ew-right-to-ask.initial-checks"] == "closed"
    assert clocks["ew-right-to-ask.full-risk-assessment"] == "open"
    await accepted(clients["ESSEX"], disclose)
    # Surrey, which holds nothing of the applicant, never heard of the verification.
    assert "applicant-identity-verified" not in (await names_by_force(clients, "SURREY"))["SURREY"]


async def test_a_coordination_transfer_is_answered_by_the_id_of_the_open_request(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    ask = _build(
        "co-ordination-transfer-requested",
        "ESSEX",
        "METROPOLITAN",
        transfer_id="TR-0001",
        from_force="ESSEX",
        to_force="METROPOLITAN",
    )
    await accepted(clients["ESSEX"], ask)
    await names_by_force(clients, "ESSEX", "METROPOLITAN", "KENT")
    met = clients["METROPOLITAN"]

    # An answer naming another request moves nothing, and nobody hears of it.
    wrong = _build("co-ordination-transfer-accepted", "METROPOLITAN", "ESSEX", transfer_id="TR-9")
    detail = refused(
        await met.send(wrong, case_ref=CASE), ReasonCode.RULE_VIOLATION, "unknown-transfer"
    )
    assert "TR-9 is not the open request (TR-0001)" in detail
    assert running.engine is not None
    assert case_view(running.engine, CASE, None).coordinating_force == "ESSEX"
    assert await names_by_force(clients, "ESSEX", "KENT") == {"ESSEX": [], "KENT": []}

    right = _build(
        "co-ordination-transfer-accepted", "METROPOLITAN", "ESSEX", transfer_id="TR-0001"
    )
    await accepted(met, right)
    assert case_view(running.engine, CASE, None).coordinating_force == "METROPOLITAN"
    heard = await names_by_force(clients, "ESSEX", "KENT")
    assert heard == {"ESSEX": ["co-ordination-transfer-accepted"], "KENT": []}


async def test_a_disclosure_handoff_is_acknowledged_or_declined_back_to_the_coordinator(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    # C (Kent) asks about B (Essex); the disclosure goes to A, who lives in Surrey.
    parties = [
        party("P1", "A", "SURREY"),
        party("P2", "B", "ESSEX"),
        party("P4", "C", "KENT", **A_APPLICANT),
    ]
    await accepted(clients["KENT"], opened("KENT", "KENT", parties, applicant_role="C"))
    decision = _build(
        "decision-recorded",
        "KENT",
        "KENT",
        disclosure_recipient_party_id="P1",
        subject_party_id="P2",
    )
    await accepted(clients["KENT"], decision)
    got = await names_by_force(clients, "SURREY", "KENT", "ESSEX")
    assert got["SURREY"] == ["disclosure-handoff"]
    surrey = clients["SURREY"]

    # Surrey takes it on: Kent, which decided, hears so; Essex, B's force, does not.
    ack = _build("disclosure-handoff-acknowledged", "SURREY", "KENT", recipient_party_id="P1")
    await accepted(surrey, ack)
    assert running.engine is not None
    [part] = [
        p
        for p in case_view(running.engine, CASE, None).parts
        if p.kind.value == "disclosure-delivery"
    ]
    assert (part.owner, part.status.value) == ("SURREY", "in-progress")
    got = await names_by_force(clients, "KENT", "ESSEX")
    assert got == {"KENT": ["disclosure-handoff-acknowledged"], "ESSEX": []}

    # Then finds A has moved. Only the force holding the hand-off answers it.
    decline = _build(
        "disclosure-handoff-declined",
        "SURREY",
        "KENT",
        recipient_party_id="P1",
        detail="A moved to Essex last month",
        suggested_force="ESSEX",
    )
    refused(
        await clients["ESSEX"].send(decline, case_ref=CASE),
        ReasonCode.INVALID_TRANSITION,
        "no-handoff",
    )
    await accepted(surrey, decline)
    [part] = [
        p
        for p in case_view(running.engine, CASE, None).parts
        if p.kind.value == "disclosure-delivery"
    ]
    assert (part.owner, part.status.value) == ("KENT", "declined")
    assert part.history[-1].note == "recipient-not-in-area: A moved to Essex last month"
    # Kent, which must now deliver or re-assign, hears why; Essex, B's force, hears nothing.
    got = await names_by_force(clients, "KENT", "ESSEX")
    assert got == {"KENT": ["disclosure-handoff-declined"], "ESSEX": []}
    # Surrey holds nothing any more: it can neither acknowledge nor deliver.
    refused(await surrey.send(ack, case_ref=CASE), ReasonCode.INVALID_TRANSITION, "no-handoff")


async def test_a_malicious_marker_reaches_the_later_cases_coordinating_force_alone(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    first, later = "CF-2026-400071", "CF-2026-400072"
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties), first)
    await accepted(
        clients["ESSEX"], _build("malicious-application-marked", "ESSEX", "ESSEX"), first
    )
    await names_by_force(clients, "ESSEX", "KENT", "SURREY", "METROPOLITAN")

    # Kent receives a later case about the same B; the Met, where A now lives, co-ordinates.
    again = [party("P1", "A", "METROPOLITAN", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "METROPOLITAN", again), later)
    drained = await drain_all({f: clients[f] for f in ("METROPOLITAN", "KENT", "ESSEX", "SURREY")})
    names = {f: sorted(e.name for e in found) for f, found in drained.items()}
    assert names == {
        "METROPOLITAN": ["case-opened", "malicious-marker-found"],
        "KENT": [],
        "ESSEX": [],
        "SURREY": [],
    }
    [found] = [e for e in drained["METROPOLITAN"] if e.name == "malicious-marker-found"]
    assert found.senderforce == "HUB" and found.caseref == later
    assert (found.data["party_id"], found.data["marked_in_case"], found.data["marked_by"]) == (
        "P2",
        first,
        "ESSEX",
    )
    assert found.data["marked_at"]


async def test_a_referral_goes_to_the_dmf_of_the_partys_division_and_its_bodies_are_known_by_kind(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    # B lives in Leith (EH6): Edinburgh City, E Division. No division is sent: the hub reads it.
    b_in_leith = party("P2", "B", "PSOS", postcode_district="EH6")
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), b_in_leith]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    ask = _build(
        "enquiry-requested",
        "ESSEX",
        "PSOS",
        enquiry_id="E1",
        responding_force="PSOS",
        party_ids=["P2"],
        parties=[b_in_leith],
        due_at=None,
    )
    await accepted(clients["ESSEX"], ask)
    await accepted(
        clients["PSOS"], _build("enquiry-acknowledged", "PSOS", "ESSEX", enquiry_id="E1")
    )
    await names_by_force(clients, "PSOS_E", "ESSEX")

    def referral(dmf: str) -> Message:
        return _build("dmf-referral", "PSOS", dmf, dmf=dmf, party_ids=["P2"])

    detail = refused(
        await clients["PSOS"].send(referral("PSOS_G"), case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "wrong-dmf",
    )
    assert "division E" in detail and "PSOS_E" in detail
    await accepted(clients["PSOS"], referral("PSOS_E"))
    assert (await names_by_force(clients, "PSOS_E"))["PSOS_E"] == ["dmf-referral"]

    # Police Scotland attends as its Edinburgh division: still Police Scotland.
    bodies = _build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E").model_dump(mode="json")[
        "bodies_present"
    ]
    bodies[0] = {
        "agency": "police",
        "name": "Police Scotland – Edinburgh City Division",
        "registered_data_controller": True,
    }
    decided = _build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E", bodies_present=bodies)
    await accepted(clients["PSOS_E"], decided)
    assert (await names_by_force(clients, "PSOS"))["PSOS"][-1:] == ["dmf-decision"]

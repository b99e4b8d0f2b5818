"""Case ownership rules, end to end through the hub on a real nats-server (issue: ownership).

Each scenario sends signed messages from ForceClients and checks the hub's receipts, what
each force received, and who owns each part afterwards.
"""

from __future__ import annotations

import pytest
from hub_helpers import A_APPLICANT, enquiry, names_received, opened, party

from crossforce.adapters.client.force_client import ForceClient
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import _build
from crossforce.broker.service.queries import case_view

pytestmark = pytest.mark.server

CASE = "CF-2026-100001"


async def test_kent_receives_essex_coordinates_scotland_responds(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    kent, essex, psos = clients["KENT"], clients["ESSEX"], clients["PSOS"]
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "PSOS")]
    assert (await kent.send(opened("KENT", "ESSEX", parties), case_ref=CASE)).accepted
    assert (await essex.send(enquiry("ESSEX", "PSOS", "E1", "P2", "PSOS"), case_ref=CASE)).accepted
    assert running.engine is not None
    view = case_view(running.engine, CASE, None)
    liaison = [p for p in view.parts if p.kind.value == "applicant-liaison"]
    assert [p.owner for p in liaison] == ["ESSEX"]  # Essex alone liaises with the applicant
    assert {p.owner for p in view.parts if p.kind.value == "enquiry"} == {"PSOS"}
    assert await names_received(psos) == ["enquiry-requested"]
    assert "enquiry-requested" not in await names_received(kent)
    # Police Scotland sees only its own part.
    assert [p.owner for p in case_view(running.engine, CASE, "PSOS").parts] == ["PSOS"]


async def test_receiving_and_coordinating_the_same_force(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    kent = clients["KENT"]
    parties = [party("P1", "A", "KENT", **A_APPLICANT), party("P2", "B", "KENT")]
    assert (await kent.send(opened("KENT", "KENT", parties), case_ref=CASE)).accepted
    assert running.engine is not None
    view = case_view(running.engine, CASE, None)
    assert {p.kind.value for p in view.parts} == {"applicant-liaison"}
    assert view.receiving_force == view.coordinating_force == "KENT"
    for force in ("ESSEX", "SURREY", "PSOS"):
        assert await names_received(clients[force]) == []


async def test_a_second_coordinating_force_is_refused(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    assert (await clients["KENT"].send(opened("KENT", "ESSEX", parties), case_ref=CASE)).accepted
    again = await clients["KENT"].send(opened("KENT", "SURREY", parties), case_ref=CASE)
    assert not again.accepted
    assert again.reason_code is not None
    assert running.engine is not None
    assert case_view(running.engine, CASE, None).coordinating_force == "ESSEX"


async def test_third_party_applicant_disclosure_goes_through_the_recipients_home_force(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    kent, surrey = clients["KENT"], clients["SURREY"]
    parties = [
        party("P4", "C", "KENT", **A_APPLICANT),
        party("P1", "A", "SURREY"),
        party("P2", "B", "KENT"),
    ]
    assert (
        await kent.send(opened("KENT", "KENT", parties, applicant_role="C"), case_ref=CASE)
    ).accepted
    decision = _build(
        "decision-recorded",
        "KENT",
        "SURREY",
        disclosure_recipient_party_id="P1",
        subject_party_id="P2",
    )
    assert (await kent.send(decision, case_ref=CASE)).accepted
    handoffs = []
    async for delivery in surrey.deliveries(idle_timeout=1.0):
        handoffs.append(delivery)
        await delivery.ack()
    assert [d.envelope.name for d in handoffs] == ["disclosure-handoff"]
    assert handoffs[0].envelope.senderforce == "HUB"
    assert handoffs[0].message.recipient_party_id == "P1"  # type: ignore[attr-defined]
    # Kent (C's force) gets the handoff only for oversight, marked not for C's channel.
    oversight = []
    async for delivery in kent.deliveries(idle_timeout=1.0):
        oversight.append(delivery)
        await delivery.ack()
    assert [d.envelope.name for d in oversight] == ["disclosure-handoff"]
    assert [d.applicant_channel for d in oversight] == [False]
    assert running.engine is not None
    delivery_parts = [
        p
        for p in case_view(running.engine, CASE, None).parts
        if p.kind.value == "disclosure-delivery"
    ]
    assert [p.owner for p in delivery_parts] == ["SURREY"]
    assert case_view(running.engine, CASE, None).coordinating_force == "KENT"  # oversight stays


async def test_coordination_handover_removes_the_old_forces_authority(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    essex, met = clients["ESSEX"], clients["METROPOLITAN"]
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    assert (await clients["KENT"].send(opened("KENT", "ESSEX", parties), case_ref=CASE)).accepted
    request = _build(
        "co-ordination-transfer-requested",
        "ESSEX",
        "METROPOLITAN",
        from_force="ESSEX",
        to_force="METROPOLITAN",
    )
    assert (await essex.send(request, case_ref=CASE)).accepted
    accept = _build("co-ordination-transfer-accepted", "METROPOLITAN", "ESSEX")
    assert (await met.send(accept, case_ref=CASE)).accepted
    late = await essex.send(enquiry("ESSEX", "SURREY", "E9", "P2", "SURREY"), case_ref=CASE)
    assert not late.accepted and late.reason_code is not None
    assert late.reason_code.value == "NOT_AUTHORISED"
    now_met = await met.send(enquiry("METROPOLITAN", "SURREY", "E9", "P2", "SURREY"), case_ref=CASE)
    assert now_met.accepted
    assert running.engine is not None
    assert case_view(running.engine, CASE, None).coordinating_force == "METROPOLITAN"


async def test_a_dmf_decision_with_two_bodies_is_refused(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "PSOS")]
    assert (await clients["KENT"].send(opened("KENT", "ESSEX", parties), case_ref=CASE)).accepted
    assert (
        await clients["ESSEX"].send(enquiry("ESSEX", "PSOS", "E1", "P2", "PSOS"), case_ref=CASE)
    ).accepted
    ack = _build("enquiry-acknowledged", "PSOS", "ESSEX", enquiry_id="E1")
    assert (await clients["PSOS"].send(ack, case_ref=CASE)).accepted
    referral = _build("dmf-referral", "PSOS", "PSOS_E", dmf="PSOS_E", party_ids=["P2"])
    assert (await clients["PSOS"].send(referral, case_ref=CASE)).accepted
    decision = _build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E")
    two_bodies = decision.model_copy(update={"bodies_present": decision.bodies_present[:2]})
    refused = await clients["PSOS_E"].send(two_bodies, case_ref=CASE)
    assert not refused.accepted
    assert refused.reason_code is not None and refused.reason_code.value == "RULE_VIOLATION"
    assert "dmf-quorum" in (refused.receipt.message or "")
    assert (await clients["PSOS_E"].send(decision, case_ref=CASE)).accepted


async def test_immediate_risk_reaches_every_participant_flagged_priority(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    assert (await clients["KENT"].send(opened("KENT", "ESSEX", parties), case_ref=CASE)).accepted
    assert (
        await clients["ESSEX"].send(enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"), case_ref=CASE)
    ).accepted
    # Essex has not yet read its routine delivery (the case opening) when the risk arrives.
    for force, client in clients.items():
        if force != "ESSEX":
            await names_received(client)
    risk = _build("immediate-risk-raised", "SURREY", "ESSEX", at_risk_party_ids=["P1"])
    assert (await clients["SURREY"].send(risk, case_ref=CASE)).accepted
    expected = {
        "KENT": [("immediate-risk-raised", True)],
        # Ahead of routine traffic that was waiting before it.
        "ESSEX": [("immediate-risk-raised", True), ("case-opened", False)],
    }
    for force, wanted in expected.items():
        received = []
        async for delivery in clients[force].deliveries(idle_timeout=1.0):
            received.append((delivery.envelope.name, delivery.priority))
            await delivery.ack()
        assert received == wanted, force
    # The case carries on: the enquiry can still be answered.
    ack = _build("enquiry-acknowledged", "SURREY", "ESSEX", enquiry_id="E1")
    assert (await clients["SURREY"].send(ack, case_ref=CASE)).accepted

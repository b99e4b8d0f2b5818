"""Case ownership rules, through the hub's core in-process (issue: ownership).

Each scenario sends signed messages as the forces and checks the hub's signed receipts, what
each force was delivered, and who owns each part afterwards. That an immediate-risk delivery
is handed to a force ahead of routine traffic already waiting is its client's reading of the
NATS queues, tested on a real server in tests/integration/hub/test_delivery_order.py.
"""

from __future__ import annotations

from scenario_support import (
    A_APPLICANT,
    accepted,
    build,
    enquiry,
    opened,
    party,
    send,
    view,
)

from crossforce.adapters.nats import subjects
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.contracts.errors import ReasonCode

CASE = "CF-2026-100001"


def test_kent_receives_essex_coordinates_scotland_responds(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "PSOS")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", CASE, enquiry("ESSEX", "PSOS", "E1", "P2", "PSOS"))
    case = view(hub, CASE)
    liaison = [p for p in case.parts if p.kind.value == "applicant-liaison"]
    assert [p.owner for p in liaison] == ["ESSEX"]  # Essex alone liaises with the applicant
    assert {p.owner for p in case.parts if p.kind.value == "enquiry"} == {"PSOS"}
    assert hub.names("PSOS") == ["enquiry-requested"]
    assert "enquiry-requested" not in hub.names("KENT")
    # Police Scotland sees only its own part.
    assert [p.owner for p in view(hub, CASE, "PSOS").parts] == ["PSOS"]


def test_receiving_and_coordinating_the_same_force(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "KENT", **A_APPLICANT), party("P2", "B", "KENT")]
    accepted(hub, "KENT", CASE, opened("KENT", "KENT", parties))
    case = view(hub, CASE)
    assert {p.kind.value for p in case.parts} == {"applicant-liaison"}
    assert case.receiving_force == case.coordinating_force == "KENT"
    for force in ("ESSEX", "SURREY", "PSOS"):
        assert hub.names(force) == []


def test_a_second_coordinating_force_is_refused(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    again = send(hub, "KENT", CASE, opened("KENT", "SURREY", parties))
    assert not again.accepted
    assert again.reason_code is not None
    assert view(hub, CASE).coordinating_force == "ESSEX"
    assert hub.names("SURREY") == []


def test_third_party_applicant_disclosure_goes_through_the_recipients_home_force(
    hub: InProcessHub,
) -> None:
    parties = [
        party("P4", "C", "KENT", **A_APPLICANT),
        party("P1", "A", "SURREY"),
        party("P2", "B", "KENT"),
    ]
    accepted(hub, "KENT", CASE, opened("KENT", "KENT", parties, applicant_role="C"))
    decision = build(
        "decision-recorded",
        "KENT",
        "SURREY",
        disclosure_recipient_party_id="P1",
        subject_party_id="P2",
    )
    accepted(hub, "KENT", CASE, decision)
    handoffs = hub.drain("SURREY")
    assert [d.name for d in handoffs] == ["disclosure-handoff"]
    assert handoffs[0].envelope.senderforce == "HUB"
    assert handoffs[0].message.recipient_party_id == "P1"  # type: ignore[attr-defined]
    # Kent (C's force) gets the handoff only for oversight, marked not for C's channel.
    oversight = hub.drain("KENT")
    assert [d.name for d in oversight] == ["disclosure-handoff"]
    assert [d.applicant_channel for d in oversight] == [False]
    delivery_parts = [p for p in view(hub, CASE).parts if p.kind.value == "disclosure-delivery"]
    assert [p.owner for p in delivery_parts] == ["SURREY"]
    assert view(hub, CASE).coordinating_force == "KENT"  # oversight stays


def test_coordination_handover_removes_the_old_forces_authority(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    request = build(
        "co-ordination-transfer-requested",
        "ESSEX",
        "METROPOLITAN",
        from_force="ESSEX",
        to_force="METROPOLITAN",
    )
    accepted(hub, "ESSEX", CASE, request)
    accepted(
        hub, "METROPOLITAN", CASE, build("co-ordination-transfer-accepted", "METROPOLITAN", "ESSEX")
    )
    late = send(hub, "ESSEX", CASE, enquiry("ESSEX", "SURREY", "E9", "P2", "SURREY"))
    assert not late.accepted and late.reason_code is ReasonCode.NOT_AUTHORISED
    accepted(hub, "METROPOLITAN", CASE, enquiry("METROPOLITAN", "SURREY", "E9", "P2", "SURREY"))
    assert view(hub, CASE).coordinating_force == "METROPOLITAN"


def test_a_dmf_decision_with_two_bodies_is_refused(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "PSOS")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", CASE, enquiry("ESSEX", "PSOS", "E1", "P2", "PSOS"))
    accepted(hub, "PSOS", CASE, build("enquiry-acknowledged", "PSOS", "ESSEX", enquiry_id="E1"))
    referral = build("dmf-referral", "PSOS", "PSOS_E", dmf="PSOS_E", party_ids=["P2"])
    accepted(hub, "PSOS", CASE, referral)
    decision = build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E")
    two_bodies = decision.model_copy(update={"bodies_present": decision.bodies_present[:2]})  # type: ignore[attr-defined]
    refused = send(hub, "PSOS_E", CASE, two_bodies)
    assert not refused.accepted
    assert refused.reason_code is ReasonCode.RULE_VIOLATION
    assert "dmf-quorum" in (refused.receipt.message or "")
    accepted(hub, "PSOS_E", CASE, decision)


def test_immediate_risk_reaches_every_participant_flagged_priority(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", CASE, enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"))
    # Essex has not yet read its routine delivery (the case opening) when the risk arrives.
    for force in ("KENT", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"):
        hub.drain(force)
    risk = build("immediate-risk-raised", "SURREY", "ESSEX", at_risk_party_ids=["P1"])
    accepted(hub, "SURREY", CASE, risk)
    expected = {
        "KENT": [("immediate-risk-raised", True, subjects.priority_subject("KENT"))],
        # On its immediate-risk queue, beside the routine traffic waiting before it.
        "ESSEX": [
            ("case-opened", False, subjects.delivery_subject("ESSEX")),
            ("immediate-risk-raised", True, subjects.priority_subject("ESSEX")),
        ],
        "SURREY": [],  # the sender is not sent its own message
    }
    for force, wanted in expected.items():
        received = [(d.name, d.priority, d.subject) for d in hub.drain(force)]
        assert received == wanted, force
    # The case carries on: the enquiry can still be answered.
    accepted(hub, "SURREY", CASE, build("enquiry-acknowledged", "SURREY", "ESSEX", enquiry_id="E1"))

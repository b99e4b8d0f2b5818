"""The scripted multi-force case through a real nats-server, hub and SQLite.

Every step is accepted with a HUB-signed receipt; each force is delivered exactly what it needs
to know; each delivery is an s.62 disclosure with a log row; the case log keeps every accepted
envelope in order.
"""

from __future__ import annotations

import json

import pytest

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import case_steps
from crossforce.contracts.envelope import Envelope, parse_envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import verify_envelope

pytestmark = pytest.mark.server

CASE = "CF-2026-000101"

# What each force is delivered, in order, as (message type, sender).
EXPECTED_DELIVERIES = {
    "KENT": [("case-closed", "METROPOLITAN")],
    "ESSEX": [
        ("case-opened", "KENT"),
        ("enquiry-acknowledged", "SURREY"),
        ("enquiry-acknowledged", "PSOS"),
        ("enquiry-result", "SURREY"),
        ("dmf-referral", "PSOS"),
        ("dmf-decision", "PSOS_E"),
        ("enquiry-result", "PSOS"),
        ("co-ordination-transfer-accepted", "METROPOLITAN"),
    ],
    "SURREY": [
        ("enquiry-requested", "ESSEX"),
        ("disclosure-handoff", "HUB"),
        ("case-closed", "METROPOLITAN"),
    ],
    "PSOS": [
        ("enquiry-requested", "ESSEX"),
        ("dmf-decision", "PSOS_E"),
        ("case-closed", "METROPOLITAN"),
    ],
    "PSOS_E": [("dmf-referral", "PSOS"), ("case-closed", "METROPOLITAN")],
    "METROPOLITAN": [
        ("co-ordination-transfer-requested", "ESSEX"),
        ("disclosure-handoff", "HUB"),
        ("disclosure-delivered", "SURREY"),
    ],
}


async def _run_scenario(clients: dict[str, ForceClient]) -> list[tuple[Envelope, object]]:
    sent = []
    for step in case_steps(CASE):
        client = clients[step.sender]
        envelope = client.envelope(step.message, case_ref=CASE, recipients=step.recipients)
        await client.publish(envelope)
        receipt = await client.receipt(envelope.id, timeout=30)
        assert receipt.accepted, (step.note, receipt.reason_code, receipt.receipt.message)
        sent.append((envelope, receipt))
    return sent


async def test_scripted_case_runs_through_with_need_to_know_deliveries(
    running: RunningBroker, clients: dict[str, ForceClient], pki: EphemeralPki, admin
) -> None:
    sent = await _run_scenario(clients)
    trust = pki.trust_store()
    hub_kid = pki.key("HUB").kid

    # Receipts: one per step, signed by the HUB key and answering that envelope.
    for envelope, receipt in sent:
        assert receipt.envelope.senderforce == "HUB"
        assert receipt.envelope.recipient_codes == (envelope.senderforce,)
        assert receipt.receipt.in_reply_to == envelope.id
        assert receipt.receipt.answered_type == envelope.type
        assert verify_envelope(receipt.envelope, trust).kid == hub_kid
    forged = sent[0][1].envelope.model_copy(update={"caseref": "CF-2026-999999"})
    with pytest.raises(ContractError) as refused:
        verify_envelope(forged, trust)
    assert refused.value.code is ReasonCode.BAD_SIGNATURE

    # Need-to-know: each force gets exactly these envelopes, each once, in order.
    received = await admin.drain_all(clients)
    assert {
        force: [(e.name, e.senderforce) for e in envelopes] for force, envelopes in received.items()
    } == EXPECTED_DELIVERIES
    sent_by_id = {envelope.id: envelope for envelope, _ in sent}
    for envelopes in received.values():
        for envelope in envelopes:
            if envelope.senderforce != "HUB":  # forces' envelopes are relayed byte for byte
                assert envelope.to_bytes() == sent_by_id[envelope.id].to_bytes()
    # Police Scotland never sees anything of Surrey's enquiry about A.
    psos_text = b"".join(e.to_bytes() for e in received["PSOS"])
    assert b"ENQ-A" not in psos_text and b"Alexandra" not in psos_text
    # Kent, the receiving force, is not sent enquiry results or the handoff.
    assert {e.name for e in received["KENT"]}.isdisjoint(
        {"enquiry-result", "enquiry-requested", "disclosure-handoff", "dmf-decision"}
    )
    # The handoff goes to A's home force to deliver, and to the co-ordinator for oversight.
    [handoff] = [e for e in received["SURREY"] if e.name == "disclosure-handoff"]
    assert set(handoff.recipient_codes) == {"SURREY", "METROPOLITAN"}
    assert handoff.data["to_force"] == "SURREY"
    assert verify_envelope(handoff, trust).kid == hub_kid
    assert [e.id for e in received["METROPOLITAN"] if e.name == "disclosure-handoff"] == [
        handoff.id
    ]

    # s.62: every delivery has exactly one disclosure_log row saying who, to whom, when, why.
    log_rows = admin.rows(schema.disclosure_log, case_ref=CASE)
    delivered = {(e.id, force): e for force, envelopes in received.items() for e in envelopes}
    assert len(log_rows) == len(delivered)
    assert {(row["envelope_id"], row["disclosed_to"]) for row in log_rows} == set(delivered)
    for row in log_rows:
        envelope = delivered[(row["envelope_id"], row["disclosed_to"])]
        assert row["disclosed_by"] == envelope.senderforce
        assert row["message_type"] == envelope.type
        assert row["lawful_basis"] == envelope.lawfulbasis and row["lawful_basis"]
        assert row["purpose"] == envelope.purpose and row["purpose"]
        assert row["marking"] == envelope.securitymarking.value
        assert row["disclosed_at"] is not None

    # Every accepted envelope is processed once and kept in the case log, in order.
    processed = admin.rows(schema.processed_envelopes, case_ref=CASE)
    assert {row["envelope_id"] for row in processed} == set(sent_by_id)
    decision_index = next(i for i, (e, _) in enumerate(sent) if e.name == "decision-recorded")
    expected_log = [e.id for e, _ in sent]
    expected_log.insert(decision_index + 1, handoff.id)
    caselog = await admin.read(subjects.CASELOG_STREAM, subjects.caselog_subject(CASE))
    assert [parse_envelope(m.data).id for m in caselog] == expected_log
    for message in caselog:
        logged = parse_envelope(message.data)
        verify_envelope(logged, trust)
        if logged.id in sent_by_id:
            assert message.data == sent_by_id[logged.id].to_bytes()

    [case_row] = admin.rows(schema.cases, case_ref=CASE)
    assert case_row["status"] == "closed"
    assert case_row["coordinating_force"] == "METROPOLITAN"
    assert json.dumps(case_row["state"])  # the projection is plain JSON
    assert admin.rows(schema.rejections) == []

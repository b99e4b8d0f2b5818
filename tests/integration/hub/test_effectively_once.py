"""Effectively-once (architecture decision 4) on a real nats-server.

Delivery is at least once; JetStream deduplicates on Nats-Msg-Id (the envelope id), and the hub
records processed ids in the same transaction as the effects, so a duplicate or a redelivery
after a crash never applies twice and nothing committed is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.broker.hub.publisher import OutboxPublisher
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import case_steps
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.contracts.envelope import Envelope, parse_envelope

pytestmark = pytest.mark.server

CASE = "CF-2026-000201"


async def _open_case(clients: dict[str, ForceClient]) -> None:
    opening = case_steps(CASE)[0]
    receipt = await clients[opening.sender].send(
        opening.message, case_ref=CASE, recipients=opening.recipients
    )
    assert receipt.accepted


def _enquiry(clients: dict[str, ForceClient]) -> Envelope:
    step = case_steps(CASE)[1]  # Essex asks Surrey about A
    assert step.sender == "ESSEX" and step.recipients == ("SURREY",)
    return clients["ESSEX"].envelope(step.message, case_ref=CASE, recipients=step.recipients)


def _snapshot(admin: Any) -> dict[str, Any]:
    [case] = admin.rows(schema.cases, case_ref=CASE)
    return {
        "version": case["version"],
        "state": case["state"],
        "history": [
            (row["event"], row["actor"], row["summary"])
            for row in admin.rows(schema.case_history, case_ref=CASE)
        ],
    }


async def _messages(admin: Any, subject: str, envelope_id: str) -> list[Envelope]:
    stored = await admin.read(subjects.DELIVERY_STREAM, subject)
    found = [parse_envelope(m.data) for m in stored]
    return [e for e in found if e.id == envelope_id or e.causationid == envelope_id]


async def test_a_duplicate_envelope_has_its_effect_once(
    running: RunningBroker, clients: dict[str, ForceClient], admin
) -> None:
    await _open_case(clients)
    essex = clients["ESSEX"]
    enquiry = _enquiry(clients)

    await essex.publish(enquiry)
    receipt = await essex.receipt(enquiry.id)
    assert receipt.accepted
    after_first = _snapshot(admin)
    enquiry_parts = [p for p in after_first["state"]["case"]["parts"] if p["kind"] == "enquiry"]
    assert len(enquiry_parts) == 1

    # The same envelope again under its own id: JetStream drops it on arrival.
    await essex.publish(enquiry)
    ack = await admin.js.publish(
        subjects.inbound_subject("ESSEX", CASE),
        enquiry.to_bytes(),
        headers={"Nats-Msg-Id": enquiry.id},
    )
    assert ack.duplicate
    # The same bytes under another Nats-Msg-Id get past JetStream; the hub must catch them.
    before = await admin.js.stream_info(subjects.INBOUND_STREAM)
    await essex.publish_raw(enquiry.to_bytes(), case_ref=CASE, msg_id="other")
    after = await admin.js.stream_info(subjects.INBOUND_STREAM)
    assert after.state.last_seq == before.state.last_seq + 1
    await admin.eventually(admin.inbound_drained)

    assert _snapshot(admin) == after_first
    assert len(admin.rows(schema.processed_envelopes, envelope_id=enquiry.id)) == 1
    assert [
        row["disclosed_to"] for row in admin.rows(schema.disclosure_log, envelope_id=enquiry.id)
    ] == ["SURREY"]
    assert admin.rows(schema.rejections) == []
    surrey = await admin.drain(clients["SURREY"])
    assert [e.id for e in surrey] == [enquiry.id]
    # The replay under a new transport id is answered with the original receipt, again.
    receipts = await _messages(admin, subjects.receipt_subject("ESSEX"), enquiry.id)
    assert len(receipts) == 2
    assert receipts[0].to_bytes() == receipts[1].to_bytes()
    assert receipts[1].id == receipt.envelope.id
    caselog = await admin.read(subjects.CASELOG_STREAM, subjects.caselog_subject(CASE))
    assert [parse_envelope(m.data).id for m in caselog].count(enquiry.id) == 1


async def test_a_hub_lost_between_commit_and_ack_loses_nothing_and_doubles_nothing(
    running: RunningBroker,
    clients: dict[str, ForceClient],
    admin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _open_case(clients)
    essex = clients["ESSEX"]
    enquiry = _enquiry(clients)
    prefix = f"{enquiry.id}/"
    original = OutboxPublisher.publish
    crashed = asyncio.Event()

    async def crash_mid_publish(self: OutboxPublisher, messages: Sequence[OutboundMessage]) -> None:
        if crashed.is_set() or not any(m.msg_id.startswith(prefix) for m in messages):
            await original(self, messages)
            return
        # The transaction has committed. Publish all but the receipt, never mark them sent,
        # then lose the connection: no receipt, no ack, outbox rows left unsent.
        for message in messages[:-1]:
            await self.js.publish(
                message.subject,
                message.payload,
                headers={**message.headers, "Nats-Msg-Id": message.msg_id},
            )
        crashed.set()
        raise ConnectionError("lost NATS after the commit, before the ack")

    monkeypatch.setattr(OutboxPublisher, "publish", crash_mid_publish)
    await essex.publish(enquiry)
    await asyncio.wait_for(crashed.wait(), timeout=20)

    # The effects are committed, the receipt is not out and the outbox still owes it.
    assert len(admin.rows(schema.processed_envelopes, envelope_id=enquiry.id)) == 1
    committed = _snapshot(admin)
    owed = [r for r in admin.rows(schema.outbox) if r["msg_id"].startswith(prefix)]
    assert owed and all(r["sent_at"] is None for r in owed)
    assert await _messages(admin, subjects.receipt_subject("ESSEX"), enquiry.id) == []

    # The replica goes away; a fresh one takes over the unacked message.
    await running.stop_replica()
    await running.start_replica()

    receipt = await essex.receipt(enquiry.id, timeout=30)
    assert receipt.accepted and receipt.receipt.in_reply_to == enquiry.id
    await admin.eventually(admin.inbound_drained)
    await admin.eventually(
        lambda: all(
            r["sent_at"] is not None
            for r in admin.rows(schema.outbox)
            if r["msg_id"].startswith(prefix)
        )
    )

    # Nothing doubled: one processed row, one set of effects, one disclosure per recipient,
    # one stored delivery and receipt although they were published twice.
    assert len(admin.rows(schema.processed_envelopes, envelope_id=enquiry.id)) == 1
    assert _snapshot(admin) == committed
    assert [
        row["disclosed_to"] for row in admin.rows(schema.disclosure_log, envelope_id=enquiry.id)
    ] == ["SURREY"]
    assert len(await _messages(admin, subjects.delivery_subject("SURREY"), enquiry.id)) == 1
    assert len(await _messages(admin, subjects.receipt_subject("ESSEX"), enquiry.id)) == 1
    surrey = await admin.drain(clients["SURREY"])
    assert [e.id for e in surrey] == [enquiry.id]
    caselog = await admin.read(subjects.CASELOG_STREAM, subjects.caselog_subject(CASE))
    assert [parse_envelope(m.data).id for m in caselog].count(enquiry.id) == 1
    assert admin.rows(schema.rejections) == []

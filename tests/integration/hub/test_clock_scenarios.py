"""Deadlines and clocks end to end through the hub: sender-set due dates, agreed extensions.

Each scenario sends signed messages from ForceClients to a real nats-server and hub. The hub
checks envelope times against JetStream's own clock, so messages are dated now and every due
date is relative to it; the escalation service is driven with an injected instant. The
pure-domain versions of these rules are in tests/unit/domain/test_deadline_rules.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub_helpers import A_APPLICANT, enquiry, names_by_force, opened, party

from adapters.client.force_client import ForceClient, SignedReceipt
from adapters.sql import schema
from broker.escalation.service import EscalationService
from broker.runtime import RunningBroker
from broker.scenario import _build
from broker.service.queries import case_history
from contracts.errors import ReasonCode
from contracts.messages.base import Message
from contracts.pki import EphemeralPki

CASE = "CF-2026-300001"


def refused(receipt: SignedReceipt, code: ReasonCode, rule: str) -> None:
    assert not receipt.accepted, f"accepted, but {rule} should have refused it"
    assert receipt.reason_code is code, receipt.receipt.message
    assert (receipt.receipt.message or "").startswith(f"{rule}:"), receipt.receipt.message


async def accepted(client: ForceClient, message: Message, case_ref: str = CASE) -> None:
    receipt = await client.send(message, case_ref=case_ref)
    assert receipt.accepted, f"{message.NAME}: {receipt.reason_code} {receipt.receipt.message}"


def due_enquiry(due_at: datetime | None) -> Message:
    message = enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY")
    return message.model_copy(update={"due_at": due_at})


async def test_a_sender_cannot_set_a_past_or_rushed_due_date_and_an_extension_restarts_the_ladder(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any, pki: EphemeralPki
) -> None:
    essex = clients["ESSEX"]
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    await names_by_force(clients, "ESSEX")
    now = datetime.now(UTC)

    # Due last week: refused, and Surrey hears nothing of the enquiry.
    refused(
        await essex.send(due_enquiry(now - timedelta(days=7)), case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "due-at-in-past",
    )
    # Due tomorrow, sooner than the five working days of the policy, with no immediate risk.
    refused(
        await essex.send(due_enquiry(now + timedelta(days=1)), case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "due-at-shorter-than-policy",
    )
    assert (await names_by_force(clients, "SURREY"))["SURREY"] == []
    assert admin.rows(schema.deadlines, case_ref=CASE) == []

    # Timed by the policy: accepted, Surrey is asked.
    await accepted(essex, due_enquiry(None))
    assert (await names_by_force(clients, "SURREY"))["SURREY"] == ["enquiry-requested"]
    [row] = admin.rows(schema.deadlines, case_ref=CASE)

    # Long overdue: the whole ladder fires and the part is marked red.
    assert running.engine is not None
    escalation = EscalationService(running.engine, pki.key("HUB"), lambda: now)
    escalation.fire_due(now=now + timedelta(days=30))
    [row] = admin.rows(schema.deadlines, case_ref=CASE)
    assert row["red"] and row["fired_levels"]
    [case_row] = admin.rows(schema.cases, case_ref=CASE)
    assert case_row["red"]
    await names_by_force(clients, "ESSEX", "SURREY", "KENT")

    # The co-ordinating force agrees a later date with Surrey, naming the enquiry.
    new_due = (now + timedelta(days=40)).replace(microsecond=0)
    extension = _build(
        "deadline-extended",
        "ESSEX",
        "SURREY",
        part_id="E1",
        new_due_at=new_due.isoformat(),
        reason="awaiting a partner agency's records",
        agreed_with="SURREY",
    )
    # Only the co-ordinating force agrees an extension; a shorter "extension" is refused.
    refused(
        await clients["SURREY"].send(extension, case_ref=CASE),
        ReasonCode.NOT_AUTHORISED,
        "not-coordinating-force",
    )
    earlier = extension.model_copy(update={"new_due_at": now + timedelta(hours=1)})
    refused(
        await essex.send(earlier, case_ref=CASE), ReasonCode.RULE_VIOLATION, "extension-not-later"
    )
    await accepted(essex, extension)

    # Due moves, red clears, the ladder starts again; the history shows why.
    [row] = admin.rows(schema.deadlines, case_ref=CASE)
    assert row["due_at"].replace(tzinfo=UTC) == new_due
    assert (row["red"], row["fired_levels"], row["status"]) == (False, [], "open")
    assert row["next_fire_at"] is not None
    [case_row] = admin.rows(schema.cases, case_ref=CASE)
    assert not case_row["red"]
    [line] = [h for h in case_history(running.engine, CASE) if h.event == "deadline-extended"]
    assert "reason=awaiting a partner agency's records" in line.summary
    assert "agreed_with=SURREY" in line.summary

    # Surrey, the owner, hears of it; Kent, which passed the case on, does not.
    heard = await names_by_force(clients, "SURREY", "KENT")
    assert heard == {"SURREY": ["deadline-extended"], "KENT": []}

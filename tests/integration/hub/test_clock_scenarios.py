"""Deadlines and clocks end to end through the hub: sender-set due dates, agreed extensions.

Each scenario sends signed messages from ForceClients to a real nats-server and hub. The hub
checks envelope times against JetStream's own clock, so messages are dated now and every due
date is relative to it; the escalation service is driven with an injected instant. The
pure-domain versions of these rules are in tests/unit/domain/test_deadline_rules.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub_helpers import A_APPLICANT, drain_all, enquiry, names_by_force, opened, party

from crossforce.adapters.client.force_client import Delivery, ForceClient, SignedReceipt
from crossforce.adapters.sql import schema
from crossforce.broker.bootstrap import sql_units
from crossforce.broker.domain.sla import SlaStep
from crossforce.broker.escalation.service import EscalationService
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import _build
from crossforce.broker.service.queries import case_history
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message
from crossforce.contracts.pki import EphemeralPki

CASE = "CF-2026-300001"
ANSWER = SlaStep.RESPONDING_FORCE_ANSWER.value


def refused(receipt: SignedReceipt, code: ReasonCode, rule: str) -> None:
    assert not receipt.accepted, f"accepted, but {rule} should have refused it"
    assert receipt.reason_code is code, receipt.receipt.message
    assert (receipt.receipt.message or "").startswith(f"{rule}:"), receipt.receipt.message


async def accepted(client: ForceClient, message: Message, case_ref: str = CASE) -> None:
    receipt = await client.send(message, case_ref=case_ref)
    assert receipt.accepted, f"{message.NAME}: {receipt.reason_code} {receipt.receipt.message}"


async def deliveries(client: ForceClient) -> list[Delivery]:
    """Every delivery waiting for the force, verified by ForceClient and acked."""
    found = []
    async for delivery in client.deliveries(idle_timeout=1.0):
        found.append(delivery)
        await delivery.ack()
    return found


def enquiry_rows(admin: Any, case_ref: str = CASE) -> list[dict[str, Any]]:
    """The deadline rows of enquiries, leaving out the case's own step clocks."""
    return admin.rows(schema.deadlines, case_ref=case_ref, step=ANSWER)


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
    assert enquiry_rows(admin) == []

    # Timed by the policy: accepted, Surrey is asked.
    await accepted(essex, due_enquiry(None))
    assert (await names_by_force(clients, "SURREY"))["SURREY"] == ["enquiry-requested"]
    [row] = enquiry_rows(admin)

    # The case's own clocks are done (every step of the route up to the forum), so only the
    # enquiry can go red. Long overdue: its whole ladder fires and the part is marked red.
    done = _build("step-completed", "ESSEX", "ESSEX", step=SlaStep.EW_FORUM_REFERRAL.value)
    await accepted(essex, done)
    assert running.engine is not None
    escalation = EscalationService(sql_units(running.engine), pki.key("HUB"), lambda: now)
    escalation.fire_due(now=now + timedelta(days=20))
    [row] = enquiry_rows(admin)
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
    [row] = enquiry_rows(admin)
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


async def test_a_step_clock_slips_to_the_coordinating_force_alone_and_the_applicant_is_told(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any, pki: EphemeralPki
) -> None:
    essex = clients["ESSEX"]
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    now = datetime.now(UTC)

    # Initial contact starts the clocks, so it cannot be set after the message or long before.
    for contact, rule in (
        (now + timedelta(hours=1), "initial-contact-in-future"),
        (now - timedelta(days=40), "initial-contact-backdated"),
    ):
        wrong = opened("KENT", "ESSEX", parties, initial_contact_at=contact.isoformat())
        refused(await clients["KENT"].send(wrong, case_ref=CASE), ReasonCode.RULE_VIOLATION, rule)

    # Opened two days after the contact: the 24-hour initial checks are already over.
    contact = now - timedelta(days=2)
    late = opened("KENT", "ESSEX", parties, initial_contact_at=contact.isoformat())
    await accepted(clients["KENT"], late)
    await accepted(essex, due_enquiry(None))
    clocks = {r["step"]: r for r in admin.rows(schema.deadlines, case_ref=CASE)}
    checks = clocks["ew-right-to-ask.initial-checks"]
    assert (checks["owner_force"], checks["in_clock_hours"]) == ("ESSEX", True)
    assert checks["due_at"].replace(tzinfo=UTC) == contact + timedelta(hours=24)

    # The hub's own timers: the clock-hour ladder sends the overdue notice and, four hours
    # on, the escalation, both already due; the co-ordinating force owns the clock, so it
    # alone hears of it.
    def fired() -> bool:
        row = admin.rows(schema.deadlines, deadline_id=checks["deadline_id"])[0]
        return sorted(row["fired_levels"]) == [2, 3]

    await admin.eventually(fired)
    notices = {"deadline-reminder", "overdue-notice", "escalation-raised"}
    heard = await drain_all({f: clients[f] for f in ("SURREY", "KENT")})
    assert {f: [e.name for e in found if e.name in notices] for f, found in heard.items()} == {
        "SURREY": [],
        "KENT": [],
    }
    essex_heard = [d for d in await deliveries(essex) if d.envelope.name in notices]
    assert [(d.envelope.name, d.tasks) for d in essex_heard] == [
        ("overdue-notice", ("delay-notified",)),  # tell the applicant: signed by the hub
        ("escalation-raised", ()),
    ]
    assert {d.envelope.senderforce for d in essex_heard} == {"HUB"}
    assert {d.envelope.data["deadline"] for d in essex_heard} == {"ew-right-to-ask.initial-checks"}
    [task] = [h for h in case_history(running.engine, CASE) if h.event == "task-created"]
    assert "ESSEX to tell the applicant" in task.summary
    assert "ew-right-to-ask.initial-checks" in task.summary
    [case_row] = admin.rows(schema.cases, case_ref=CASE)
    assert case_row["red"]

    # The applicant is told, naming the step; then the checks are done and the clock stops.
    told = _build(
        "delay-notified",
        "ESSEX",
        "ESSEX",
        part_id="ew-right-to-ask.initial-checks",
        reason="initial checks awaiting a partner agency",
    )
    await accepted(essex, told)
    [line] = [h for h in case_history(running.engine, CASE) if h.event == "delay-notified"]
    assert "late_step=ew-right-to-ask.initial-checks" in line.summary
    done = _build("step-completed", "ESSEX", "ESSEX", step="ew-right-to-ask.initial-checks")
    await accepted(essex, done)
    clocks = {r["step"]: r for r in admin.rows(schema.deadlines, case_ref=CASE)}
    assert clocks["ew-right-to-ask.initial-checks"]["status"] == "closed"
    assert clocks["ew-right-to-ask.face-to-face"]["status"] == "open"
    [case_row] = admin.rows(schema.cases, case_ref=CASE)
    assert not case_row["red"]
    # Nobody else hears of the case's own steps.
    assert (await names_by_force(clients, "SURREY", "KENT")) == {"SURREY": [], "KENT": []}

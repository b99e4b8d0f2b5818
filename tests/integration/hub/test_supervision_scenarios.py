"""What supervisors do about a part, end to end through the hub on NATS: acknowledge an
escalation, chase the owning force, reassign a part within the owning force.

Each scenario sends signed messages from ForceClients to a real nats-server and hub, naming
the person who acted in the envelope's signed `actor`, and checks the receipts, who heard of
it (the force that should does, with the actor as signed; the receiving force that passed
the case on does not), and the case as the hub stored it. The pure-domain rules are in
tests/unit/domain/test_supervision.py.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from hub_helpers import A_APPLICANT, drain, enquiry, names_by_force, opened, party

from crossforce.adapters.client.force_client import ForceClient, SignedReceipt
from crossforce.adapters.sql import schema
from crossforce.broker.bootstrap import sql_units
from crossforce.broker.domain.sla import SlaStep
from crossforce.broker.escalation.service import EscalationService
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import _build
from crossforce.broker.service.queries import case_history, case_view
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.forces import FORCES
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.supervision import (
    AssigneeKind,
    EscalationAcknowledged,
    PartChased,
    PartReassigned,
)
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope

CASE = "CF-2026-400001"
ANSWER = SlaStep.RESPONDING_FORCE_ANSWER.value


async def send(
    client: ForceClient, pki: EphemeralPki, message: Message, actor: str
) -> SignedReceipt:
    """Signed by the client's force, naming `actor` as who acted there."""
    envelope = sign_envelope(
        compose(
            message,
            sender=client.force,
            case_ref=CASE,
            jurisdiction=FORCES[client.force].jurisdiction,
            actor=actor,
        ),
        pki.key(client.force),
    )
    return await client.send_envelope(envelope)


def refused(receipt: SignedReceipt, code: ReasonCode, rule: str) -> None:
    assert not receipt.accepted, f"accepted, but {rule} should have refused it"
    assert receipt.reason_code is code, receipt.receipt.message
    assert (receipt.receipt.message or "").startswith(f"{rule}:"), receipt.receipt.message


def accepted(receipt: SignedReceipt) -> None:
    assert receipt.accepted, f"{receipt.reason_code} {receipt.receipt.message}"


async def surrey_owes_an_enquiry(clients: dict[str, ForceClient]) -> str:
    """Kent receives, Essex co-ordinates and asks Surrey to check B (enquiry E1); the case's
    own step clocks are done, so only the enquiry is timed. Returns its part id."""
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(await clients["KENT"].send(opened("KENT", "ESSEX", parties), case_ref=CASE))
    accepted(
        await clients["ESSEX"].send(enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"), case_ref=CASE)
    )
    done = _build("step-completed", "ESSEX", "ESSEX", step=SlaStep.EW_FORUM_REFERRAL.value)
    accepted(await clients["ESSEX"].send(done, case_ref=CASE))
    await names_by_force(clients, "KENT", "ESSEX", "SURREY")
    return "E1"


def heard(found: list[Envelope], name: str) -> list[Envelope]:
    return [envelope for envelope in found if envelope.name == name]


async def test_only_the_force_an_escalation_went_to_acknowledges_it_and_the_ladder_runs_on(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any, pki: EphemeralPki
) -> None:
    await surrey_owes_an_enquiry(clients)
    [row] = admin.rows(schema.deadlines, case_ref=CASE, step=ANSWER)
    assert running.engine is not None
    # Long after the due date (the hub's clock, injected): the whole ladder fires.
    late = row["due_at"].replace(tzinfo=UTC) + timedelta(days=20)
    escalation = EscalationService(sql_units(running.engine), pki.key("HUB"), lambda: late)
    outbound = escalation.fire_due(now=late)
    # What the hub's timer consumer would publish once the firing transaction commits.
    for message in outbound:
        headers = {**message.headers, "Nats-Msg-Id": message.msg_id}
        await admin.js.publish(message.subject, message.payload, headers=headers)

    def fired() -> bool:
        return sorted(
            admin.rows(schema.deadlines, case_ref=CASE, step=ANSWER)[0]["fired_levels"]
        ) == [2, 3]

    await admin.eventually(fired)
    essex_heard = await admin.eventually(lambda: drain(clients["ESSEX"]))
    [escalation] = heard(essex_heard, "escalation-raised")
    surrey_heard = await drain(clients["SURREY"])
    [overdue] = heard(surrey_heard, "overdue-notice")
    assert escalation.data["level"] == 3 and overdue.data["level"] == 2
    part_id = escalation.data["part_id"]
    acknowledge = EscalationAcknowledged(
        escalation_id=escalation.id,
        part_id=part_id,
        deadline=escalation.data["deadline"],
        level=escalation.data["level"],
    )

    # Surrey owns the late part, but the senior officer's escalation went to Essex.
    refused(
        await send(clients["SURREY"], pki, acknowledge, "surrey.sup"),
        ReasonCode.NOT_AUTHORISED,
        "escalation-not-sent-to-you",
    )
    # The message must name the notice as the hub sent it.
    wrong_level = acknowledge.model_copy(update={"level": 2})
    refused(
        await send(clients["ESSEX"], pki, wrong_level, "essex.senior"),
        ReasonCode.RULE_VIOLATION,
        "escalation-mismatch",
    )
    accepted(await send(clients["ESSEX"], pki, acknowledge, "essex.senior"))
    refused(
        await send(clients["ESSEX"], pki, acknowledge, "essex.senior"),
        ReasonCode.RULE_VIOLATION,
        "escalation-already-acknowledged",
    )

    # Surrey, whose part it is, hears who acknowledged it, as Essex signed it; Kent does not.
    drained = {f: await drain(clients[f]) for f in ("SURREY", "KENT")}
    [told] = heard(drained["SURREY"], "escalation-acknowledged")
    assert (told.senderforce, told.actor, told.data["escalation_id"]) == (
        "ESSEX",
        "essex.senior",
        escalation.id,
    )
    assert drained["KENT"] == []
    # Recorded, with who and when, and nothing else moves: the part stays red and late.
    view = case_view(running.engine, CASE, "ESSEX")
    [ack] = view.escalation_acknowledgements
    assert (ack.acknowledged_by, ack.acted_by, ack.level) == ("ESSEX", "essex.senior", 3)
    [after] = admin.rows(schema.deadlines, case_ref=CASE, step=ANSWER)
    assert (after["status"], after["red"], after["due_at"]) == ("open", True, row["due_at"])
    [line] = [h for h in case_history(running.engine, CASE) if h.event == "escalation-acknowledged"]
    assert (line.actor, line.acted_by) == ("ESSEX", "essex.senior")


async def test_the_coordinating_force_chases_the_owner_who_alone_is_told(
    running: RunningBroker, clients: dict[str, ForceClient], pki: EphemeralPki
) -> None:
    enquiry_id = await surrey_owes_an_enquiry(clients)
    chase = PartChased(part_id=enquiry_id, note="The applicant has asked for news twice")
    # Only the co-ordinating force chases: not the receiving force, not the owner itself.
    refused(
        await send(clients["KENT"], pki, chase, "kent.sup"),
        ReasonCode.NOT_AUTHORISED,
        "not-coordinating-force",
    )
    accepted(await send(clients["ESSEX"], pki, chase, "essex.sup"))
    drained = {f: await drain(clients[f]) for f in ("SURREY", "KENT")}
    [told] = heard(drained["SURREY"], "part-chased")
    assert (told.actor, told.data["note"]) == (
        "essex.sup",
        "The applicant has asked for news twice",
    )
    assert drained["KENT"] == []
    assert running.engine is not None
    [part] = [p for p in case_view(running.engine, CASE, None).parts if p.owner == "SURREY"]
    assert (part.history[-1].action, part.history[-1].actor) == ("chase", "ESSEX")
    assert part.status.value == "requested"  # nothing moves
    [line] = [h for h in case_history(running.engine, CASE) if h.event == "part-chased"]
    assert line.acted_by == "essex.sup" and "note=The applicant has asked" in line.summary


async def test_the_owner_reassigns_its_part_within_itself_and_the_coordinator_is_told(
    running: RunningBroker, clients: dict[str, ForceClient], pki: EphemeralPki
) -> None:
    enquiry_id = await surrey_owes_an_enquiry(clients)
    reassign = PartReassigned(
        part_id=enquiry_id, assigned_to="SURREY-DA-7", assignee_kind=AssigneeKind.TEAM
    )
    refused(
        await send(clients["ESSEX"], pki, reassign, "essex.sup"),
        ReasonCode.NOT_AUTHORISED,
        "not-part-owner",
    )
    accepted(await send(clients["SURREY"], pki, reassign, "surrey.sup"))
    drained = {f: await drain(clients[f]) for f in ("ESSEX", "KENT")}
    [told] = heard(drained["ESSEX"], "part-reassigned")
    assert (told.senderforce, told.actor, told.data["assigned_to"]) == (
        "SURREY",
        "surrey.sup",
        "SURREY-DA-7",
    )
    assert drained["KENT"] == []
    assert running.engine is not None
    [part] = [p for p in case_view(running.engine, CASE, None).parts if p.party_id == "P2"]
    assert (part.owner, part.assigned_to, part.assignee_kind) == ("SURREY", "SURREY-DA-7", "team")
    [line] = [h for h in case_history(running.engine, CASE) if h.event == "part-reassigned"]
    assert (line.actor, line.acted_by) == ("SURREY", "surrey.sup")

"""What supervisors do about a part, through the hub's core in-process: acknowledge an
escalation, chase the owning force, reassign a part within the owning force.

Each scenario sends signed messages as the forces, naming the person who acted in the
envelope's signed `actor`, and checks the receipts, who was delivered it (the force that
should be, with the actor as signed; the receiving force that passed the case on is not), and
the case as the hub stored it. The pure-domain rules are in tests/unit/domain/test_supervision.py.
"""

from __future__ import annotations

from datetime import timedelta

from scenario_support import (
    A_APPLICANT,
    accepted,
    build,
    deadlines,
    enquiry,
    names_by_force,
    opened,
    party,
    refused,
    send,
    view,
)

from crossforce.adapters.testing.in_process import Delivered, InProcessHub
from crossforce.broker.domain.sla import SlaStep
from crossforce.broker.service.queries import case_history
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.supervision import (
    AssigneeKind,
    EscalationAcknowledged,
    PartChased,
    PartReassigned,
)

CASE = "CF-2026-400001"
ANSWER = SlaStep.RESPONDING_FORCE_ANSWER.value


def surrey_owes_an_enquiry(hub: InProcessHub) -> str:
    """Kent receives, Essex co-ordinates and asks Surrey to check B (enquiry E1); the case's
    own step clocks are done, so only the enquiry is timed. Returns its part id."""
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", CASE, enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"))
    done = build("step-completed", "ESSEX", "ESSEX", step=SlaStep.EW_FORUM_REFERRAL.value)
    accepted(hub, "ESSEX", CASE, done)
    names_by_force(hub, "KENT", "ESSEX", "SURREY")
    return "E1"


def heard(found: list[Delivered], name: str) -> list[Envelope]:
    return [delivered.envelope for delivered in found if delivered.name == name]


def test_only_the_force_an_escalation_went_to_acknowledges_it_and_the_ladder_runs_on(
    hub: InProcessHub,
) -> None:
    surrey_owes_an_enquiry(hub)
    [row] = deadlines(hub, CASE, step=ANSWER)
    # Long after the due date, by the hub's clock: the whole ladder fires.
    hub.now = row["due_at"] + timedelta(days=20)
    hub.sweep()
    [fired] = deadlines(hub, CASE, step=ANSWER)
    assert sorted(fired["fired_levels"]) == [2, 3]
    [escalation] = heard(hub.drain("ESSEX"), "escalation-raised")
    [overdue] = heard(hub.drain("SURREY"), "overdue-notice")
    assert escalation.data["level"] == 3 and overdue.data["level"] == 2
    acknowledge = EscalationAcknowledged(
        escalation_id=escalation.id,
        part_id=escalation.data["part_id"],
        deadline=escalation.data["deadline"],
        level=escalation.data["level"],
    )

    # Surrey owns the late part, but the senior officer's escalation went to Essex.
    refused(
        send(hub, "SURREY", CASE, acknowledge, "surrey.sup"),
        ReasonCode.NOT_AUTHORISED,
        "escalation-not-sent-to-you",
    )
    # The message must name the notice as the hub sent it.
    wrong_level = acknowledge.model_copy(update={"level": 2})
    refused(
        send(hub, "ESSEX", CASE, wrong_level, "essex.senior"),
        ReasonCode.RULE_VIOLATION,
        "escalation-mismatch",
    )
    accepted(hub, "ESSEX", CASE, acknowledge, "essex.senior")
    refused(
        send(hub, "ESSEX", CASE, acknowledge, "essex.senior"),
        ReasonCode.RULE_VIOLATION,
        "escalation-already-acknowledged",
    )

    # Surrey, whose part it is, hears who acknowledged it, as Essex signed it; Kent does not.
    drained = {f: hub.drain(f) for f in ("SURREY", "KENT")}
    [told] = heard(drained["SURREY"], "escalation-acknowledged")
    assert (told.senderforce, told.actor, told.data["escalation_id"]) == (
        "ESSEX",
        "essex.senior",
        escalation.id,
    )
    assert drained["KENT"] == []
    # Recorded, with who and when, and nothing else moves: the part stays red and late.
    [ack] = view(hub, CASE, "ESSEX").escalation_acknowledgements
    assert (ack.acknowledged_by, ack.acted_by, ack.level) == ("ESSEX", "essex.senior", 3)
    [after] = deadlines(hub, CASE, step=ANSWER)
    assert (after["status"], after["red"], after["due_at"]) == ("open", True, row["due_at"])
    [line] = [h for h in case_history(hub.engine, CASE) if h.event == "escalation-acknowledged"]
    assert (line.actor, line.acted_by) == ("ESSEX", "essex.senior")


def test_the_coordinating_force_chases_the_owner_who_alone_is_told(hub: InProcessHub) -> None:
    enquiry_id = surrey_owes_an_enquiry(hub)
    chase = PartChased(part_id=enquiry_id, note="The applicant has asked for news twice")
    # Only the co-ordinating force chases: not the receiving force, not the owner itself.
    refused(
        send(hub, "KENT", CASE, chase, "kent.sup"),
        ReasonCode.NOT_AUTHORISED,
        "not-coordinating-force",
    )
    accepted(hub, "ESSEX", CASE, chase, "essex.sup")
    drained = {f: hub.drain(f) for f in ("SURREY", "KENT")}
    [told] = heard(drained["SURREY"], "part-chased")
    assert (told.actor, told.data["note"]) == (
        "essex.sup",
        "The applicant has asked for news twice",
    )
    assert drained["KENT"] == []
    [part] = [p for p in view(hub, CASE).parts if p.owner == "SURREY"]
    assert (part.history[-1].action, part.history[-1].actor) == ("chase", "ESSEX")
    assert part.status.value == "requested"  # nothing moves
    [line] = [h for h in case_history(hub.engine, CASE) if h.event == "part-chased"]
    assert line.acted_by == "essex.sup" and "note=The applicant has asked" in line.summary


def test_the_owner_reassigns_its_part_within_itself_and_the_coordinator_is_told(
    hub: InProcessHub,
) -> None:
    enquiry_id = surrey_owes_an_enquiry(hub)
    reassign = PartReassigned(
        part_id=enquiry_id, assigned_to="SURREY-DA-7", assignee_kind=AssigneeKind.TEAM
    )
    refused(
        send(hub, "ESSEX", CASE, reassign, "essex.sup"),
        ReasonCode.NOT_AUTHORISED,
        "not-part-owner",
    )
    accepted(hub, "SURREY", CASE, reassign, "surrey.sup")
    drained = {f: hub.drain(f) for f in ("ESSEX", "KENT")}
    [told] = heard(drained["ESSEX"], "part-reassigned")
    assert (told.senderforce, told.actor, told.data["assigned_to"]) == (
        "SURREY",
        "surrey.sup",
        "SURREY-DA-7",
    )
    assert drained["KENT"] == []
    [part] = [p for p in view(hub, CASE).parts if p.party_id == "P2"]
    assert (part.owner, part.assigned_to, part.assignee_kind) == ("SURREY", "SURREY-DA-7", "team")
    [line] = [h for h in case_history(hub.engine, CASE) if h.event == "part-reassigned"]
    assert (line.actor, line.acted_by) == ("SURREY", "surrey.sup")

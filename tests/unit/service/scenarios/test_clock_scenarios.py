"""Deadlines and clocks through the hub's core in-process: sender-set due dates, agreed
extensions, a step clock that slips.

The hub's clock is fixed, so every due date is relative to it; the escalation ladder fires
when the test runs the hub's sweep, at the instant it names. That a deadline's own JetStream
timer fires it is tested on a real server in tests/integration/escalation/test_timers.py.
The pure-domain versions of these rules are in tests/unit/domain/test_deadline_rules.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scenario_support import (
    A_APPLICANT,
    NOW,
    accepted,
    build,
    case_row,
    deadlines,
    enquiry,
    names_by_force,
    opened,
    party,
    refused,
    send,
)

from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.domain.sla import SlaStep
from crossforce.broker.service.queries import case_history
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message

CASE = "CF-2026-300001"
ANSWER = SlaStep.RESPONDING_FORCE_ANSWER.value


def enquiry_rows(hub: InProcessHub) -> list[dict[str, Any]]:
    """The deadline rows of enquiries, leaving out the case's own step clocks."""
    return deadlines(hub, CASE, step=ANSWER)


def due_enquiry(due_at: datetime | None) -> Message:
    message = enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY")
    return message.model_copy(update={"due_at": due_at})


def test_a_sender_cannot_set_a_past_or_rushed_due_date_and_an_extension_restarts_the_ladder(
    hub: InProcessHub,
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    hub.drain("ESSEX")

    # Due last week: refused, and Surrey hears nothing of the enquiry.
    refused(
        send(hub, "ESSEX", CASE, due_enquiry(NOW - timedelta(days=7))),
        ReasonCode.RULE_VIOLATION,
        "due-at-in-past",
    )
    # Due tomorrow, sooner than the five working days of the policy, with no immediate risk.
    refused(
        send(hub, "ESSEX", CASE, due_enquiry(NOW + timedelta(days=1))),
        ReasonCode.RULE_VIOLATION,
        "due-at-shorter-than-policy",
    )
    assert hub.names("SURREY") == []
    assert enquiry_rows(hub) == []

    # Timed by the policy: accepted, Surrey is asked.
    accepted(hub, "ESSEX", CASE, due_enquiry(None))
    assert hub.names("SURREY") == ["enquiry-requested"]
    [row] = enquiry_rows(hub)
    assert (row["red"], row["fired_levels"]) == (False, [])

    # The case's own clocks are done (every step of the route up to the forum), so only the
    # enquiry can go red. Long overdue: its whole ladder fires and the part is marked red.
    done = build("step-completed", "ESSEX", "ESSEX", step=SlaStep.EW_FORUM_REFERRAL.value)
    accepted(hub, "ESSEX", CASE, done)
    assert not case_row(hub, CASE)["red"]
    hub.sweep(at=NOW + timedelta(days=20))
    [row] = enquiry_rows(hub)
    assert row["red"] and row["fired_levels"]
    assert case_row(hub, CASE)["red"]
    names_by_force(hub, "ESSEX", "SURREY", "KENT")

    # The co-ordinating force agrees a later date with Surrey, naming the enquiry.
    new_due = NOW + timedelta(days=40)
    extension = build(
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
        send(hub, "SURREY", CASE, extension),
        ReasonCode.NOT_AUTHORISED,
        "not-coordinating-force",
    )
    earlier = extension.model_copy(update={"new_due_at": NOW + timedelta(hours=1)})
    refused(send(hub, "ESSEX", CASE, earlier), ReasonCode.RULE_VIOLATION, "extension-not-later")
    accepted(hub, "ESSEX", CASE, extension)

    # Due moves, red clears, the ladder starts again; the history shows why.
    [row] = enquiry_rows(hub)
    assert row["due_at"] == new_due
    assert (row["red"], row["fired_levels"], row["status"]) == (False, [], "open")
    assert row["next_fire_at"] is not None
    assert not case_row(hub, CASE)["red"]
    [line] = [h for h in case_history(hub.engine, CASE) if h.event == "deadline-extended"]
    assert "reason=awaiting a partner agency's records" in line.summary
    assert "agreed_with=SURREY" in line.summary

    # Surrey, the owner, hears of it; Kent, which passed the case on, does not.
    heard = names_by_force(hub, "SURREY", "KENT")
    assert heard == {"SURREY": ["deadline-extended"], "KENT": []}


def test_a_step_clock_slips_to_the_coordinating_force_alone_and_the_applicant_is_told(
    hub: InProcessHub,
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]

    # Initial contact starts the clocks, so it cannot be set after the message or long before.
    for contact, rule in (
        (NOW + timedelta(hours=1), "initial-contact-in-future"),
        (NOW - timedelta(days=40), "initial-contact-backdated"),
    ):
        wrong = opened("KENT", "ESSEX", parties, initial_contact_at=contact.isoformat())
        refused(send(hub, "KENT", CASE, wrong), ReasonCode.RULE_VIOLATION, rule)

    # Opened two days after the contact: the 24-hour initial checks are already over.
    contact = NOW - timedelta(days=2)
    late = opened("KENT", "ESSEX", parties, initial_contact_at=contact.isoformat())
    accepted(hub, "KENT", CASE, late)
    accepted(hub, "ESSEX", CASE, due_enquiry(None))
    clocks = {r["step"]: r for r in deadlines(hub, CASE)}
    checks = clocks["ew-right-to-ask.initial-checks"]
    assert (checks["owner_force"], checks["in_clock_hours"]) == ("ESSEX", True)
    assert checks["due_at"] == contact + timedelta(hours=24)

    # The hub's sweep: the clock-hour ladder sends the overdue notice and, four hours on, the
    # escalation, both already due; the co-ordinating force owns the clock, so it alone hears
    # of it.
    hub.sweep()
    [fired] = deadlines(hub, CASE, deadline_id=checks["deadline_id"])
    assert sorted(fired["fired_levels"]) == [2, 3]
    notices = {"deadline-reminder", "overdue-notice", "escalation-raised"}
    heard = {f: [d.name for d in hub.drain(f) if d.name in notices] for f in ("SURREY", "KENT")}
    assert heard == {"SURREY": [], "KENT": []}
    essex_heard = [d for d in hub.drain("ESSEX") if d.name in notices]
    assert [(d.name, d.tasks) for d in essex_heard] == [
        ("overdue-notice", ("delay-notified",)),  # tell the applicant: signed by the hub
        ("escalation-raised", ()),
    ]
    assert {d.envelope.senderforce for d in essex_heard} == {"HUB"}
    assert {d.envelope.data["deadline"] for d in essex_heard} == {"ew-right-to-ask.initial-checks"}
    [task] = [h for h in case_history(hub.engine, CASE) if h.event == "task-created"]
    assert "ESSEX to tell the applicant" in task.summary
    assert "ew-right-to-ask.initial-checks" in task.summary
    assert case_row(hub, CASE)["red"]

    # The applicant is told, naming the step; then the checks are done and the clock stops.
    told = build(
        "delay-notified",
        "ESSEX",
        "ESSEX",
        part_id="ew-right-to-ask.initial-checks",
        reason="initial checks awaiting a partner agency",
    )
    accepted(hub, "ESSEX", CASE, told)
    [line] = [h for h in case_history(hub.engine, CASE) if h.event == "delay-notified"]
    assert "late_step=ew-right-to-ask.initial-checks" in line.summary
    done = build("step-completed", "ESSEX", "ESSEX", step="ew-right-to-ask.initial-checks")
    accepted(hub, "ESSEX", CASE, done)
    clocks = {r["step"]: r for r in deadlines(hub, CASE)}
    assert clocks["ew-right-to-ask.initial-checks"]["status"] == "closed"
    assert clocks["ew-right-to-ask.face-to-face"]["status"] == "open"
    assert not case_row(hub, CASE)["red"]
    # Nobody else hears of the case's own steps.
    assert names_by_force(hub, "SURREY", "KENT") == {"SURREY": [], "KENT": []}

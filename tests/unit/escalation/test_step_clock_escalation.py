"""Step clocks on the escalation ladder, against a real database with an injected clock:
armed from the case, fired at the start of the owner's working day, and the applicant's
liaison force tasked to tell them of the slip [001 ¶34(f)]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.broker.domain import commands as c
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.handling import handle
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.routes import Route
from crossforce.broker.domain.sla import SlaStep
from crossforce.broker.service.deadlines import clock_deadline_id

from .test_service import Clock, _deliveries, _row, _save, _service, engine, local

__all__ = ["engine"]  # the fixture, shared with test_service

# Christmas Eve 2026, a Thursday: the applicant makes initial contact with Essex.
CONTACT = datetime(2026, 12, 24, 10, 0, tzinfo=LONDON)


def _case() -> Case:
    case, _ = handle(
        None,
        c.OpenCase(
            case_ref="CF-XMAS",
            actor="ESSEX",
            at=CONTACT,
            receiving_force="ESSEX",
            coordinating_force="ESSEX",
            route=Route.RIGHT_TO_ASK,
            parties=(
                Party("A", PartyRole.A, "ESSEX", is_applicant=True, identity_verified=True),
                Party("B", PartyRole.B, "KENT", subject_key="b-xmas"),
            ),
            initial_contact_at=CONTACT,
        ),
    )
    return case


def _history(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(schema.case_history.c.event, schema.case_history.c.summary).order_by(
                schema.case_history.c.id
            )
        )
        return [(event, summary) for event, summary in rows]


def test_a_clock_hour_step_runs_through_christmas_day(engine: Engine) -> None:
    _save(engine, _case(), CONTACT)
    checks = _row(engine, clock_deadline_id("CF-XMAS", SlaStep.EW_RTA_INITIAL_CHECKS))
    # 24 clock hours: due at 10:00 on Christmas Day; a bank holiday stops no clock hour.
    assert checks["due_at"].replace(tzinfo=UTC) == datetime(2026, 12, 25, 10, tzinfo=UTC)
    service = _service(engine, Clock(local(2026, 12, 25, 10, 0, 1)))
    sent = _deliveries(service.fire_due())
    assert [(force, name, data["deadline"]) for force, name, data in sent] == [
        ("ESSEX", "overdue-notice", "ew-right-to-ask.initial-checks")
    ]


def test_a_working_day_step_skips_the_holidays_and_is_chased_at_nine(engine: Engine) -> None:
    case = _case()
    # Initial checks done on time; the face-to-face clock keeps running.
    case, _ = handle(
        case,
        c.CompleteStep(
            case_ref="CF-XMAS",
            actor="ESSEX",
            at=CONTACT + timedelta(hours=3),
            step=SlaStep.EW_RTA_INITIAL_CHECKS.value,
        ),
    )
    _save(engine, case, CONTACT + timedelta(hours=3))
    face_id = clock_deadline_id("CF-XMAS", SlaStep.EW_RTA_FACE_TO_FACE)
    # Ten English working days, skipping Christmas, Boxing Day (observed Monday 28th) and New
    # Year's Day: due at the end of Tuesday 12 January 2027.
    due = _row(engine, face_id)["due_at"].replace(tzinfo=UTC).astimezone(LONDON)
    assert (due.date().isoformat(), due.hour) == ("2027-01-12", 23)
    clock = Clock(local(2027, 1, 11, 8, 59))
    service = _service(engine, clock)
    assert service.fire_due() == []
    clock.now = local(2027, 1, 11, 9)
    reminders = _deliveries(service.fire_due())
    assert [(f, n) for f, n, d in reminders if d["deadline"].endswith("face-to-face")] == [
        ("ESSEX", "deadline-reminder")
    ]

    # Late from midnight, chased at the start of Wednesday's working day.
    clock.now = local(2027, 1, 13, 0, 1)
    assert service.fire_due() == []
    clock.now = local(2027, 1, 13, 9)
    outbound = service.fire_due()
    notices = [(f, n) for f, n, d in _deliveries(outbound) if d["deadline"].endswith("to-face")]
    assert notices == [("ESSEX", "overdue-notice")]
    essex = next(m for m in outbound if m.subject == subjects.delivery_subject("ESSEX"))
    assert essex.headers["Crossforce-Task"] == "delay-notified"
    # The task travels in the hub-signed notice itself, not only in a header.
    [signed] = [d for f, n, d in _deliveries(outbound) if d["deadline"].endswith("to-face")]
    assert signed["tasks"] == ["delay-notified"]
    # The co-ordinating force, which holds the applicant's liaison, is to tell them.
    tasks = [summary for event, summary in _history(engine) if event == "task-created"]
    assert any(
        "ESSEX to tell the applicant" in t and "ew-right-to-ask.face-to-face" in t for t in tasks
    )


def test_a_case_with_no_applicant_raises_no_task_to_tell_one(engine: Engine) -> None:
    # Right to Know: the police act on indirect information; there is no applicant [001 ¶58].
    case, _ = handle(
        None,
        c.OpenCase(
            case_ref="CF-RTK",
            actor="ESSEX",
            at=CONTACT,
            receiving_force="ESSEX",
            coordinating_force="ESSEX",
            route=Route.RIGHT_TO_KNOW,
            parties=(
                Party("A", PartyRole.A, "ESSEX"),
                Party("B", PartyRole.B, "ESSEX", subject_key="b-rtk"),
            ),
        ),
    )
    _save(engine, case, CONTACT)
    with engine.begin() as connection:
        connection.execute(
            schema.cases.update()
            .where(schema.cases.c.case_ref == "CF-RTK")
            .values(state={"case": case.to_dict()})
        )
    checks = _row(engine, clock_deadline_id("CF-RTK", SlaStep.EW_RTK_INTELLIGENCE_CHECKS))
    assert checks["part_id"] == "case"  # no applicant-liaison part on this route
    # Five working days from Christmas Eve: due at the end of Tuesday 5 January.
    outbound = _service(engine, Clock(local(2027, 1, 6, 9))).fire_due()
    assert [(f, n) for f, n, _ in _deliveries(outbound)] == [("ESSEX", "overdue-notice")]
    assert all("Crossforce-Task" not in m.headers for m in outbound)
    assert [d["tasks"] for _, _, d in _deliveries(outbound)] == [[]]
    assert "task-created" not in [event for event, _ in _history(engine)]

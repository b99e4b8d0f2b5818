"""The escalation ladder and the sweep core, with an injected clock (nothing sleeps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crossforce.broker.domain.calendar import LONDON, calendar_for_force
from crossforce.broker.domain.ladder import (
    Audience,
    Deadline,
    LadderMessage,
    LadderTask,
    escalation_steps,
    next_fire_at,
    recipients,
    steps_due,
)
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, due_at
from crossforce.broker.domain.sweep import OpenDeadline, arm, record_fired, sweep

POLICY = SlaPolicy()
MINUTE = timedelta(minutes=1)


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def advance_to(self, when: datetime) -> datetime:
        assert when >= self.now
        self.now = when
        return when


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def responding_part(owner: str, started: datetime, *, immediate_risk: bool = False) -> Deadline:
    return Deadline(
        part_id=f"part-{owner}",
        owner_force=owner,
        coordinating_force="KENT",
        due_at=due_at(SlaStep.RESPONDING_FORCE_ANSWER, started, owner, POLICY),
        immediate_risk=immediate_risk,
    )


def test_default_ladder_in_working_days() -> None:
    deadline = responding_part("WEST_MIDLANDS", local(2026, 11, 9, 10))  # Mon -> due Mon 16th
    assert deadline.due_at == local(2026, 11, 16, 23, 59).replace(second=59, microsecond=999999)
    reminder, overdue, escalation = escalation_steps(deadline)
    assert (reminder.level, reminder.message) == (1, LadderMessage.DEADLINE_REMINDER)
    assert reminder.fire_at == local(2026, 11, 13, 9)  # 09:00 on the working day before (Fri)
    assert reminder.audience == (Audience.OWNING_FORCE_OFFICER,)
    assert (overdue.level, overdue.message) == (2, LadderMessage.OVERDUE_NOTICE)
    # At the start of the owner's next working day, not at midnight.
    assert overdue.fire_at == local(2026, 11, 17, 9)
    assert overdue.audience == (
        Audience.OWNING_FORCE_SUPERVISOR,
        Audience.COORDINATING_FORCE_SUPERVISOR,
    )
    assert overdue.tasks == (LadderTask.DELAY_NOTIFIED,)
    assert not overdue.marks_red
    assert (escalation.level, escalation.message) == (3, LadderMessage.ESCALATION_RAISED)
    assert escalation.fire_at == local(2026, 11, 19, 9)  # after Tue 17th and Wed 18th
    assert escalation.audience == (Audience.COORDINATING_FORCE_SENIOR_OFFICER,)
    assert escalation.marks_red
    assert recipients(deadline, overdue) == (
        ("WEST_MIDLANDS", "supervisor"),
        ("KENT", "supervisor"),
    )
    assert recipients(deadline, escalation) == (("KENT", "senior-officer"),)


def test_police_scotland_misses_its_deadline_over_st_andrews_day() -> None:
    # The same request, sent Monday 23 Nov 2026, to a responding force in Police Scotland and in
    # England. Five working days: England counts Mon 30 Nov; Scotland skips St Andrew's Day.
    sent = local(2026, 11, 23, 10)
    scotland = responding_part("PSOS", sent)
    england = responding_part("WEST_MIDLANDS", sent)
    assert england.due_at.date() == local(2026, 11, 30).date()
    assert scotland.due_at.date() == local(2026, 12, 1).date()
    assert scotland.due_at - england.due_at == timedelta(days=1)

    clock = Clock(local(2026, 11, 23, 10))
    rows = [arm(scotland, clock.now), arm(england, clock.now)]

    def run_sweep() -> list[tuple[str, LadderMessage]]:
        nonlocal rows
        now = clock.now.astimezone(UTC)
        due = list(sweep(rows, now))
        rows = [
            record_fired(row, [d.step for d in due if d.deadline is row.deadline], now)
            for row in rows
        ]
        return [(d.deadline.owner_force, d.step.message) for d in due]

    # Both reminders on Friday 27th at 09:00 (Scotland's working day before Tue 1 Dec is Fri).
    clock.advance_to(local(2026, 11, 27, 9) - MINUTE)
    assert run_sweep() == []
    clock.advance_to(local(2026, 11, 27, 9))
    assert run_sweep() == [
        ("PSOS", LadderMessage.DEADLINE_REMINDER),
        ("WEST_MIDLANDS", LadderMessage.DEADLINE_REMINDER),
    ]
    # Just after midnight on Tuesday 1 December only the English force is overdue.
    # Late from midnight, but the notice waits for the start of the working day.
    clock.advance_to(local(2026, 12, 1, 0, 1))
    assert run_sweep() == []
    clock.advance_to(local(2026, 12, 1, 9))
    assert run_sweep() == [("WEST_MIDLANDS", LadderMessage.OVERDUE_NOTICE)]
    # Police Scotland has not answered by the end of Tuesday: overdue a day later.
    clock.advance_to(local(2026, 12, 2, 9))
    assert run_sweep() == [("PSOS", LadderMessage.OVERDUE_NOTICE)]
    # Escalation after two more of the owner's working days: Thu 3rd (England), Fri 4th.
    clock.advance_to(local(2026, 12, 3, 9))
    assert run_sweep() == [("WEST_MIDLANDS", LadderMessage.ESCALATION_RAISED)]
    clock.advance_to(local(2026, 12, 4, 9))
    assert run_sweep() == [("PSOS", LadderMessage.ESCALATION_RAISED)]
    assert all(row.next_fire_at is None for row in rows)
    # How late, in the owner's working days, an answer on Friday 4th is.
    answered = local(2026, 12, 4, 11)
    assert calendar_for_force("PSOS").working_days_between(scotland.due_at, answered) == 3
    assert calendar_for_force("WEST_MIDLANDS").working_days_between(england.due_at, answered) == 4


def test_an_answer_one_minute_before_the_deadline_leaves_nothing_due() -> None:
    deadline = responding_part("KENT", local(2026, 11, 9, 10))
    one_minute_before = deadline.due_at - MINUTE
    assert steps_due(deadline, {1}, one_minute_before) == []
    assert steps_due(deadline, {1}, deadline.due_at) == []  # the last on-time instant
    # Late from the next instant; the notice goes at the start of the next working day.
    late = deadline.due_at + timedelta(microseconds=1)
    assert steps_due(deadline, {1}, late) == []
    notice = steps_due(deadline, {1}, late.replace(hour=9, minute=0, second=0, microsecond=0))
    assert [step.message for step in notice] == [LadderMessage.OVERDUE_NOTICE]
    # Answered at that minute: the hub closes the part, so the sweep never sees it again;
    # nothing is due on the row as it was just before closing either.
    row = record_fired(
        arm(deadline, one_minute_before),
        steps_due(deadline, (), one_minute_before),
        one_minute_before,
    )
    assert row.fired_levels == {1}
    assert list(sweep([row], one_minute_before.astimezone(UTC))) == []


def test_immediate_risk_runs_in_hours() -> None:
    # 24 clock hours from Saturday noon crosses the March clock change.
    started = local(2026, 3, 28, 12)
    deadline = Deadline(
        part_id="p1",
        owner_force="KENT",
        coordinating_force="PSOS",
        due_at=due_at(SlaStep.EW_RTA_INITIAL_CHECKS, started, "KENT", POLICY),
        immediate_risk=True,
    )
    assert deadline.due_at == local(2026, 3, 29, 13)
    reminder, overdue, escalation = escalation_steps(deadline)
    assert reminder.fire_at == local(2026, 3, 29, 11)
    assert overdue.fire_at == local(2026, 3, 29, 13) + timedelta(microseconds=1)
    assert escalation.fire_at == local(2026, 3, 29, 17)
    assert escalation.marks_red
    # A weekend does not slow it down, and neither does the clock change: the reminder two
    # clock hours before 03:00 BST is midnight GMT (one hour on the wall).
    early = Deadline("p2", "KENT", "KENT", local(2026, 3, 29, 3), immediate_risk=True)
    assert escalation_steps(early)[0].fire_at.astimezone(UTC) == datetime(2026, 3, 29, tzinfo=UTC)


def test_clock_hour_limits_use_the_hours_ladder_even_without_immediate_risk() -> None:
    deadline = Deadline("p3", "KENT", "KENT", local(2026, 6, 10, 14), in_clock_hours=True)
    assert escalation_steps(deadline)[0].fire_at == local(2026, 6, 10, 12)


def test_an_outage_catches_up_without_a_stale_reminder() -> None:
    deadline = responding_part("KENT", local(2026, 11, 9, 10))  # due end of Mon 16th
    after_outage = local(2026, 11, 20, 12)
    due = steps_due(deadline, (), after_outage)
    assert [step.message for step in due] == [
        LadderMessage.OVERDUE_NOTICE,
        LadderMessage.ESCALATION_RAISED,
    ]
    row = record_fired(arm(deadline, local(2026, 11, 9, 10)), due, after_outage)
    assert row.next_fire_at is None  # the skipped reminder never comes back
    assert next_fire_at(deadline, (), local(2026, 11, 9, 10)) == local(2026, 11, 13, 9)


def test_one_force_owning_and_coordinating_is_told_once_per_role() -> None:
    deadline = Deadline("p4", "PSOS", "PSOS", local(2026, 6, 10, 14))
    overdue = escalation_steps(deadline)[1]
    assert recipients(deadline, overdue) == (("PSOS", "supervisor"),)


def test_sweep_skips_rows_whose_next_fire_time_is_ahead() -> None:
    deadline = responding_part("KENT", local(2026, 11, 9, 10))
    now = local(2026, 11, 13, 9).astimezone(UTC)
    ahead = OpenDeadline(deadline, now + MINUTE)
    exhausted = OpenDeadline(deadline, None, frozenset({1, 2, 3}))
    stored = arm(deadline, local(2026, 11, 9, 10))
    assert stored.next_fire_at == now
    assert list(sweep([ahead, exhausted], now)) == []
    assert [d.step.level for d in sweep([ahead, stored, exhausted], now)] == [1]

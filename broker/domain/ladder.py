"""The escalation ladder: what is sent, to whom and when, as an open deadline approaches and passes.

The sources define no inter-force escalation ladder (domain.md §8). They only say the
co-ordinating force keeps "the anticipated level of service" [000 §3.10.7], the applicant is
told about delays [001 ¶34(f)], and high-risk work is prioritised [002 L144–146, L457–62]. The
ladder is therefore a product design, configured in the `escalation` section of the SLA policy
file; the default is explained in docs/decisions/0004-escalation-ladder.md.

Everything here is pure: the clock is a parameter and nothing is sent. The hub turns the steps
into messages and records which levels have fired.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crossforce.broker.domain.calendar import (
    LONDON,
    WorkingCalendar,
    calendar_for_force,
    first_late_instant,
)


class LadderMessage(StrEnum):
    """Message names a rung sends (message types `uk.police.dvds.<name>.v1`)."""

    DEADLINE_REMINDER = "deadline-reminder"
    OVERDUE_NOTICE = "overdue-notice"
    ESCALATION_RAISED = "escalation-raised"


class Party(StrEnum):
    OWNING_FORCE = "owning-force"
    COORDINATING_FORCE = "coordinating-force"


class Audience(StrEnum):
    """Who receives a rung's message: a role within one of the two forces of the deadline."""

    OWNING_FORCE_OFFICER = "owning-force.officer-in-charge"
    OWNING_FORCE_SUPERVISOR = "owning-force.supervisor"
    OWNING_FORCE_SENIOR_OFFICER = "owning-force.senior-officer"
    COORDINATING_FORCE_OFFICER = "coordinating-force.officer-in-charge"
    COORDINATING_FORCE_SUPERVISOR = "coordinating-force.supervisor"
    COORDINATING_FORCE_SENIOR_OFFICER = "coordinating-force.senior-officer"

    @property
    def party(self) -> Party:
        return Party(self.value.split(".", 1)[0])

    @property
    def role(self) -> str:
        return self.value.split(".", 1)[1]


class LadderTask(StrEnum):
    # The co-ordinating force tells A or C that the enquiry is delayed [001 ¶34(f)]; it is the
    # co-ordinating force because it holds the contact with the applicant [000 §3.10].
    DELAY_NOTIFIED = "delay-notified"


class Rung(BaseModel):
    """One rung: fires `offset` units before (negative), at (0) or after (positive) due."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message: LadderMessage
    offset: int
    audience: tuple[Audience, ...] = Field(min_length=1)
    tasks: tuple[LadderTask, ...] = ()
    marks_red: bool = False
    why: str = ""

    @model_validator(mode="after")
    def _reminders_come_before_due(self) -> Rung:
        if self.message is LadderMessage.DEADLINE_REMINDER and self.offset >= 0:
            raise ValueError("a deadline-reminder must fire before due (negative offset)")
        if self.message is not LadderMessage.DEADLINE_REMINDER and self.offset < 0:
            raise ValueError(f"an {self.message} cannot fire before the deadline is missed")
        return self


class Ladder(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: Literal["working-days", "clock-hours"]
    # A before-due rung of a working-day ladder fires at this local time on its working day,
    # so the reminder lands at the start of the owner's day rather than at midnight.
    reminder_local_time: time = time(9, 0)
    rungs: tuple[Rung, ...] = Field(min_length=1)

    @field_validator("reminder_local_time", mode="before")
    @classmethod
    def _time_is_quoted(cls, value: Any) -> Any:
        # Unquoted 9:30 in YAML 1.1 is the integer 570, which pydantic would read as seconds.
        if not isinstance(value, str | time):
            raise ValueError("write the time as a quoted string, e.g. '09:00'")
        return value

    @model_validator(mode="after")
    def _rungs_in_order(self) -> Ladder:
        offsets = [rung.offset for rung in self.rungs]
        if offsets != sorted(set(offsets)):
            raise ValueError(f"rung offsets must be strictly increasing, got {offsets}")
        return self


def _standard_ladder() -> Ladder:
    return Ladder(
        unit="working-days",
        rungs=(
            Rung(
                message=LadderMessage.DEADLINE_REMINDER,
                offset=-1,
                audience=(Audience.OWNING_FORCE_OFFICER,),
                why="one working day's notice is enough to act without nagging",
            ),
            Rung(
                message=LadderMessage.OVERDUE_NOTICE,
                offset=0,
                audience=(Audience.OWNING_FORCE_SUPERVISOR, Audience.COORDINATING_FORCE_SUPERVISOR),
                tasks=(LadderTask.DELAY_NOTIFIED,),
                why="001 ¶34(f): the applicant is told of delay; 000 §3.10.7 level of service",
            ),
            Rung(
                message=LadderMessage.ESCALATION_RAISED,
                offset=2,
                audience=(Audience.COORDINATING_FORCE_SENIOR_OFFICER,),
                marks_red=True,
                why="supervisors had two working days; 000 §3.10.7 keeps service with the "
                "co-ordinating force",
            ),
        ),
    )


def _immediate_risk_ladder() -> Ladder:
    return Ladder(
        unit="clock-hours",
        rungs=(
            Rung(
                message=LadderMessage.DEADLINE_REMINDER,
                offset=-2,
                audience=(Audience.OWNING_FORCE_OFFICER,),
                why="002 L144–146: high-risk work is prioritised; days are too slow",
            ),
            Rung(
                message=LadderMessage.OVERDUE_NOTICE,
                offset=0,
                audience=(Audience.OWNING_FORCE_SUPERVISOR, Audience.COORDINATING_FORCE_SUPERVISOR),
                tasks=(LadderTask.DELAY_NOTIFIED,),
                why="001 ¶34(f): the applicant is told of delay",
            ),
            Rung(
                message=LadderMessage.ESCALATION_RAISED,
                offset=4,
                audience=(Audience.COORDINATING_FORCE_SENIOR_OFFICER,),
                marks_red=True,
                why="002 L457–62: risk is never downgraded for lack of capacity",
            ),
        ),
    )


class EscalationPolicy(BaseModel):
    """The `escalation` section of the SLA policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    standard: Ladder = Field(default_factory=_standard_ladder)
    # Used for immediate-risk cases and for limits that are themselves in clock hours (24-hour
    # initial checks, MARAC action plan): a day ladder would remind before the clock started.
    immediate_risk: Ladder = Field(default_factory=_immediate_risk_ladder)

    @model_validator(mode="after")
    def _immediate_risk_runs_in_hours(self) -> EscalationPolicy:
        if self.immediate_risk.unit != "clock-hours":
            raise ValueError("the immediate_risk ladder must run in clock-hours")
        return self


DEFAULT_ESCALATION = EscalationPolicy()


@dataclass(frozen=True, slots=True)
class Deadline:
    """An open deadline on one part of a case, owned by one force."""

    part_id: str
    owner_force: str
    coordinating_force: str
    due_at: datetime
    immediate_risk: bool = False
    in_clock_hours: bool = False  # the limit itself is in clock hours


@dataclass(frozen=True, slots=True)
class EscalationStep:
    level: int  # 1-based position on the ladder; what the hub records as fired
    fire_at: datetime
    audience: tuple[Audience, ...]
    message: LadderMessage
    marks_red: bool
    tasks: tuple[LadderTask, ...] = ()


def ladder_for(deadline: Deadline, policy: EscalationPolicy = DEFAULT_ESCALATION) -> Ladder:
    if deadline.immediate_risk or deadline.in_clock_hours:
        return policy.immediate_risk
    return policy.standard


def _fire_at(rung: Rung, ladder: Ladder, due_at: datetime, calendar: WorkingCalendar) -> datetime:
    if ladder.unit == "clock-hours":
        # Hours matter more than office hours here: the exact instant [002 L144–146].
        if rung.offset == 0:
            return first_late_instant(due_at)
        return calendar.clock_hours_after(due_at, rung.offset)
    if rung.offset < 0:
        day = calendar.add_working_days(due_at.astimezone(LONDON).date(), rung.offset)
        return datetime.combine(day, ladder.reminder_local_time, tzinfo=LONDON)
    # At or after due: once the owner has had `offset` more of its own working days, at the
    # start of its next working day, when someone is there to read it, not at midnight.
    late = first_late_instant(
        due_at if rung.offset == 0 else calendar.working_days_after(due_at, rung.offset)
    )
    return start_of_working_day(late, ladder.reminder_local_time, calendar)


def start_of_working_day(instant: datetime, at: time, calendar: WorkingCalendar) -> datetime:
    """The first `at` (local time) on one of `calendar`'s working days not before `instant`."""
    local = instant.astimezone(LONDON)
    if calendar.is_working_day(local.date()) and local.time() <= at:
        return datetime.combine(local.date(), at, tzinfo=LONDON)
    return datetime.combine(calendar.next_working_day(local.date()), at, tzinfo=LONDON)


def escalation_steps(
    deadline: Deadline, policy: EscalationPolicy = DEFAULT_ESCALATION
) -> tuple[EscalationStep, ...]:
    """The whole ladder for `deadline`, in firing order, counted in the owner's working days."""
    ladder = ladder_for(deadline, policy)
    calendar = calendar_for_force(deadline.owner_force)
    return tuple(
        EscalationStep(
            level=level,
            fire_at=_fire_at(rung, ladder, deadline.due_at, calendar),
            audience=rung.audience,
            message=rung.message,
            marks_red=rung.marks_red,
            tasks=rung.tasks,
        )
        for level, rung in enumerate(ladder.rungs, start=1)
    )


def _is_stale(step: EscalationStep, deadline: Deadline, now: datetime) -> bool:
    # A reminder that "the deadline is near" is wrong once it has passed (the hub was down, or
    # the deadline was armed late); the overdue notice says what the reminder would have said.
    return step.message is LadderMessage.DEADLINE_REMINDER and now > deadline.due_at


def steps_due(
    deadline: Deadline,
    fired_levels: Collection[int],
    now: datetime,
    policy: EscalationPolicy = DEFAULT_ESCALATION,
) -> list[EscalationStep]:
    """Steps of an open deadline that should fire at `now` and have not fired yet.

    Several can be due at once after an outage; all are returned, in ladder order, so the
    sweep catches up. A closed deadline (the part was answered) is simply not asked about.
    """
    return [
        step
        for step in escalation_steps(deadline, policy)
        if step.level not in fired_levels
        and step.fire_at <= now
        and not _is_stale(step, deadline, now)
    ]


def next_fire_at(
    deadline: Deadline,
    fired_levels: Collection[int],
    now: datetime,
    policy: EscalationPolicy = DEFAULT_ESCALATION,
) -> datetime | None:
    """The earliest instant at which `steps_due` would return something; None when the ladder
    is exhausted. This is the value the hub stores (indexed) for the sweep to query."""
    candidates = [
        step.fire_at
        for step in escalation_steps(deadline, policy)
        if step.level not in fired_levels
        and (step.fire_at > now or not _is_stale(step, deadline, now))
    ]
    return min(candidates, default=None)


def recipients(deadline: Deadline, step: EscalationStep) -> tuple[tuple[str, str], ...]:
    """(force code, role) pairs for a step, without duplicates when one force has both parts."""
    seen: dict[tuple[str, str], None] = {}
    for audience in step.audience:
        force = (
            deadline.owner_force
            if audience.party is Party.OWNING_FORCE
            else deadline.coordinating_force
        )
        seen.setdefault((force, audience.role), None)
    return tuple(seen)


def fired(steps: Iterable[EscalationStep]) -> frozenset[int]:
    return frozenset(step.level for step in steps)

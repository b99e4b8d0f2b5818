"""Late and soon-due parts by owning force, counted in that owner's working days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from crossforce.adapters.sql import queries
from crossforce.broker.domain.calendar import calendar_for_force
from crossforce.broker.domain.ladder import escalation_steps
from crossforce.broker.service.deadlines import DEFAULT_POLICY, OPEN, deadline_from_row


@dataclass(frozen=True, slots=True)
class OverduePart:
    owner_force: str
    case_ref: str
    part_id: str
    step: str
    due_at: datetime
    # In the owner's working days: positive = late by, zero = due today, negative = left.
    working_days_late: int
    late: bool
    level_fired: int
    level_name: str
    red: bool


def overdue_parts(
    engine: Engine,
    now: datetime,
    *,
    force: str | None = None,
    within_days: int = 2,
    replay: bool = False,
) -> list[OverduePart]:
    """Open deadlines that are late or due within `within_days` of the owner's working days,
    by owner, most late first.

    The level fired and red are what the hub had recorded by `now`; with `replay`, what the
    ladder would have fired by `now`, for a report as at a time the hub has not reached.
    """
    # Working days are never fewer than calendar days, so this bound loses nothing; the
    # exact test, in the owner's own calendar, is done below.
    horizon = now + timedelta(days=2 * within_days + 14)
    rows = queries.deadline_rows(engine, owner_force=force, open_at=now, due_by=horizon)
    found: list[OverduePart] = []
    for row in rows:
        deadline = deadline_from_row(row)
        late = now > deadline.due_at
        days = calendar_for_force(deadline.owner_force).working_days_between(deadline.due_at, now)
        if not late and -days > within_days:
            continue
        steps = escalation_steps(deadline, DEFAULT_POLICY.escalation)
        if replay:
            by_now = [step for step in steps if step.fire_at <= now]
            level = max((step.level for step in by_now), default=0)
            red = any(step.marks_red for step in by_now)
        else:
            # Only the rungs that had fired by `now`, so a report as at an earlier time
            # agrees with itself: no level or red flag from after it.
            fired = sorted(
                level
                for level in (int(value) for value in row["fired_levels"] or ())
                if 0 < level <= len(steps) and steps[level - 1].fire_at <= now
            )
            level = fired[-1] if fired else 0
            red = any(steps[n - 1].marks_red for n in fired)
        name = steps[level - 1].message.value if 0 < level <= len(steps) else ""
        found.append(
            OverduePart(
                owner_force=deadline.owner_force,
                case_ref=row["case_ref"],
                part_id=deadline.part_id,
                step=row["step"],
                due_at=deadline.due_at,
                working_days_late=days,
                late=late,
                level_fired=level,
                level_name=name,
                red=red,
            )
        )
    found.sort(key=lambda p: (p.owner_force, not p.late, -p.working_days_late, p.due_at))
    return found


@dataclass(frozen=True, slots=True)
class CaseDeadline:
    """One timed part or statutory step clock of a case, as the hub has armed it."""

    step: str
    part_id: str
    owner_force: str
    due_at: datetime
    open: bool
    red: bool
    level_fired: int
    closed_at: datetime | None


def case_deadlines(engine: Engine, case_ref: str) -> list[CaseDeadline]:
    """Every deadline of the case, open or stopped, soonest due first: what `crossforce case`
    shows under "Deadlines and step clocks"."""
    rows = queries.deadline_rows(engine, case_ref=case_ref)
    found = [
        CaseDeadline(
            step=row["step"],
            part_id=row["part_id"],
            owner_force=row["owner_force"],
            due_at=deadline_from_row(row).due_at,
            open=row["status"] == OPEN,
            red=bool(row["red"]),
            level_fired=max((int(level) for level in row["fired_levels"] or ()), default=0),
            closed_at=row["closed_at"],
        )
        for row in rows
    ]
    found.sort(key=lambda d: (not d.open, d.due_at))
    return found

"""Deadline rows and their JetStream timers, kept in line with the case in its transaction.

The `deadlines` table is the source of truth (architecture decision 8). Each open deadline
is armed as a JetStream scheduled message for its `next_fire_at`; the escalation service
fires what is due. A timer that fires for a closed, already-fired or re-armed deadline finds
nothing to do, so a lost cancellation or a duplicate fire is harmless.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from crossforce.adapters.nats import subjects
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.clocks import step_clocks
from crossforce.broker.domain.ladder import Deadline, next_fire_at
from crossforce.broker.domain.parts import PartKind, PartOfJob
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, TimeUnit
from crossforce.broker.domain.sweep import OpenDeadline
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.ports import UnitOfWork
from crossforce.contracts import headers

DEFAULT_POLICY: Final = SlaPolicy()
OPEN: Final = "open"
# The part id a clock's notices name when the route has no applicant-liaison part.
CASE_CLOCK: Final = "case"
CLOSED: Final = "closed"

# The SLA step each kind of part is timed against, where one source step governs it. Other
# kinds are timed by whatever due time the co-ordinating force set, and labelled by kind.
_STEP_FOR_KIND: Final[Mapping[PartKind, SlaStep]] = {
    PartKind.ENQUIRY: SlaStep.RESPONDING_FORCE_ANSWER,
    PartKind.DMF_REFERRAL: SlaStep.SCOTLAND_STAGE_4_DMF_REFERRAL,
}


def deadline_id_for(case_ref: str, part_id: str) -> str:
    """A deadline id that is one NATS subject token: no dots, spaces or wildcards."""
    return _token(f"{case_ref}_{part_id}")


def _token(value: str) -> str:
    return _NOT_IN_TOKEN.sub("-", value)


# Anything but letters, digits (as str.isalnum counts them), "_" and "-".
_NOT_IN_TOKEN: Final = re.compile(r"[^\w-]")


def schedule_instant(fire_at: datetime) -> datetime:
    """`fire_at` in UTC, rounded up to the second: schedules have one-second precision, and
    firing a moment early would find the step not yet due."""
    utc = fire_at.astimezone(UTC)
    whole = utc.replace(microsecond=0)
    return whole if whole == utc else whole + timedelta(seconds=1)


def _stamp(instant: datetime) -> str:
    return schedule_instant(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def timer_message(
    deadline_id: str, fire_at: datetime, *, version: int | None = None
) -> OutboundMessage:
    """The JetStream scheduled message that arms `deadline_id` for `fire_at`.

    Publishing to the deadline's schedule subject replaces any earlier schedule for it, so a
    deadline has at most one pending timer. The msg id is unique per (deadline, fire_at) and,
    when given, the row version that armed it: a deadline closed and re-opened with the same
    fire time must be armed again rather than deduplicated away.
    """
    stamp = _stamp(fire_at)
    arming = f"v{version}/" if version is not None else ""
    body = {"deadline_id": deadline_id, "fire_at": stamp}
    return OutboundMessage(
        msg_id=f"timer/{deadline_id}/{arming}{stamp}",
        subject=subjects.timer_schedule_subject(deadline_id),
        payload=json.dumps(body, separators=(",", ":")).encode(),
        headers={
            headers.SCHEDULE: f"@at {stamp}",
            headers.SCHEDULE_TARGET: subjects.timer_fire_subject(deadline_id),
        },
    )


def cancel_timer_message(deadline_id: str, version: int) -> OutboundMessage:
    """Replace the pending schedule with a plain message: the subject rollup removes it.

    Only an optimisation: a timer that still fires finds the row closed and does nothing.
    """
    return OutboundMessage(
        msg_id=f"timer/{deadline_id}/v{version}/cancel",
        subject=subjects.timer_schedule_subject(deadline_id),
        payload=b"",
        headers={headers.ROLLUP: "sub"},
    )


def deadline_id_from_subject(subject: str) -> str:
    """The deadline id of a fired timer subject `cf.timer.fire.<id>`."""
    prefix = subjects.timer_fire_subject("")
    if not subject.startswith(prefix) or len(subject) == len(prefix):
        raise ValueError(f"not a timer fire subject: {subject}")
    return subject[len(prefix) :]


# ------------------------------------------------------------------------ deadline rows


def clock_deadline_id(case_ref: str, step: SlaStep) -> str:
    """The deadline id of one of the case's statutory step clocks."""
    return deadline_id_for(case_ref, f"clock-{step.value}")


def step_for(part: PartOfJob) -> str:
    step = _STEP_FOR_KIND.get(part.kind)
    return step.value if step is not None else part.kind.value


def _in_clock_hours(step: str, policy: SlaPolicy) -> bool:
    try:
        sla_step = SlaStep(step)
    except ValueError:
        return False
    return policy.limit_for(sla_step).unit is TimeUnit.CLOCK_HOURS


def deadline_from_row(row: Mapping[str, Any]) -> Deadline:
    due: datetime = row["due_at"]
    return Deadline(
        part_id=row["part_id"],
        owner_force=row["owner_force"],
        coordinating_force=row["coordinating_force"],
        due_at=due,
        immediate_risk=bool(row["immediate_risk"]),
        in_clock_hours=bool(row["in_clock_hours"]),
    )


def open_deadline_from_row(row: Mapping[str, Any]) -> OpenDeadline:
    return OpenDeadline(
        deadline=deadline_from_row(row),
        next_fire_at=row["next_fire_at"],
        fired_levels=frozenset(int(level) for level in row["fired_levels"] or ()),
    )


@dataclass(frozen=True, slots=True)
class WantedDeadline:
    """A deadline the case needs armed: one per timed part and per running step clock."""

    deadline_id: str
    step: str
    deadline: Deadline


def wanted_deadlines(case: Case, policy: SlaPolicy = DEFAULT_POLICY) -> list[WantedDeadline]:
    """Every deadline the case needs now, computed from the case alone (no I/O)."""
    wanted: list[WantedDeadline] = []
    for part in case.parts_needing_timers():
        if part.due_at is None:
            continue
        step = step_for(part)
        deadline = Deadline(
            part_id=part.part_id,
            owner_force=part.owner,
            coordinating_force=case.coordinating_force,
            due_at=part.due_at.astimezone(UTC),
            immediate_risk=case.priority,
            in_clock_hours=_in_clock_hours(step, policy),
        )
        wanted.append(WantedDeadline(deadline_id_for(case.case_ref, part.part_id), step, deadline))
    # The route's statutory step clocks, owned by the co-ordinating force (domain.md §3).
    for clock in step_clocks(case, policy) if case.status is CaseStatus.OPEN else ():
        if not clock.running:
            continue
        deadline = Deadline(
            part_id=clock.part_id or CASE_CLOCK,
            owner_force=clock.owner,
            coordinating_force=case.coordinating_force,
            due_at=clock.due_at.astimezone(UTC),
            immediate_risk=case.priority,
            in_clock_hours=_in_clock_hours(clock.step.value, policy),
        )
        wanted.append(
            WantedDeadline(clock_deadline_id(case.case_ref, clock.step), clock.step.value, deadline)
        )
    return wanted


def deadlines_fingerprint(wanted: Sequence[WantedDeadline]) -> str:
    """A digest of what the case's deadline rows were last brought in line with. A message
    that leaves it unchanged leaves the rows as they are, so their sync (a read, the clocks
    compared row by row) is skipped. Only the escalation service writes the rows otherwise,
    and only their ladder progress (fired levels, next fire time, red), which the sync keeps."""
    text = "|".join(
        f"{w.deadline_id},{w.step},{w.deadline.owner_force},{w.deadline.coordinating_force},"
        f"{w.deadline.due_at.isoformat()},{w.deadline.immediate_risk:d},"
        f"{w.deadline.in_clock_hours:d}"
        for w in wanted
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def sync_deadlines(
    uow: UnitOfWork,
    case: Case,
    now: datetime,
    policy: SlaPolicy = DEFAULT_POLICY,
    wanted: Sequence[WantedDeadline] | None = None,
) -> None:
    """Bring the case's deadline rows and timers in line with the case, in `uow`'s transaction.

    Every part that needs a timer and has a due time gets an open row, armed for its next
    step. A row whose part no longer needs one (answered, declined, cancelled, case closed) is
    closed: a response cancels the timer. A part whose owner or due time changed starts a
    fresh ladder, because the new owner has not been reminded of anything yet.
    """
    if wanted is None:
        wanted = wanted_deadlines(case, policy)
    rows = uow.deadlines.for_case(case.case_ref)
    red_changed = False
    for one in wanted:
        red_changed |= _upsert(uow, case.case_ref, one, rows.get(one.deadline_id), now, policy)
    ids = {one.deadline_id for one in wanted}
    for deadline_id, row in rows.items():
        if deadline_id not in ids and row["status"] == OPEN:
            _close(uow, row, now)
            red_changed |= bool(row["red"])
    if red_changed:  # the case is red while any open row is
        uow.cases.refresh_red(case.case_ref)


def _upsert(
    uow: UnitOfWork,
    case_ref: str,
    wanted: WantedDeadline,
    row: dict[str, Any] | None,
    now: datetime,
    policy: SlaPolicy,
) -> bool:
    """Arm the wanted deadline, unless its row already is; whether a red row lost its red."""
    deadline_id, step, deadline = wanted.deadline_id, wanted.step, wanted.deadline
    fired: frozenset[int] = frozenset()
    red = False
    if row is not None and row["status"] == OPEN:
        stored = deadline_from_row(row)
        if stored == deadline and row["step"] == step:
            return False  # unchanged, and already armed
        if (stored.owner_force, stored.due_at) == (deadline.owner_force, deadline.due_at):
            # Only the risk or the co-ordinating force changed: keep what has been sent.
            fired = frozenset(int(level) for level in row["fired_levels"] or ())
            red = bool(row["red"])
    upcoming = next_fire_at(deadline, fired, now, policy.escalation)
    values = {
        "case_ref": case_ref,
        "part_id": deadline.part_id,
        "step": step,
        "owner_force": deadline.owner_force,
        "coordinating_force": deadline.coordinating_force,
        "due_at": deadline.due_at,
        "immediate_risk": deadline.immediate_risk,
        "in_clock_hours": deadline.in_clock_hours,
        "next_fire_at": upcoming.astimezone(UTC) if upcoming else None,
        "fired_levels": sorted(fired),
        "status": OPEN,
        "red": red,
        "closed_at": None,
    }
    if row is None:
        version = 1
        uow.deadlines.add(deadline_id, {**values, "version": version})
    else:
        version = int(row["version"]) + 1
        uow.deadlines.update(deadline_id, int(row["version"]), values)
    if upcoming is not None:
        uow.outbox.add(timer_message(deadline_id, upcoming, version=version), now)
    return row is not None and row["status"] == OPEN and bool(row["red"]) != red


def _close(uow: UnitOfWork, row: Mapping[str, Any], now: datetime) -> None:
    version = int(row["version"]) + 1
    uow.deadlines.update(
        row["deadline_id"],
        int(row["version"]),
        {"status": CLOSED, "closed_at": now, "next_fire_at": None, "red": False},
    )
    uow.outbox.add(cancel_timer_message(row["deadline_id"], version), now)

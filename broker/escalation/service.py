"""Deadlines in the database, timers in JetStream, escalations as signed hub messages.

The `deadlines` table is the source of truth (architecture decision 8). Each open deadline
is armed as a JetStream scheduled message for its `next_fire_at`; when the schedule fires, or
when the reconciliation sweep finds a row whose `next_fire_at` has passed, `fire_due` sends
what the ladder says is due. A timer that fires for a closed, already-fired or re-armed
deadline finds nothing to do, so a lost cancellation or a duplicate fire is harmless.

Exactly once per level, with several hub processes: each deadline is fired in its own
transaction that records the fired levels with an optimistic version check. Whoever loses
the check rolls back everything it prepared (messages, history, disclosure log), because
the winner has already committed the same step.

The co-ordinating force's delay-notified task (001 ¶34(f)) is written to the case history
as a `task-created` entry when the overdue notice fires, carried in that force's copy of the
hub-signed notice (`OverdueNotice.tasks`, exposed as `Delivery.tasks` by ForceClient), and
repeated in a `Crossforce-Task` header for consumers that only read headers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, and_, exists, insert, select, update

from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import stored_utc
from crossforce.broker.domain.calendar import calendar_for_force
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.clocks import step_clocks
from crossforce.broker.domain.parts import PartKind, PartOfJob
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, TimeUnit
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.broker.escalation.ladder import (
    Deadline,
    EscalationStep,
    LadderMessage,
    LadderTask,
    next_fire_at,
    recipients,
)
from crossforce.broker.escalation.sweep import DueEscalation, OpenDeadline, record_fired, sweep
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.unit_of_work import ConcurrentUpdate, SqlUnitOfWork
from crossforce.contracts.compose import compose
from crossforce.contracts.delivery_note import DeliveryFlags, signed_headers
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope
from crossforce.contracts.forces import FORCES
from crossforce.contracts.keys import Signer
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.escalation import (
    DeadlineReminder,
    EscalationRaised,
    NoticeTask,
    OverdueNotice,
)
from crossforce.contracts.signing import sign_envelope

log = logging.getLogger("crossforce.escalation")

DEFAULT_POLICY: Final = SlaPolicy()
OPEN: Final = "open"
# The part id a clock's notices name when the route has no applicant-liaison part.
CASE_CLOCK: Final = "case"
CLOSED: Final = "closed"
# How many due deadlines one sweep pass takes; the loop comes straight back for more.
SWEEP_BATCH: Final = 500

# The SLA step each kind of part is timed against, where one source step governs it. Other
# kinds are timed by whatever due time the co-ordinating force set, and labelled by kind.
_STEP_FOR_KIND: Final[Mapping[PartKind, SlaStep]] = {
    PartKind.ENQUIRY: SlaStep.RESPONDING_FORCE_ANSWER,
    PartKind.DMF_REFERRAL: SlaStep.SCOTLAND_STAGE_4_DMF_REFERRAL,
}

_d = schema.deadlines


# --------------------------------------------------------------------------------- timers


def deadline_id_for(case_ref: str, part_id: str) -> str:
    """A deadline id that is one NATS subject token: no dots, spaces or wildcards."""
    return _token(f"{case_ref}_{part_id}")


def _token(value: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in value)


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
            "Nats-Schedule": f"@at {stamp}",
            "Nats-Schedule-Target": subjects.timer_fire_subject(deadline_id),
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
        headers={"Nats-Rollup": "sub"},
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
    due = stored_utc(row["due_at"])
    assert due is not None
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
        next_fire_at=stored_utc(row["next_fire_at"]) if row["next_fire_at"] else None,
        fired_levels=frozenset(int(level) for level in row["fired_levels"] or ()),
    )


def sync_deadlines(
    uow: SqlUnitOfWork, case: Case, now: datetime, policy: SlaPolicy = DEFAULT_POLICY
) -> None:
    """Bring the case's deadline rows and timers in line with the case, in `uow`'s transaction.

    Every part that needs a timer and has a due time gets an open row, armed for its next
    step. A row whose part no longer needs one (answered, declined, cancelled, case closed) is
    closed: a response cancels the timer. A part whose owner or due time changed starts a
    fresh ladder, because the new owner has not been reminded of anything yet.
    """
    rows = {
        row["deadline_id"]: dict(row)
        for row in uow.db.execute(select(_d).where(_d.c.case_ref == case.case_ref)).mappings()
    }
    wanted: set[str] = set()
    for part in case.parts_needing_timers():
        if part.due_at is None:
            continue
        deadline_id = deadline_id_for(case.case_ref, part.part_id)
        wanted.add(deadline_id)
        step = step_for(part)
        deadline = Deadline(
            part_id=part.part_id,
            owner_force=part.owner,
            coordinating_force=case.coordinating_force,
            due_at=part.due_at.astimezone(UTC),
            immediate_risk=case.priority,
            in_clock_hours=_in_clock_hours(step, policy),
        )
        _upsert(uow, case.case_ref, deadline_id, step, deadline, rows.get(deadline_id), now, policy)
    # The route's statutory step clocks, owned by the co-ordinating force (domain.md §3).
    for clock in step_clocks(case, policy) if case.status is CaseStatus.OPEN else ():
        if not clock.running:
            continue
        deadline_id = clock_deadline_id(case.case_ref, clock.step)
        wanted.add(deadline_id)
        deadline = Deadline(
            part_id=clock.part_id or CASE_CLOCK,
            owner_force=clock.owner,
            coordinating_force=case.coordinating_force,
            due_at=clock.due_at.astimezone(UTC),
            immediate_risk=case.priority,
            in_clock_hours=_in_clock_hours(clock.step.value, policy),
        )
        row = rows.get(deadline_id)
        _upsert(uow, case.case_ref, deadline_id, clock.step.value, deadline, row, now, policy)
    for deadline_id, row in rows.items():
        if deadline_id not in wanted and row["status"] == OPEN:
            _close(uow, row, now)
    _refresh_case_red(uow, case.case_ref)


def _upsert(
    uow: SqlUnitOfWork,
    case_ref: str,
    deadline_id: str,
    step: str,
    deadline: Deadline,
    row: dict[str, Any] | None,
    now: datetime,
    policy: SlaPolicy,
) -> None:
    fired: frozenset[int] = frozenset()
    red = False
    if row is not None and row["status"] == OPEN:
        stored = deadline_from_row(row)
        if stored == deadline and row["step"] == step:
            return  # unchanged, and already armed
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
        "next_fire_at": stored_utc(upcoming) if upcoming else None,
        "fired_levels": sorted(fired),
        "status": OPEN,
        "red": red,
        "closed_at": None,
    }
    if row is None:
        version = 1
        uow.db.execute(insert(_d).values(deadline_id=deadline_id, version=version, **values))
    else:
        version = int(row["version"]) + 1
        _update_versioned(uow, deadline_id, int(row["version"]), values)
    if upcoming is not None:
        uow.publish_later(timer_message(deadline_id, upcoming, version=version), now)


def _close(uow: SqlUnitOfWork, row: Mapping[str, Any], now: datetime) -> None:
    version = int(row["version"]) + 1
    _update_versioned(
        uow,
        row["deadline_id"],
        int(row["version"]),
        {"status": CLOSED, "closed_at": now, "next_fire_at": None, "red": False},
    )
    uow.publish_later(cancel_timer_message(row["deadline_id"], version), now)


def _update_versioned(
    uow: SqlUnitOfWork, deadline_id: str, expected: int, values: Mapping[str, Any]
) -> None:
    result = uow.db.execute(
        update(_d)
        .where(_d.c.deadline_id == deadline_id, _d.c.version == expected)
        .values(version=expected + 1, **values)
    )
    if result.rowcount != 1:
        # Another hub fired or changed this deadline since we read it.
        raise ConcurrentUpdate(deadline_id)


def _refresh_case_red(uow: SqlUnitOfWork, case_ref: str) -> None:
    """A case is red while any of its open deadlines is red; answering them clears it."""
    any_red = exists().where(_d.c.case_ref == case_ref, _d.c.status == OPEN, _d.c.red.is_(True))
    uow.db.execute(
        update(schema.cases)
        .where(schema.cases.c.case_ref == case_ref)
        .values(red=select(any_red).scalar_subquery())
    )


# --------------------------------------------------------------------------------- firing


class _LostRace(Exception):
    """Another hub fired this deadline first; roll back what this one prepared."""


@dataclass(frozen=True, slots=True)
class _Sent:
    force: str
    roles: tuple[str, ...]
    envelope: Envelope


class EscalationService:
    """Fires due escalation steps. Thread-safe: every call opens its own transactions."""

    def __init__(
        self,
        engine: Engine,
        hub_key: Signer,
        clock: Callable[[], datetime],
        policy: SlaPolicy = DEFAULT_POLICY,
    ) -> None:
        self.engine = engine
        self.hub_key = hub_key
        self.clock = clock
        self.policy = policy

    def fire_due(
        self, now: datetime | None = None, deadline_id: str | None = None
    ) -> list[OutboundMessage]:
        """Fire what is due at `now`: for one deadline (its timer fired), or for every open
        deadline whose `next_fire_at` has passed (the sweep). One transaction per deadline.
        Returns the committed outbound messages for the caller to publish."""
        at = stored_utc(now or self.clock())
        assert at is not None
        ids = [deadline_id] if deadline_id is not None else self.due_ids(at)
        outbound: list[OutboundMessage] = []
        for one in ids:
            outbound += self._fire_one(one, at)
        return outbound

    def due_ids(self, now: datetime, limit: int = SWEEP_BATCH) -> list[str]:
        query = (
            select(_d.c.deadline_id)
            .where(_d.c.status == OPEN, _d.c.next_fire_at <= now)
            .order_by(_d.c.next_fire_at)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(query)]

    def _fire_one(self, deadline_id: str, now: datetime) -> list[OutboundMessage]:
        try:
            with SqlUnitOfWork(self.engine) as uow:
                query = select(_d).where(_d.c.deadline_id == deadline_id)
                loaded = uow.db.execute(query).mappings().first()
                if loaded is None or loaded["status"] != OPEN:
                    return []
                found = dict(loaded)
                stored = open_deadline_from_row(found)
                due = list(sweep([stored], now, self.policy.escalation))
                after = record_fired(stored, (d.step for d in due), now, self.policy.escalation)
                if not due and after.next_fire_at == stored.next_fire_at:
                    return []  # fired early, or a stale timer: the stored time still stands
                version = int(found["version"])
                marks_red = any(d.step.marks_red for d in due)
                result = uow.db.execute(
                    update(_d)
                    .where(
                        and_(
                            _d.c.deadline_id == deadline_id,
                            _d.c.version == version,
                            _d.c.status == OPEN,
                        )
                    )
                    .values(
                        fired_levels=sorted(after.fired_levels),
                        next_fire_at=after.next_fire_at,
                        red=bool(found["red"]) or marks_red,
                        version=version + 1,
                    )
                )
                if result.rowcount != 1:
                    raise _LostRace(deadline_id)
                for escalation in due:
                    self._send(uow, found, escalation, now)
                if marks_red:
                    _refresh_case_red(uow, found["case_ref"])
                if after.next_fire_at is not None:
                    uow.publish_later(
                        timer_message(deadline_id, after.next_fire_at, version=version + 1), now
                    )
                return list(uow.outbound)
        except _LostRace:
            log.info("deadline %s was fired by another hub", deadline_id)
            return []

    # -- one step --------------------------------------------------------------------------
    def _send(
        self, uow: SqlUnitOfWork, row: Mapping[str, Any], due: DueEscalation, now: datetime
    ) -> None:
        deadline, step = due.deadline, due.step
        case_ref: str = row["case_ref"]
        deadline_id: str = row["deadline_id"]
        late = calendar_for_force(deadline.owner_force).working_days_between(deadline.due_at, now)
        message = self._message(row["step"], deadline, step, late)
        # 001 ¶34(f): A or C is told of the slip; a case with no applicant to tell (Right to
        # Know, Power to Tell, an anonymous applicant) raises no such task.
        tell = LadderTask.DELAY_NOTIFIED in step.tasks and _has_applicant(uow, case_ref)
        sent: list[_Sent] = []
        for force, roles in _by_force(recipients(deadline, step)).items():
            task = tell and force == deadline.coordinating_force
            envelope = sign_envelope(
                compose(
                    _with_task(message) if task else message,
                    sender=HUB_FORCE_CODE,
                    case_ref=case_ref,
                    recipients=[force],
                    jurisdiction=FORCES[force].jurisdiction,
                    correlation_id=deadline_id,
                    time=now,
                ),
                self.hub_key,
            )
            sent.append(_Sent(force, roles, envelope))
            log.warning(
                "escalation %s (level %d) on %s: %s sent to %s, %d working days late",
                envelope.id,
                step.level,
                case_ref,
                step.message.value,
                force,
                late,
            )
            # The row version makes each firing its own message: a ladder that starts again
            # (an extension, a new owner) climbs the same levels, and the outbox and
            # JetStream would otherwise take its notices for repeats of the first ones.
            prefix = f"esc/{deadline_id}/v{row['version']}/{step.level}/{force}"
            headers = {
                "Crossforce-Type": envelope.type,
                "Crossforce-Case": case_ref,
                "Crossforce-Audience": ",".join(roles),
            }
            flags = DeliveryFlags(
                envelope.id,
                force,
                priority=deadline.immediate_risk,
                tasks=(LadderTask.DELAY_NOTIFIED.value,) if task else (),
            )
            headers.update(signed_headers(flags, self.hub_key))
            uow.publish_later(
                OutboundMessage(
                    prefix,
                    subjects.delivery_subject_for(force, priority=deadline.immediate_risk),
                    envelope.to_bytes(),
                    headers,
                ),
                now,
            )
            uow.publish_later(
                OutboundMessage(
                    f"{prefix}/log",
                    subjects.caselog_subject(case_ref),
                    envelope.to_bytes(),
                    {"Crossforce-Type": envelope.type},
                ),
                now,
            )
            # What was sent to whom, so the recipient can acknowledge this very notice.
            uow.db.execute(
                insert(schema.escalation_notices).values(
                    envelope_id=envelope.id,
                    case_ref=case_ref,
                    deadline_id=deadline_id,
                    part_id=deadline.part_id,
                    step=row["step"],
                    level=step.level,
                    message_type=step.message.value,
                    owner_force=deadline.owner_force,
                    sent_to=force,
                    sent_at=now,
                )
            )
            uow.log_disclosure(
                envelope_id=envelope.id,
                case_ref=case_ref,
                message_type=envelope.type,
                disclosed_by=HUB_FORCE_CODE,
                disclosed_to=force,
                disclosed_at=now,
                purpose=envelope.purpose,
                lawful_basis=envelope.lawfulbasis,
                marking=envelope.securitymarking.value,
            )
        uow.add_history(
            case_ref, now, HUB_FORCE_CODE, step.message.value, _summary(row, step, late, sent)
        )
        if tell:
            uow.add_history(
                case_ref,
                now,
                HUB_FORCE_CODE,
                "task-created",
                f"{LadderTask.DELAY_NOTIFIED}: {deadline.coordinating_force} to tell the "
                f"applicant that {deadline.part_id} ({row['step']}, owned by "
                f"{deadline.owner_force}) is delayed [001 ¶34(f)]",
            )
        if step.marks_red:
            uow.add_history(
                case_ref,
                now,
                HUB_FORCE_CODE,
                "marked-red",
                f"{deadline.part_id} owned by {deadline.owner_force} marked red at level "
                f"{step.level}",
            )

    def _message(
        self, step_name: str, deadline: Deadline, step: EscalationStep, late: int
    ) -> Message:
        common: dict[str, Any] = {
            "part_id": deadline.part_id,
            "deadline": step_name,
            "owner_force": deadline.owner_force,
            "due_at": deadline.due_at,
            "level": step.level,
        }
        if step.message is LadderMessage.DEADLINE_REMINDER:
            return DeadlineReminder(**common, working_days_late=min(late, 0))
        if step.message is LadderMessage.OVERDUE_NOTICE:
            return OverdueNotice(**common, working_days_late=max(late, 0))
        return EscalationRaised(
            **common,
            working_days_late=max(late, 0),
            escalated_to=deadline.coordinating_force,
            reason=f"{step_name} for {deadline.part_id} owned by {deadline.owner_force} is "
            f"{_days(max(late, 0))} late",
            high_risk=deadline.immediate_risk,
        )


def _with_task(message: Message) -> Message:
    """The notice with the delay-notified task in its signed content."""
    if isinstance(message, OverdueNotice):
        return message.model_copy(update={"tasks": [NoticeTask.DELAY_NOTIFIED]})
    return message


def _has_applicant(uow: SqlUnitOfWork, case_ref: str) -> bool:
    """Whether the case has an applicant who can be told of a delay."""
    row = uow.load_case_row(case_ref)
    state = (row or {}).get("state") or {}
    if "case" not in state:
        return True  # nothing known against it: the task is raised, as the ladder says
    applicant = Case.from_dict(state["case"]).applicant()
    return applicant is not None and not applicant.anonymous


def _by_force(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for force, role in pairs:
        grouped.setdefault(force, []).append(role)
    return {force: tuple(roles) for force, roles in grouped.items()}


def _days(count: int) -> str:
    return f"{count} working day{'' if abs(count) == 1 else 's'}"


def _summary(row: Mapping[str, Any], step: EscalationStep, late: int, sent: list[_Sent]) -> str:
    to = ", ".join(f"{s.force} ({'/'.join(s.roles)})" for s in sent)
    timing = f"{_days(late)} late" if late >= 0 else f"due in {_days(-late)}"
    return (
        f"Level {step.level} {step.message} for {row['part_id']} ({row['step']}, owned by "
        f"{row['owner_force']}, due {stored_utc(row['due_at']):%Y-%m-%d %H:%M}Z, {timing}) "
        f"sent to {to}"
    )


__all__ = [
    "DEFAULT_POLICY",
    "EscalationService",
    "cancel_timer_message",
    "deadline_id_for",
    "deadline_id_from_subject",
    "schedule_instant",
    "sync_deadlines",
    "timer_message",
]

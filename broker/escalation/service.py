"""Escalations as signed hub messages: fire what the ladder says is due.

When a deadline's JetStream schedule fires, or the reconciliation sweep finds a row whose
`next_fire_at` has passed, `fire_due` sends what the ladder says is due
(`crossforce.broker.service.deadlines` keeps the rows and timers in line with the case).

Exactly once per level, with several hub processes: each deadline is fired in its own
transaction that records the fired levels with an optimistic version check. Whoever loses
the check rolls back everything it prepared (messages, history, disclosure log), because
the winner has already committed the same step.

The co-ordinating force's delay-notified task (001 ¶34(f)) is written to the case history
as a `task-created` entry when the overdue notice fires, carried in that force's copy of the
hub-signed notice (`OverdueNotice.tasks`, exposed as `Delivery.tasks` by ForceClient), and
repeated in the hub-signed delivery note for consumers that only read headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from crossforce.broker.domain.calendar import calendar_for_force
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.ladder import (
    Deadline,
    EscalationStep,
    LadderMessage,
    LadderTask,
    recipients,
)
from crossforce.broker.domain.sla import SlaPolicy
from crossforce.broker.domain.sweep import DueEscalation, record_fired, sweep
from crossforce.broker.service.deadlines import (
    DEFAULT_POLICY,
    OPEN,
    open_deadline_from_row,
    timer_message,
)
from crossforce.broker.service.outbound import Outbound
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.ports import (
    ConcurrentUpdate,
    EscalationNotice,
    UnitOfWork,
    UnitOfWorkFactory,
)
from crossforce.contracts.compose import compose
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

log = logging.getLogger("crossforce.escalation")

# How many due deadlines one sweep pass takes; the loop comes straight back for more.
SWEEP_BATCH: Final = 500


# --------------------------------------------------------------------------------- firing


@dataclass(frozen=True, slots=True)
class _Sent:
    force: str
    roles: tuple[str, ...]
    envelope: Envelope


class EscalationService:
    """Fires due escalation steps. Thread-safe: every call opens its own transactions."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        hub_key: Signer,
        clock: Callable[[], datetime],
        policy: SlaPolicy = DEFAULT_POLICY,
    ) -> None:
        self.units = units
        self.hub_key = hub_key
        self.outbound = Outbound(hub_key)
        self.clock = clock
        self.policy = policy

    def fire_due(
        self, now: datetime | None = None, deadline_id: str | None = None
    ) -> list[OutboundMessage]:
        """Fire what is due at `now`: for one deadline (its timer fired), or for every open
        deadline whose `next_fire_at` has passed (the sweep). One transaction per deadline.
        Returns the committed outbound messages for the caller to publish."""
        at = (now or self.clock()).astimezone(UTC)
        ids = [deadline_id] if deadline_id is not None else self.due_ids(at)
        outbound: list[OutboundMessage] = []
        for one in ids:
            outbound += self._fire_one(one, at)
        return outbound

    def due_ids(self, now: datetime, limit: int = SWEEP_BATCH) -> list[str]:
        with self.units() as uow:
            return uow.deadlines.due_ids(now, limit)

    def _fire_one(self, deadline_id: str, now: datetime) -> list[OutboundMessage]:
        try:
            with self.units() as uow:
                found = uow.deadlines.get(deadline_id)
                if found is None or found["status"] != OPEN:
                    return []
                stored = open_deadline_from_row(found)
                due = list(sweep([stored], now, self.policy.escalation))
                after = record_fired(stored, (d.step for d in due), now, self.policy.escalation)
                if not due and after.next_fire_at == stored.next_fire_at:
                    return []  # fired early, or a stale timer: the stored time still stands
                version = int(found["version"])
                marks_red = any(d.step.marks_red for d in due)
                uow.deadlines.update(
                    deadline_id,
                    version,
                    {
                        "fired_levels": sorted(after.fired_levels),
                        "next_fire_at": after.next_fire_at,
                        "red": bool(found["red"]) or marks_red,
                    },
                )
                for escalation in due:
                    self._send(uow, found, escalation, now)
                if marks_red:
                    uow.cases.refresh_red(found["case_ref"])
                if after.next_fire_at is not None:
                    uow.outbox.add(
                        timer_message(deadline_id, after.next_fire_at, version=version + 1), now
                    )
                return list(uow.outbound)
        except ConcurrentUpdate:  # another hub fired it first: its version moved on; roll back
            log.info("deadline %s was fired by another hub", deadline_id)
            return []

    # -- one step --------------------------------------------------------------------------
    def _send(
        self, uow: UnitOfWork, row: Mapping[str, Any], due: DueEscalation, now: datetime
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
            envelope = self.outbound.sign(
                compose(
                    _with_task(message) if task else message,
                    sender=HUB_FORCE_CODE,
                    case_ref=case_ref,
                    recipients=[force],
                    jurisdiction=FORCES[force].jurisdiction,
                    correlation_id=deadline_id,
                    time=now,
                )
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
            self.outbound.deliver(
                uow,
                envelope,
                force,
                prefix,
                now,
                priority=deadline.immediate_risk,
                tasks=(LadderTask.DELAY_NOTIFIED.value,) if task else (),
                audience=roles,
            )
            self.outbound.case_log(uow, envelope, f"{prefix}/log", now)
            # What was sent to whom, so the recipient can acknowledge this very notice.
            uow.notices.add(
                EscalationNotice(
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
        uow.history.add(
            case_ref, now, HUB_FORCE_CODE, step.message.value, _summary(row, step, late, sent)
        )
        if tell:
            uow.history.add(
                case_ref,
                now,
                HUB_FORCE_CODE,
                "task-created",
                f"{LadderTask.DELAY_NOTIFIED}: {deadline.coordinating_force} to tell the "
                f"applicant that {deadline.part_id} ({row['step']}, owned by "
                f"{deadline.owner_force}) is delayed [001 ¶34(f)]",
            )
        if step.marks_red:
            uow.history.add(
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


def _has_applicant(uow: UnitOfWork, case_ref: str) -> bool:
    """Whether the case has an applicant who can be told of a delay."""
    row = uow.cases.get(case_ref)
    state = row.state if row is not None else {}
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
        f"{row['owner_force']}, due {row['due_at']:%Y-%m-%d %H:%M}Z, {timing}) "
        f"sent to {to}"
    )


__all__ = ["SWEEP_BATCH", "EscalationService"]

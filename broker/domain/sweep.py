"""The pure core of the reconciliation sweep.

Deadlines are armed as JetStream scheduled messages; the sweep is the backstop for a schedule
that was lost or fired while the hub was down (architecture decision 8). The hub stores each
open deadline with the instant its next step is due (`next_fire_at`, indexed), selects the rows
with `next_fire_at <= now`, and passes them here. The sweep itself does no I/O and reads the
clock only through `now`.

It stays fast over a million open parts because a deadline whose stored `next_fire_at` is
still ahead is skipped with one comparison; the ladder is only computed for the few that are due.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from crossforce.broker.domain.ladder import (
    DEFAULT_ESCALATION,
    Deadline,
    EscalationPolicy,
    EscalationStep,
    next_fire_at,
    recipients,
    steps_due,
)


@dataclass(frozen=True, slots=True)
class OpenDeadline:
    """An open deadline as the hub stores it."""

    deadline: Deadline
    # When the next step is due (UTC, the indexed column); None once the ladder is exhausted:
    # nothing more fires, and the part stays red until it is answered and closed.
    next_fire_at: datetime | None
    fired_levels: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class DueEscalation:
    """One step to act on now: send `step.message` to `recipients`, create `step.tasks`."""

    deadline: Deadline
    step: EscalationStep
    recipients: tuple[tuple[str, str], ...]


def arm(
    deadline: Deadline, now: datetime, policy: EscalationPolicy = DEFAULT_ESCALATION
) -> OpenDeadline:
    """A newly opened deadline with its first fire time, ready to store."""
    return OpenDeadline(deadline, _utc(next_fire_at(deadline, (), now, policy)))


def record_fired(
    open_deadline: OpenDeadline,
    steps: Iterable[EscalationStep],
    now: datetime,
    policy: EscalationPolicy = DEFAULT_ESCALATION,
) -> OpenDeadline:
    """The stored row after `steps` were acted on at `now`: fired levels and the next fire time."""
    fired = open_deadline.fired_levels | {step.level for step in steps}
    upcoming = next_fire_at(open_deadline.deadline, fired, now, policy)
    return replace(open_deadline, fired_levels=fired, next_fire_at=_utc(upcoming))


def sweep(
    open_deadlines: Iterable[OpenDeadline],
    now: datetime,
    policy: EscalationPolicy = DEFAULT_ESCALATION,
) -> Iterator[DueEscalation]:
    """Yield every escalation step due at `now` over `open_deadlines`, in ladder order per
    deadline. `now` should be in UTC, as `next_fire_at` is stored: comparing datetimes that
    share a tzinfo skips the offset lookup, which is most of the cost at a million rows."""
    for open_deadline in open_deadlines:
        stored = open_deadline.next_fire_at
        if stored is None or stored > now:
            continue
        deadline = open_deadline.deadline
        for step in steps_due(deadline, open_deadline.fired_levels, now, policy):
            yield DueEscalation(deadline, step, recipients(deadline, step))


def _utc(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(UTC)

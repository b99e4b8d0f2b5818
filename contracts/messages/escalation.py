"""Deadline notices, and the agreed extension of a deadline. The sources define no inter-force
escalation ladder (domain.md §8), so the ladder is configurable and the notices carry only its
level number."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field

from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import ForceCode, Identifier, OneLine
from crossforce.contracts.registry import REGISTRY

Level = Annotated[int, Field(ge=0, le=9)]


class _DeadlineNotice(Message):
    # Not registered: the shared shape of the three notices below.
    part_id: Identifier
    # The SLA step the deadline belongs to (e.g. "initial-checks", "responding-force-answer").
    deadline: OneLine
    owner_force: ForceCode
    due_at: AwareDatetime
    level: Level = 0


@REGISTRY.register
class DeadlineReminder(_DeadlineNotice):
    """A deadline is near (domain.md §3, §8; 000 §3.10.7)."""

    NAME = "deadline-reminder"
    VERSION = 1

    # Negative while the deadline is still ahead (-2: due in two working days).
    working_days_late: int = Field(le=0)


class NoticeTask(StrEnum):
    # The co-ordinating force tells A or C that a timescale has slipped (001 ¶34(f)).
    DELAY_NOTIFIED = "delay-notified"


@REGISTRY.register
class OverdueNotice(_DeadlineNotice):
    """A deadline has passed; the owner is told (domain.md §3, §8; 001 ¶34(f); 000 §3.10.7)."""

    NAME = "overdue-notice"
    VERSION = 1

    working_days_late: int = Field(ge=0)
    # What the recipient must now do, signed by the hub with the notice: the co-ordinating
    # force's copy carries delay-notified when there is an applicant to tell.
    tasks: list[NoticeTask] = Field(default_factory=list, max_length=4)


@REGISTRY.register
class EscalationRaised(_DeadlineNotice):
    """An overdue part moves up the configured ladder (domain.md §8; 000 §3.10.7;
    002 L144–146, L457–62)."""

    NAME = "escalation-raised"
    VERSION = 1

    working_days_late: int = Field(ge=0)
    # Who the escalation goes to: a force (e.g. the co-ordinating force) or HUB.
    escalated_to: ForceCode
    reason: OneLine
    # High-risk work is prioritised and never downgraded for capacity (002 L144–146).
    high_risk: bool = False


@REGISTRY.register
class DeadlineExtended(Message):
    """The co-ordinating force, which keeps the level of service (000 §3.10.7), agrees a later
    due date for one part: the due date moves, the part's red mark clears and the escalation
    ladder starts again for the new date (domain.md §3, §8). England & Wales timescales are a
    guide and police use discretion (001 fn4); the applicant is told of the slip (001 ¶34(f))."""

    NAME = "deadline-extended"
    VERSION = 1

    # The hub's part id (as named by its deadline notices) or the enquiry id of a one-party
    # enquiry.
    part_id: Identifier
    new_due_at: AwareDatetime
    reason: OneLine
    # The part's owner, who agreed the new date.
    agreed_with: ForceCode

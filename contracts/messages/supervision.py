"""What a force's supervisors do about a part of a case: acknowledge an escalation the hub
sent them, chase the force that owns a part, or give a part to another officer or team within
the owning force.

None of them moves a due date, an owner or a part's status: the escalation ladder keeps
running until the owner answers or the co-ordinating force agrees a later date
(`deadline-extended`), and a part moves to another force only by `enquiry-reassigned`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import Identifier, OneLine
from crossforce.contracts.messages.escalation import Level
from crossforce.contracts.registry import REGISTRY

# A short line for the owner of a part. Carry no personal data: name the part, not the people
# (domain.md §6: adequate, relevant and not excessive).
ShortNote = Annotated[
    str,
    StringConstraints(min_length=1, max_length=140, pattern=r"^[^\r\n]*$", strip_whitespace=True),
]


@REGISTRY.register
class EscalationAcknowledged(Message):
    """A force acknowledges an overdue notice or escalation the hub sent it about a part
    (domain.md §8; 000 §3.10.7). Only the force the notice was sent to may acknowledge it, once.
    It records who saw it and when, for the case history and the other force; it does not
    pause the ladder, clear the red mark or move the due date, so a response that is late stays
    late and visible (002 L144–146, L457–62: risk is never downgraded for lack of capacity)."""

    NAME = "escalation-acknowledged"
    VERSION = 1

    # The envelope id of the hub's notice (`overdue-notice` or `escalation-raised`) as it was
    # delivered to this force.
    escalation_id: Identifier
    # What the notice names: the part (a hub part id, or `case` for a case's own step clock),
    # the SLA step the deadline belongs to, and the ladder level.
    part_id: Identifier
    deadline: OneLine
    level: Level


@REGISTRY.register
class PartChased(Message):
    """The co-ordinating force, which co-ordinates the responding forces and keeps the
    applicant's level of service (domain.md §1.2, §8; 000 §3.10.7), chases the force that owns
    a part of the case. The part's history records it and the owner is told; nothing else
    changes: not the due date, not the owner, not the ladder."""

    NAME = "part-chased"
    VERSION = 1

    # The hub's part id, or the enquiry id of a one-party enquiry.
    part_id: Identifier
    note: ShortNote | None = None


class AssigneeKind(StrEnum):
    OFFICER = "officer"
    TEAM = "team"


@REGISTRY.register
class PartReassigned(Message):
    """The force that owns a part gives it to another officer or team of its own. Each part
    has exactly one owner force (domain.md §1.2), and this does not change it: the part stays
    with the force, its due date and ladder as they were. Moving a part to another force is
    `enquiry-reassigned`, after a home-force correction (000 §3.10.4)."""

    NAME = "part-reassigned"
    VERSION = 1

    # The hub's part id, or the enquiry id of a one-party enquiry.
    part_id: Identifier
    # The force's own reference for the officer or team (a staff number, a team code): an
    # opaque id in its own systems, not a name.
    assigned_to: Identifier
    assignee_kind: AssigneeKind

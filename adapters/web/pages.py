"""What each page shows, built from the broker's own read queries (no I/O of its own).

Every list and page applies the broker's need-to-know: `list_cases` and `case_view` decide
which cases and parts a force may see, and the timeline is what the hub delivered to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine

from crossforce.broker.domain.calendar import calendar_for_force
from crossforce.broker.domain.parts import OPEN_STATUSES, PartOfJob
from crossforce.broker.domain.records import EscalationAcknowledgement
from crossforce.broker.domain.views import CaseView
from crossforce.broker.escalation.overdue import OverduePart, overdue_parts
from crossforce.broker.service.queries import (
    CaseSummary,
    EscalationNotice,
    TimelineLine,
    list_cases,
)

DUE_SOON_WORKING_DAYS = 2
# Far enough ahead to list every open part a force owes, whenever it is due.
EVERYTHING_AHEAD = 10_000


class CaseFilter(StrEnum):
    ALL = "all"
    COORDINATING = "coordinating"
    RESPONDING = "responding"
    LATE = "late"
    RED = "red"


FILTER_LABELS = {
    CaseFilter.ALL: "All",
    CaseFilter.COORDINATING: "Co-ordinating",
    CaseFilter.RESPONDING: "Responding",
    CaseFilter.LATE: "Late",
    CaseFilter.RED: "Red",
}

# How each message type reads in a timeline, and which of the kinds of entry it is.
TIMELINE_KINDS = {
    "receipt": "Receipt",
    "co-ordination-transfer-requested": "Ownership change",
    "co-ordination-transfer-accepted": "Ownership change",
    "co-ordination-transfer-declined": "Ownership change",
    "enquiry-reassigned": "Ownership change",
    "party-home-force-corrected": "Ownership change",
    "deadline-reminder": "Escalation",
    "overdue-notice": "Escalation",
    "escalation-raised": "Escalation",
    "escalation-acknowledged": "Escalation",
    "part-chased": "Action",
    "part-reassigned": "Action",
    "delay-notified": "Action",
    "intelligence-submission": "Ledger entry",
}
NOTICE_LABELS = {"overdue-notice": "Overdue notice", "escalation-raised": "Escalation"}


def timeline_kind(message_type: str) -> str:
    return TIMELINE_KINDS.get(message_type, "Message")


def role_label(summary: CaseSummary, force: str) -> str:
    if summary.former:
        return "Former (handed over)"
    if summary.coordinating_force == force:
        return "Co-ordinating"
    if summary.roles - {"receiving"}:
        return "Responding"
    return "Receiving"


@dataclass(frozen=True, slots=True)
class CaseRow:
    summary: CaseSummary
    role: str
    late: int  # parts late now that this force may see
    red: bool


def visible_overdue(
    engine: Engine, force: str, now: datetime, coordinated: set[str], within: int
) -> list[OverduePart]:
    """Late and soon-due parts this force may see: its own, and every part of a case it
    co-ordinates (it oversees the whole case, 000 §3.10.7)."""
    return [
        p
        for p in overdue_parts(engine, now, within_days=within)
        if p.owner_force == force or p.case_ref in coordinated
    ]


def case_rows(
    engine: Engine, force: str, now: datetime, show: CaseFilter
) -> tuple[list[CaseRow], list[OverduePart]]:
    summaries = list_cases(engine, force)
    coordinated = {s.case_ref for s in summaries if s.coordinating_force == force and not s.former}
    everything = overdue_parts(engine, now, within_days=DUE_SOON_WORKING_DAYS)
    overdue = [p for p in everything if p.owner_force == force or p.case_ref in coordinated]
    # A case is red as at `now` when any of its parts is (the whole case's flag, as the hub
    # keeps it, but counted at the chosen time).
    red_cases = {p.case_ref for p in everything if p.red}
    rows = []
    for summary in summaries:
        late = (
            0
            if summary.former
            else sum(1 for p in overdue if p.case_ref == summary.case_ref and p.late)
        )
        red = summary.case_ref in red_cases and not summary.former
        role = role_label(summary, force)
        keep = {
            CaseFilter.ALL: True,
            CaseFilter.COORDINATING: role == "Co-ordinating",
            CaseFilter.RESPONDING: role == "Responding",
            CaseFilter.LATE: late > 0,
            CaseFilter.RED: red,
        }[show]
        if keep:
            rows.append(CaseRow(summary, role, late, red))
    return rows, overdue


@dataclass(frozen=True, slots=True)
class OwedRow:
    part: OverduePart
    to_force: str  # the co-ordinating force the answer is owed to


def owed_by(engine: Engine, force: str, now: datetime) -> list[OwedRow]:
    """Open parts this force owns in cases another force co-ordinates."""
    coordinators = {
        s.case_ref: s.coordinating_force for s in list_cases(engine, force) if not s.former
    }
    return [
        OwedRow(p, coordinators[p.case_ref])
        for p in overdue_parts(engine, now, force=force, within_days=EVERYTHING_AHEAD)
        if p.case_ref in coordinators and coordinators[p.case_ref] != force
    ]


@dataclass(frozen=True, slots=True)
class PartRow:
    part: PartOfJob
    working_days_late: int | None  # in the owner's working days; None: no open deadline
    late: bool
    red: bool
    level: str


def part_rows(view: CaseView, overdue: list[OverduePart], now: datetime) -> list[PartRow]:
    deadlines = {(p.case_ref, p.part_id): p for p in overdue}
    rows = []
    for part in view.parts:
        days = None
        if part.due_at is not None and part.status in OPEN_STATUSES and not view.former:
            # Signed, as `crossforce overdue` counts: positive late by, negative left.
            days = calendar_for_force(part.owner).working_days_between(part.due_at, now)
        found = deadlines.get((view.case_ref, part.part_id))
        rows.append(
            PartRow(
                part,
                days,
                days is not None and part.due_at is not None and now > part.due_at,
                bool(found and found.red),
                f"{found.level_fired} {found.level_name}" if found and found.level_fired else "",
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class EscalationRow:
    """A notice of the ladder the force received, and its acknowledgement if it has one."""

    notice: EscalationNotice
    acknowledged: EscalationAcknowledgement | None

    @property
    def label(self) -> str:
        return NOTICE_LABELS.get(self.notice.message_type, self.notice.message_type)


def escalation_rows(view: CaseView, notices: list[EscalationNotice]) -> list[EscalationRow]:
    if view.former:
        return []
    acknowledged = {a.escalation_id: a for a in view.escalation_acknowledgements}
    return [EscalationRow(n, acknowledged.get(n.envelope_id)) for n in notices]


def acknowledged_elsewhere(view: CaseView) -> list[EscalationAcknowledgement]:
    """Acknowledgements by other forces of notices about parts this force may see."""
    return [a for a in view.escalation_acknowledgements if a.acknowledged_by != view.viewer]


@dataclass(frozen=True, slots=True)
class Task:
    text: str
    part_id: str | None = None


def tasks_for(
    view: CaseView,
    parts: list[PartRow],
    timeline: list[TimelineLine],
    escalations: Sequence[EscalationRow] = (),
) -> list[Task]:
    """What the viewing force should do next, from what it can see."""
    if view.former:
        return []
    tasks = []
    coordinating = view.viewer == view.coordinating_force
    told = {line.at for line in timeline if line.sent and line.message_type == "delay-notified"}
    for row in parts:
        if not row.late:
            continue
        part = row.part
        if coordinating and not any(part.due_at and at >= part.due_at for at in told):
            tasks.append(
                Task(f"Tell the applicant that {part.part_id} is late (001 ¶34(f))", part.part_id)
            )
        if coordinating and part.owner != view.viewer:
            tasks.append(Task(f"Chase {part.owner} for {part.part_id}", part.part_id))
        if part.owner == view.viewer:
            tasks.append(Task(f"Answer {part.part_id}: it is late", part.part_id))
    for escalation in escalations:
        if escalation.acknowledged is None:
            notice = escalation.notice
            tasks.append(
                Task(
                    f"Acknowledge the {escalation.label.lower()} on {notice.part_id} "
                    f"(level {notice.level})",
                    notice.part_id,
                )
            )
    return tasks

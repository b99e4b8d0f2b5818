"""Counts for the Home Office annual data return: cases by route, outcome and month
(001 ¶8; 002 L1169). Counts only: no case reference or party leaves this module."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from crossforce.adapters.sql import queries
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.transitions import CaseStatus

OUTCOMES = ("disclosure", "no disclosure", "closed without a decision", "in progress")


@dataclass(frozen=True, slots=True)
class CountRow:
    month: str  # YYYY-MM, the month the case opened, UK time
    route: str
    outcome: str
    cases: int


def outcome_of(case: Case) -> str:
    if case.decision is not None:
        return "disclosure" if case.decision.disclose else "no disclosure"
    return "closed without a decision" if case.status is CaseStatus.CLOSED else "in progress"


def case_counts(engine: Engine, force: str, start: date, end: date) -> list[CountRow]:
    """Cases `force` co-ordinates that opened from `start` to `end` inclusive (UK dates)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for state in queries.case_states_coordinated_by(engine, force):
        case = Case.from_dict(state["case"])
        opened = case.opened_at.astimezone(LONDON).date()
        if start <= opened <= end:
            counts[(f"{opened:%Y-%m}", case.route.value, outcome_of(case))] += 1
    return [CountRow(m, r, o, n) for (m, r, o), n in sorted(counts.items())]


def counts_csv(rows: list[CountRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["month", "route", "outcome", "cases"])
    for row in rows:
        writer.writerow([row.month, row.route, row.outcome, row.cases])
    return out.getvalue()

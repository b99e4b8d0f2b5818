"""What a responding force's checks amount to: concern, and what may be disclosed.

A concern is any check that traced something of concern, or a DASH / DAQ risk graded high
(001 ¶53, Annex D; 003 §8.18). Only a trace of concern is an item that could be disclosed,
and each says whether it rests on a spent conviction (001 ¶67; 003 §9.4), which the
disclosure rules then weigh (`handlers/decisions.check_items`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crossforce.broker.domain.forums import DisclosableItem

TRACE_CONCERN = "trace-concern"
HIGH_RISK = "high"


@dataclass(frozen=True, slots=True)
class CheckFinding:
    check: str  # e.g. "pnc", "dash"
    result: str  # "no-trace", "trace-no-concern", "trace-concern", "not-done"
    risk_level: str | None = None  # DASH / DAQ only
    reference: str | None = None
    spent_conviction: bool = False


@dataclass(frozen=True, slots=True)
class EnquiryFindings:
    concern: bool
    items: tuple[DisclosableItem, ...]
    summary: str


def assess(findings: Iterable[CheckFinding]) -> EnquiryFindings:
    checks = list(findings)
    concern = any(f.result == TRACE_CONCERN or f.risk_level == HIGH_RISK for f in checks)
    items = tuple(
        DisclosableItem(f.reference or f"{f.check}-{i}", f.check, f.spent_conviction)
        for i, f in enumerate(checks)
        if f.result == TRACE_CONCERN
    )
    summary = f"{len(checks)} checks; concern={'yes' if concern else 'no'}"
    return EnquiryFindings(concern, items, summary)

"""The steps one report of a disclosure meeting stands for, in the order the rules apply them.

A delivery report may say that the disclosure was given, or that the recipient refused the
undertaking and what was then decided [001 ¶86; 003 §8.17, §10.3]: to proceed (then it was
given), to withhold, or in Scotland to refer back to the DMF, which reconsiders. A hand-off
not yet acknowledged is acknowledged by the delivery itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.parts import PartStatus
from crossforce.broker.domain.routes import DeliveryMethod


class _OnPart(TypedDict):
    case_ref: str
    actor: str
    at: datetime
    part_id: str


PROCEED = "proceed"
REFER_TO_DMF = "refer-to-dmf"


def delivery_steps(
    case: Case,
    part_id: str,
    *,
    actor: str,
    at: datetime,
    method: DeliveryMethod,
    undertaking_refused: bool,
    decision: str | None = None,
    rationale: str = "",
) -> list[c.Command]:
    base: _OnPart = {"case_ref": case.case_ref, "actor": actor, "at": at, "part_id": part_id}
    status = case.part(part_id).status
    steps: list[c.Command] = (
        [c.AcknowledgeDisclosureHandoff(**base)] if status is PartStatus.REQUESTED else []
    )
    delivered = c.RecordDisclosureDelivered(**base, method=method)
    if not undertaking_refused:
        return [*steps, delivered]
    refer = decision == REFER_TO_DMF
    # After a referral to the DMF the refusal is recorded already: this report carries the
    # decision that follows it.
    if refer or status is not PartStatus.UNDERTAKING_REFUSED:
        steps.append(c.RecordUndertakingRefused(**base, refer_to_dmf=refer))
    if decision is not None and not refer:
        steps.append(
            c.RecordUndertakingDecision(**base, proceed=decision == PROCEED, rationale=rationale)
        )
        if decision == PROCEED:
            steps.append(delivered)
    return steps

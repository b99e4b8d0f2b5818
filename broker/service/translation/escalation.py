"""Agreed deadline extensions (contracts/messages/escalation.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages import escalation as m


def deadline_extended(msg: m.DeadlineExtended, t: Translation) -> list[c.Command]:
    part_id = t.known_part(msg.part_id)
    if part_id is None:
        raise ContractError(
            ReasonCode.RULE_VIOLATION,
            f"unknown-part: no part or one-party enquiry {msg.part_id} in this case",
        )
    return [
        c.ExtendDeadline(
            **t.base,
            part_id=part_id,
            due_at=msg.new_due_at,
            reason=msg.reason,
            agreed_with=msg.agreed_with,
        )
    ]


TRANSLATORS: dict[type[Any], Translator] = {m.DeadlineExtended: deadline_extended}

"""What supervisors do about a part: `escalation-acknowledged`, `part-chased` and
`part-reassigned` (contracts/messages/supervision.py; docs/decisions/0022).

An acknowledgement names a notice by the envelope id the force received it under; what the
notice was, and whom it went to, is read from the hub's own record of what its ladder sent,
never taken from the sender. The domain then decides whether this force may acknowledge it
(`broker/domain/handlers/supervision.py`).
"""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages import supervision as m


def escalation_acknowledged(msg: m.EscalationAcknowledged, t: Translation) -> list[c.Command]:
    case = t.open_case
    notice = t.notice(msg.escalation_id)
    if notice is None:
        raise ContractError(
            ReasonCode.RULE_VIOLATION,
            f"unknown-escalation: the hub sent no notice {msg.escalation_id} in this case",
        )
    if (msg.part_id, msg.deadline, msg.level) != (notice.part_id, notice.step, notice.level):
        raise ContractError(
            ReasonCode.RULE_VIOLATION,
            f"escalation-mismatch: notice {msg.escalation_id} was level {notice.level} of "
            f"{notice.step} for {notice.part_id}",
        )
    part_id = notice.part_id if any(p.part_id == notice.part_id for p in case.parts) else None
    return [
        c.AcknowledgeEscalation(
            **t.base,
            escalation_id=msg.escalation_id,
            part_id=part_id,
            deadline=notice.step,
            level=notice.level,
            notice=notice.message_type,
            sent_to=notice.sent_to,
            raised_at=notice.sent_at,
            acted_by=t.envelope.actor,
        )
    ]


def part_chased(msg: m.PartChased, t: Translation) -> list[c.Command]:
    return [c.ChasePart(**t.base, part_id=_part(t, msg.part_id), note=msg.note or "")]


def part_reassigned(msg: m.PartReassigned, t: Translation) -> list[c.Command]:
    return [
        c.ReassignWithinForce(
            **t.base,
            part_id=_part(t, msg.part_id),
            assigned_to=msg.assigned_to,
            assignee_kind=msg.assignee_kind.value,
        )
    ]


def _part(t: Translation, name: str) -> str:
    part_id = t.known_part(name)
    if part_id is None:
        raise ContractError(
            ReasonCode.RULE_VIOLATION,
            f"unknown-part: no part or one-party enquiry {name} in this case",
        )
    return part_id


TRANSLATORS: dict[type[Any], Translator] = {
    m.EscalationAcknowledged: escalation_acknowledged,
    m.PartChased: part_chased,
    m.PartReassigned: part_reassigned,
}

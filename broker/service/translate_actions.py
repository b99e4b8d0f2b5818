"""Wire to domain for what supervisors do about a part: `escalation-acknowledged`,
`part-chased` and `part-reassigned` (docs/decisions/0022).

An acknowledgement names a notice by the envelope id the force received it under; what the
notice was, and whom it went to, is read from the hub's own record of what its ladder sent
(`escalation_notices`), never taken from the sender. The domain then decides whether this
force may acknowledge it (`broker/domain/handlers/supervision.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import stored_utc
from crossforce.broker.domain import commands as c
from crossforce.broker.domain.case import Case
from crossforce.broker.service.unit_of_work import SqlUnitOfWork
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.supervision import (
    EscalationAcknowledged,
    PartChased,
    PartReassigned,
)

SUPERVISION = (EscalationAcknowledged, PartChased, PartReassigned)


def action_commands(
    uow: SqlUnitOfWork,
    envelope: Envelope,
    message: Message,
    case: Case | None,
    aliases: Mapping[str, list[str]],
) -> list[c.Command] | None:
    """The domain commands for a supervision message; None for any other message."""
    if not isinstance(message, SUPERVISION):
        return None
    if case is None:
        raise ContractError(ReasonCode.UNKNOWN_CASE, f"no open case {envelope.caseref}")
    if isinstance(message, EscalationAcknowledged):
        return [_acknowledgement(uow, envelope, message, case)]
    part_id = _part(case, aliases, message.part_id)
    case_ref, actor, at = envelope.caseref, envelope.senderforce, envelope.time
    if isinstance(message, PartChased):
        return [
            c.ChasePart(
                case_ref=case_ref, actor=actor, at=at, part_id=part_id, note=message.note or ""
            )
        ]
    return [
        c.ReassignWithinForce(
            case_ref=case_ref,
            actor=actor,
            at=at,
            part_id=part_id,
            assigned_to=message.assigned_to,
            assignee_kind=message.assignee_kind.value,
        )
    ]


def _part(case: Case, aliases: Mapping[str, list[str]], name: str) -> str:
    """A hub part id, or the one part of a one-party enquiry id."""
    if any(part.part_id == name for part in case.parts):
        return name
    parts = aliases.get(name, [])
    if len(parts) == 1:
        return parts[0]
    raise ContractError(
        ReasonCode.RULE_VIOLATION,
        f"unknown-part: no part or one-party enquiry {name} in this case",
    )


def _acknowledgement(
    uow: SqlUnitOfWork, envelope: Envelope, message: EscalationAcknowledged, case: Case
) -> c.AcknowledgeEscalation:
    notices = schema.escalation_notices
    row = (
        uow.db.execute(
            select(notices).where(
                notices.c.envelope_id == message.escalation_id,
                notices.c.case_ref == envelope.caseref,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ContractError(
            ReasonCode.RULE_VIOLATION,
            f"unknown-escalation: the hub sent no notice {message.escalation_id} in this case",
        )
    named = (message.part_id, message.deadline, message.level)
    if named != (row["part_id"], row["step"], row["level"]):
        raise ContractError(
            ReasonCode.RULE_VIOLATION,
            f"escalation-mismatch: notice {message.escalation_id} was level {row['level']} of "
            f"{row['step']} for {row['part_id']}",
        )
    raised_at = stored_utc(row["sent_at"])
    part_id = row["part_id"] if any(p.part_id == row["part_id"] for p in case.parts) else None
    return c.AcknowledgeEscalation(
        case_ref=envelope.caseref,
        actor=envelope.senderforce,
        at=envelope.time,
        escalation_id=message.escalation_id,
        part_id=part_id,
        deadline=row["step"],
        level=int(row["level"]),
        notice=row["message_type"],
        sent_to=row["sent_to"],
        raised_at=raised_at,
        acted_by=envelope.actor,
    )

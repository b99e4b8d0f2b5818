"""Small shared checks: force directory look-ups, aware times, required text."""

from __future__ import annotations

from datetime import datetime

from crossforce.broker.domain.errors import DomainRefusal, rule_violation
from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import Force, ParticipantKind, get_force


def force_of(code: str) -> Force:
    try:
        return get_force(code)
    except ContractError:
        raise DomainRefusal(
            ReasonCode.UNKNOWN_FORCE,
            f"{code!r} is not in the force directory",
            rule="unknown-force",
        ) from None


def police_force(code: str) -> Force:
    """A force that can own enquiries and co-ordinate: not a DMF."""
    force = force_of(code)
    if force.kind is ParticipantKind.DMF:
        raise rule_violation(f"{code} is a decision-making forum, not a force", "not-a-force")
    if force.kind is ParticipantKind.PSD:
        raise rule_violation(f"{code} is a professional standards department", "not-a-force")
    return force


def is_scottish(code: str) -> bool:
    return force_of(code).jurisdiction is Jurisdiction.SCOTLAND


def require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise rule_violation("times must be timezone-aware", "naive-datetime")


def require_text(value: str, rule: str, what: str) -> None:
    if not value.strip():
        raise rule_violation(f"{what} is required", rule)

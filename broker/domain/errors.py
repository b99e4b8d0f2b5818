"""Refusals raised by the case domain model.

A refusal carries one of the stable contract reason codes, plus a finer `rule` string that
names the business rule broken (for example "identity-not-verified"). Force systems match on
`code`; `rule` is for people and dashboards, and is stable too.
"""

from __future__ import annotations

from crossforce.contracts.errors import ContractError, ReasonCode


class DomainRefusal(ContractError):
    """A command the case model will not apply. The case is left exactly as it was."""

    def __init__(self, code: ReasonCode, message: str, *, rule: str | None = None) -> None:
        super().__init__(code, message)
        self.rule = rule

    def __str__(self) -> str:
        suffix = f" [{self.rule}]" if self.rule else ""
        return f"{self.code}: {self.message}{suffix}"


def not_authorised(message: str, rule: str) -> DomainRefusal:
    return DomainRefusal(ReasonCode.NOT_AUTHORISED, message, rule=rule)


def invalid_transition(message: str, rule: str) -> DomainRefusal:
    return DomainRefusal(ReasonCode.INVALID_TRANSITION, message, rule=rule)


def rule_violation(message: str, rule: str) -> DomainRefusal:
    return DomainRefusal(ReasonCode.RULE_VIOLATION, message, rule=rule)

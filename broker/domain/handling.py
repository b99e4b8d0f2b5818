"""Applying commands to a case: the domain's one entry point for the application layer.

`handle(case | None, command, context)`: OpenCase creates a case; any other command is
applied to the case by `apply_command`, all or nothing.
"""

from __future__ import annotations

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import require_aware
from crossforce.broker.domain.clocks import record_completions
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import DomainRefusal, invalid_transition, rule_violation
from crossforce.broker.domain.handlers import HANDLERS
from crossforce.broker.domain.opening import open_case, refuse_second_open
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.contracts.errors import ReasonCode


def handle(
    case: Case | None, command: c.Command, context: DomainContext | None = None
) -> tuple[Case, list[e.DomainEvent]]:
    """OpenCase creates; everything else applies to the case."""
    if isinstance(command, c.OpenCase):
        if case is not None:
            refuse_second_open(case, command)
        return open_case(command, context)
    if case is None:
        raise DomainRefusal(
            ReasonCode.UNKNOWN_CASE, f"no case {command.case_ref}", rule="unknown-case"
        )
    return case, apply_command(case, command, context)


def apply_command(
    case: Case, command: c.Command, context: DomainContext | None = None
) -> list[e.DomainEvent]:
    """Apply one command. All or nothing: a refusal leaves the case untouched."""
    context = context or DomainContext()
    if command.case_ref != case.case_ref:
        raise DomainRefusal(
            ReasonCode.UNKNOWN_CASE,
            f"command is for {command.case_ref}, not {case.case_ref}",
            rule="case-ref-mismatch",
        )
    if isinstance(command, c.OpenCase):
        refuse_second_open(case, command)
    require_aware(command.at)
    if case.status is not CaseStatus.OPEN and not case.awaits_final_report(command):
        raise invalid_transition(f"case {case.case_ref} is closed", "case-closed")
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise rule_violation(f"unsupported command {type(command).__name__}", "unknown-command")
    snapshot = case.snapshot()
    try:
        events = handler(case, command, context)
        record_completions(case, events)
    except BaseException:
        case.restore(snapshot)
        raise
    case.version += 1
    return events

"""Completing a timed step of the route, which stops its clock (domain.md §3)."""

from __future__ import annotations

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.clocks import steps_of
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import invalid_transition, rule_violation
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.sla import SlaStep


def complete_step(case: Case, cmd: c.CompleteStep, ctx: DomainContext) -> list[e.DomainEvent]:
    # The co-ordinating force keeps the applicant's level of service [000 §3.10.7], so it
    # owns the route's clocks and says when a step is done.
    case.require_coordinating(cmd.actor, "complete a step")
    try:
        step = SlaStep(cmd.step)
    except ValueError:
        raise rule_violation(f"no SLA step {cmd.step!r}", "unknown-step") from None
    if step not in steps_of(case):
        raise rule_violation(
            f"{step.value} is not a step of a {case.jurisdiction.value} {case.route.value} case",
            "step-not-on-route",
        )
    if step.value in case.steps_completed:
        raise invalid_transition(f"{step.value} is already completed", "step-already-completed")
    liaison = next((p for p in case.parts if p.kind is PartKind.APPLICANT_LIAISON), None)
    return [case.emit(e.StepCompleted, cmd, liaison, step=step.value)]

"""Malicious-application markers, the final intelligence report and closing the case."""

from __future__ import annotations

from dataclasses import replace

from broker.domain import commands as c
from broker.domain import events as e
from broker.domain.case import Case
from broker.domain.checks import require_text
from broker.domain.context import DomainContext
from broker.domain.errors import DomainRefusal, invalid_transition, not_authorised, rule_violation
from broker.domain.markers import MaliciousMarker
from broker.domain.parties import PartyRole
from broker.domain.parts import PartKind, PartStatus
from broker.domain.records import TransferOutcome
from broker.domain.transitions import CaseStatus, PartAction
from contracts.errors import ReasonCode


def mark_malicious(
    case: Case, cmd: c.MarkMaliciousApplication, ctx: DomainContext
) -> list[e.DomainEvent]:
    case.require_coordinating(cmd.actor, "mark an application as malicious")
    # 003 §8.11: the evidence is documented.
    require_text(cmd.evidence, "evidence-required", "the evidence")
    subject = case.subject()
    key = cmd.subject_key or (subject.subject_key if subject else None)
    if not key:
        raise rule_violation("no subject key to hold the marker against", "subject-key-required")
    case.markers_set.append(MaliciousMarker(key, case.case_ref, cmd.actor, cmd.at, cmd.evidence))
    return [case.emit(e.MaliciousApplicationMarked, cmd, subject_key=key, evidence=cmd.evidence)]


def submit_intelligence(
    case: Case, cmd: c.SubmitIntelligence, ctx: DomainContext
) -> list[e.DomainEvent]:
    open_part = next(
        (p for p in case.open_parts() if p.kind is PartKind.INTELLIGENCE_SUBMISSION), None
    )
    if ctx.settings.coordinating_force_files_intelligence or open_part is None:
        submitter = case.coordinating_force  # §1.2 gap; default the co-ordinating force
    else:
        submitter = open_part.owner
    if cmd.actor != submitter:
        raise not_authorised(
            f"the intelligence report is filed by {submitter}", "not-the-submitter"
        )
    require_text(cmd.summary, "summary-required", "a summary")
    if open_part is None and any(p.kind is PartKind.INTELLIGENCE_SUBMISSION for p in case.parts):
        raise invalid_transition(
            "the intelligence submission is already filed", "intelligence-already-submitted"
        )
    if open_part is not None:
        if open_part.owner != submitter:
            case.move_part(open_part, cmd, PartAction.TRANSFER_COORDINATION, to_owner=submitter)
        case.move_part(open_part, cmd, PartAction.SUBMIT_INTELLIGENCE)
        part = open_part
    else:
        part = case.add_part(
            cmd, PartKind.INTELLIGENCE_SUBMISSION, submitter, PartAction.SUBMIT_INTELLIGENCE
        )
    part.summary = cmd.summary
    applicant = case.applicant()
    return [
        case.emit(
            e.IntelligenceSubmitted,
            cmd,
            part,
            submitted_by=cmd.actor,
            summary=cmd.summary,
            outcome_summary=cmd.outcome,
            route=case.route,
            third_party_requester=applicant is not None and applicant.role is PartyRole.C,
        )
    ]


def close_case(case: Case, cmd: c.CloseCase, ctx: DomainContext) -> list[e.DomainEvent]:
    case.require_coordinating(cmd.actor, "close the case")
    require_text(cmd.reason, "reason-required", "a reason for closing")
    events: list[e.DomainEvent] = []
    if cmd.intelligence is not None:
        if cmd.intelligence.case_ref != case.case_ref:
            raise DomainRefusal(
                ReasonCode.UNKNOWN_CASE,
                "intelligence is for another case",
                rule="case-ref-mismatch",
            )
        events += submit_intelligence(case, cmd.intelligence, ctx)
    if not any(
        p.kind is PartKind.INTELLIGENCE_SUBMISSION and p.status is PartStatus.COMPLETED
        for p in case.parts
    ):
        # §4 item 12; 001 ¶92: every closure produces a final intelligence report.
        raise rule_violation(
            "closing needs the final intelligence submission", "intelligence-submission-required"
        )
    for part in case.open_parts():
        if part.kind is PartKind.APPLICANT_LIAISON:
            case.move_part(part, cmd, PartAction.CLOSE_CASE)
        else:
            case.move_part(part, cmd, PartAction.CANCEL, note="case closed")
            events.append(
                case.emit(e.PartCancelled, cmd, part, kind=part.kind, reason="case closed")
            )
    if case.pending_transfer is not None:
        # Keep the unanswered handover in the history rather than dropping it.
        case.coordination_history.append(
            replace(
                case.pending_transfer,
                outcome=TransferOutcome.DECLINED,
                decided_at=cmd.at,
                decline_reason="case closed",
            )
        )
        case.pending_transfer = None
    case.status = CaseStatus.CLOSED
    case.closed_at = cmd.at
    case.closure_reason = cmd.reason
    events.append(case.emit(e.CaseClosed, cmd, reason=cmd.reason))
    return events

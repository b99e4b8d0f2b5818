"""Malicious-application markers, the final intelligence report and closing the case."""

from __future__ import annotations

from dataclasses import replace

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import (
    DomainRefusal,
    invalid_transition,
    not_authorised,
    rule_violation,
)
from crossforce.broker.domain.markers import MaliciousMarker
from crossforce.broker.domain.parties import PartyRole
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.records import FinalReport, TransferOutcome
from crossforce.broker.domain.transitions import CaseStatus, PartAction
from crossforce.contracts.errors import ReasonCode


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
    if cmd.report is not None:
        check_final_report(case, cmd.report)
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


def check_final_report(case: Case, report: FinalReport) -> None:
    """The final report must be true to the case, because every force will read it as the
    pattern of requests about B [001 ¶92–93]. A mismatch is refused naming the field."""

    def wrong(field: str, problem: str) -> DomainRefusal:
        return rule_violation(f"{field}: {problem}", "final-report-mismatch")

    if report.route is not case.route:
        raise wrong("request.route", f"the case is {case.route.value}, not {report.route.value}")
    if report.request_type is not case.request_type:
        raise wrong(
            "request.application_category",
            f"the case was opened as {case.request_type.value}, not {report.request_type.value}",
        )
    if report.receiving_force != case.receiving_force:
        raise wrong(
            "request.receiving_force",
            f"the case was received by {case.receiving_force}, not {report.receiving_force}",
        )
    reported = {p.party_id: p for p in report.parties}
    missing = [p.party_id for p in case.parties if p.party_id not in reported]
    if missing:
        raise wrong("parties", f"leaves out {', '.join(missing)}: all parties are recorded")
    unknown = sorted(set(reported) - {p.party_id for p in case.parties})
    if unknown:
        raise wrong("parties", f"names {', '.join(unknown)}, who are not parties to the case")
    for party in case.parties:
        said = reported[party.party_id]
        if said.role is not party.role:
            raise wrong(
                f"parties[{party.party_id}].role",
                f"{party.party_id} is {party.role.value} in the case, not {said.role.value}",
            )
        if said.is_applicant != party.is_applicant:
            raise wrong(
                f"parties[{party.party_id}].is_applicant",
                f"{party.party_id} is {'' if party.is_applicant else 'not '}the applicant",
            )
    applicant = case.applicant()
    third_party = applicant is not None and applicant.role is PartyRole.C
    if report.requester_is_third_party != third_party:
        raise wrong(
            "requester_is_third_party",
            "the applicant is C, a third party"
            if third_party
            else "the requester is not a third party (C)",
        )
    for force in (case.receiving_force, case.coordinating_force):
        if force not in report.forces_involved:
            raise wrong("forces_involved", f"leaves out {force}")


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

"""Opening a case, and the entry point for every command."""

from __future__ import annotations

from datetime import datetime

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import police_force, require_aware, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import (
    invalid_transition,
    not_authorised,
    rule_violation,
)
from crossforce.broker.domain.parties import PartyRole
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.routes import RequestType, Route
from crossforce.broker.domain.transitions import CaseStatus, PartAction
from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.forces import psd_for


def refuse_second_open(case: Case, command: c.OpenCase) -> None:
    """A case has exactly one receiving and one co-ordinating force [000 §3.10.2-3.10.3]."""
    if command.coordinating_force != case.coordinating_force:
        raise rule_violation(
            f"case {case.case_ref} already has a co-ordinating force ({case.coordinating_force})",
            "one-coordinating-force",
        )
    if command.receiving_force != case.receiving_force:
        raise rule_violation(
            f"case {case.case_ref} already has a receiving force ({case.receiving_force})",
            "one-receiving-force",
        )
    raise invalid_transition(f"case {case.case_ref} is already open", "case-already-open")


def open_case(
    command: c.OpenCase, context: DomainContext | None = None
) -> tuple[Case, list[e.DomainEvent]]:
    context = context or DomainContext()
    require_aware(command.at)
    require_text(command.case_ref, "case-ref-required", "a case reference")
    if command.actor not in (command.receiving_force, command.coordinating_force):
        raise not_authorised(
            "a case is opened by its receiving or co-ordinating force", "not-receiving-force"
        )
    police_force(command.receiving_force)
    coordinating = police_force(command.coordinating_force)
    ids = [p.party_id for p in command.parties]
    if len(set(ids)) != len(ids):
        raise rule_violation("party ids must be unique", "duplicate-party")
    for party in command.parties:
        police_force(party.home_force)
    contact = command.initial_contact_at or command.at
    _check_initial_contact(command, contact)

    case = Case(
        case_ref=command.case_ref,
        receiving_force=command.receiving_force,
        coordinating_force=command.coordinating_force,
        route=command.route,
        jurisdiction=coordinating.jurisdiction,
        request_type=command.request_type,
        status=CaseStatus.OPEN,
        opened_at=command.at,
        parties=list(command.parties),
        version=1,
        initial_contact_at=contact,
    )
    opened = case.emit(
        e.CaseOpened,
        command,
        receiving_force=case.receiving_force,
        coordinating_force=case.coordinating_force,
        route=case.route,
        jurisdiction=case.jurisdiction,
    )
    if command.request_type is not RequestType.GENUINE:
        # §4 item 1: DBS, SAR and FOI are routed away at initial contact; no timers start,
        # so the case is closed at once and has no parts.
        case.status = CaseStatus.CLOSED
        case.closed_at = command.at
        case.closure_reason = f"not a genuine application: {command.request_type.value}"
        routed = case.emit(e.ApplicationRoutedAway, command, request_type=command.request_type)
        return case, [opened, routed]

    _check_route(case)
    events: list[e.DomainEvent] = [opened]
    applicant = case.applicant()
    if applicant is not None:
        # The co-ordinating force keeps the applicant's level of service [000 §3.10.7].
        case.add_part(
            command,
            PartKind.APPLICANT_LIAISON,
            case.coordinating_force,
            PartAction.OPEN_CASE,
            party_id=applicant.party_id,
        )
        if applicant.anonymous:
            case.disclosure_barred = True
            part = case.add_part(
                command,
                PartKind.INTELLIGENCE_SUBMISSION,
                case.coordinating_force,
                PartAction.OPEN_INTELLIGENCE_ROUTE,
                note="anonymous applicant",
            )
            events.append(
                case.emit(
                    e.IntelligenceRouteOpened,
                    command,
                    part,
                    reason="anonymous applicant",
                    power_to_tell=case.jurisdiction is Jurisdiction.SCOTLAND,
                )
            )
    for party in case.parties:
        if party.police_employee_of is not None:
            # 002 L899–975; 003 §6.14: the employing force's PSD is told.
            employer = police_force(party.police_employee_of)
            events.append(
                case.emit(
                    e.PoliceEmployeeParty,
                    command,
                    party_id=party.party_id,
                    employing_force=employer.code,
                    psd=psd_for(employer.code),
                )
            )
        if party.subject_key is None:
            continue
        for marker in context.markers.for_subject(party.subject_key):
            # §4 item 5: earlier malicious applications are seen by every later request.
            case.markers_seen.append(marker)
            events.append(
                case.emit(
                    e.MaliciousMarkerFound,
                    command,
                    subject_key=marker.subject_key,
                    marked_in_case=marker.case_ref,
                    marked_by=marker.marked_by,
                    marked_at=marker.marked_at,
                )
            )
    return case, events


def _check_initial_contact(command: c.OpenCase, contact: datetime) -> None:
    """Initial contact starts the clocks (domain.md §3), so it may not be set freely: never
    after the opening message, and no earlier than the policy's back-dating allowance."""
    require_aware(contact)
    if contact > command.at:
        raise rule_violation(
            f"initial contact {contact.isoformat()} is after the opening "
            f"({command.at.isoformat()})",
            "initial-contact-in-future",
        )
    earliest = command.earliest_initial_contact_at
    if earliest is not None and contact < earliest:
        raise rule_violation(
            f"initial contact {contact.isoformat()} is earlier than the SLA policy allows a case "
            f"to be opened after it ({earliest.isoformat()})",
            "initial-contact-backdated",
        )


def _check_route(case: Case) -> None:
    applicants = [p for p in case.parties if p.is_applicant]
    subjects = [p for p in case.parties if p.role is PartyRole.B]
    if len(subjects) != 1:
        raise rule_violation("a case is about exactly one subject (B)", "one-subject")
    if case.route is Route.RIGHT_TO_ASK:
        if len(applicants) != 1:
            raise rule_violation("Right to Ask needs exactly one applicant", "one-applicant")
        if applicants[0].role not in (PartyRole.A, PartyRole.C):
            # §1.1: the applicant is A or C.
            raise rule_violation("the applicant must be A or C", "applicant-must-be-a-or-c")
    elif applicants:
        raise rule_violation(f"{case.route} has no applicant", "no-applicant-on-route")
    if case.route is Route.RIGHT_TO_KNOW and case.jurisdiction is not Jurisdiction.ENGLAND_WALES:
        raise rule_violation("Right to Know is an England & Wales route", "route-jurisdiction")
    if case.route is Route.POWER_TO_TELL and case.jurisdiction is not Jurisdiction.SCOTLAND:
        raise rule_violation("Power to Tell is a Scottish route", "route-jurisdiction")

"""Forces and roles in a case [000 §3.10], and how a case opens."""

from __future__ import annotations

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import audience
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command, handle
from crossforce.broker.domain.markers import MaliciousMarker, SubjectMarkers
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.roles import ForceRole
from crossforce.broker.domain.routes import RequestType, Route
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.broker.domain.views import view_for
from crossforce.contracts.errors import ReasonCode

from .builders import applicant_a, at, names, only, opened, subject_b


def test_kent_receives_essex_coordinates_police_scotland_responds_for_b() -> None:
    case, events = opened(
        applicant_a("ESSEX"), subject_b("PSOS"), receiving="KENT", coordinating="ESSEX"
    )
    assert names(events) == ["case-opened"]
    [request] = apply_command(
        case, c.RequestEnquiry(case_ref="CF-1", actor="ESSEX", at=at(1), party_id="B")
    )

    liaison = [p for p in case.parts if p.kind is PartKind.APPLICANT_LIAISON]
    assert [(p.owner, p.status) for p in liaison] == [("ESSEX", PartStatus.IN_PROGRESS)]
    enquiry = case.part(request.part_id or "")
    assert (enquiry.kind, enquiry.owner, enquiry.status) == (
        PartKind.ENQUIRY,
        "PSOS",
        PartStatus.REQUESTED,
    )
    # Essex alone liaises with the applicant; Kent holds no part of the job.
    assert case.parts_owned_by("KENT") == []
    assert case.roles_of("ESSEX") == {ForceRole.COORDINATING, ForceRole.APPLICANTS_HOME_FORCE}
    assert case.roles_of("KENT") == {ForceRole.RECEIVING}
    assert case.roles_of("PSOS") == {ForceRole.RESPONDING}
    assert audience(case, request) == {"ESSEX", "PSOS"}
    # Police Scotland sees only its own part and the party it concerns.
    psos_view = view_for(case, "PSOS")
    assert [p.part_id for p in psos_view.parts] == [enquiry.part_id]
    assert [p.party_id for p in psos_view.parties] == ["B"]
    assert len(view_for(case, "ESSEX").parts) == 2
    assert view_for(case, "KENT").parts == ()


def test_receiving_and_coordinating_force_the_same_with_no_responding_part() -> None:
    case, _ = opened(applicant_a("KENT"), subject_b("KENT"))
    assert case.roles_of("KENT") == {
        ForceRole.RECEIVING,
        ForceRole.COORDINATING,
        ForceRole.APPLICANTS_HOME_FORCE,
    }
    with pytest.raises(DomainRefusal) as refused:
        apply_command(case, c.RequestEnquiry(case_ref="CF-1", actor="KENT", at=at(1), party_id="B"))
    assert refused.value.code is ReasonCode.RULE_VIOLATION
    assert refused.value.rule == "enquiry-not-cross-force"
    assert [p.kind for p in case.parts] == [PartKind.APPLICANT_LIAISON]
    assert case.participants() == {"KENT"}


def test_a_second_coordinating_force_is_refused() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("KENT"), coordinating="ESSEX")
    second = c.OpenCase(
        case_ref="CF-1",
        actor="SURREY",
        at=at(1),
        receiving_force="KENT",
        coordinating_force="SURREY",
        route=Route.RIGHT_TO_ASK,
        parties=(applicant_a("SURREY"), subject_b("KENT")),
    )
    with pytest.raises(DomainRefusal) as refused:
        handle(case, second)
    assert refused.value.code is ReasonCode.RULE_VIOLATION
    assert refused.value.rule == "one-coordinating-force"
    with pytest.raises(DomainRefusal) as again:
        apply_command(case, second)
    assert again.value.rule == "one-coordinating-force"
    assert case.coordinating_force == "ESSEX"


def test_a_second_receiving_force_is_refused() -> None:
    case, _ = opened(applicant_a("ESSEX"), subject_b("KENT"), coordinating="ESSEX")
    second = c.OpenCase(
        case_ref="CF-1",
        actor="SURREY",
        at=at(1),
        receiving_force="SURREY",
        coordinating_force="ESSEX",
        route=Route.RIGHT_TO_ASK,
        parties=(applicant_a("ESSEX"), subject_b("KENT")),
    )
    with pytest.raises(DomainRefusal) as refused:
        handle(case, second)
    assert refused.value.rule == "one-receiving-force"
    assert case.receiving_force == "KENT"


def test_only_the_receiving_or_coordinating_force_opens_a_case() -> None:
    with pytest.raises(DomainRefusal) as refused:
        handle(
            None,
            c.OpenCase(
                case_ref="CF-2",
                actor="SURREY",
                at=at(),
                receiving_force="KENT",
                coordinating_force="ESSEX",
                route=Route.RIGHT_TO_ASK,
                parties=(applicant_a("ESSEX"), subject_b("KENT")),
            ),
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED


def test_a_command_for_an_unknown_case_is_refused() -> None:
    with pytest.raises(DomainRefusal) as refused:
        handle(None, c.RequestEnquiry(case_ref="CF-9", actor="KENT", at=at(), party_id="B"))
    assert refused.value.code is ReasonCode.UNKNOWN_CASE


@pytest.mark.parametrize(
    "request_type",
    [
        RequestType.DBS_CHECK,
        RequestType.SUBJECT_ACCESS_REQUEST,
        RequestType.FREEDOM_OF_INFORMATION,
    ],
)
def test_not_a_genuine_application_closes_at_once_with_no_timers(
    request_type: RequestType,
) -> None:
    case, events = handle(
        None,
        c.OpenCase(
            case_ref="CF-3",
            actor="KENT",
            at=at(),
            receiving_force="KENT",
            coordinating_force="KENT",
            route=Route.RIGHT_TO_ASK,
            parties=(applicant_a("KENT"), subject_b("ESSEX")),
            request_type=request_type,
        ),
    )
    assert names(events) == ["case-opened", "application-routed-away"]
    assert case.status is CaseStatus.CLOSED
    assert case.parts == []
    assert case.parts_needing_timers() == []
    with pytest.raises(DomainRefusal) as refused:
        apply_command(case, c.RequestEnquiry(case_ref="CF-3", actor="KENT", at=at(1), party_id="B"))
    assert refused.value.code is ReasonCode.INVALID_TRANSITION
    assert refused.value.rule == "case-closed"


def test_a_naive_time_is_refused() -> None:
    case, _ = opened(applicant_a("KENT"), subject_b("ESSEX"))
    with pytest.raises(DomainRefusal) as refused:
        apply_command(
            case,
            c.RequestEnquiry(
                case_ref="CF-1", actor="KENT", at=at().replace(tzinfo=None), party_id="B"
            ),
        )
    assert refused.value.rule == "naive-datetime"


def test_right_to_ask_needs_an_applicant_who_is_a_or_c() -> None:
    with pytest.raises(DomainRefusal) as refused:
        opened(subject_b("KENT"))
    assert refused.value.rule == "one-applicant"


def test_an_earlier_malicious_marker_is_seen_when_a_later_case_opens() -> None:
    marker = MaliciousMarker("subject-b-1", "CF-0", "SURREY", at(-1000), "fabricated claims")
    context = DomainContext(markers=SubjectMarkers.of([marker]))
    case, events = opened(applicant_a("KENT"), subject_b("ESSEX"), context=context)
    found = only(events, e.MaliciousMarkerFound)
    assert isinstance(found, e.MaliciousMarkerFound)
    assert (found.marked_in_case, found.marked_by) == ("CF-0", "SURREY")
    assert case.markers_seen == [marker]
    assert audience(case, found) == {"KENT"}


def test_a_police_employee_party_is_reported_to_their_forces_psd_alone() -> None:
    officer = Party("B", PartyRole.B, "ESSEX", subject_key="b-officer", police_employee_of="SURREY")
    case, events = opened(applicant_a("KENT"), officer, receiving="KENT", coordinating="KENT")
    notice = only(events, e.PoliceEmployeeParty)
    assert isinstance(notice, e.PoliceEmployeeParty)
    assert (notice.party_id, notice.employing_force, notice.psd) == ("B", "SURREY", "SURREY_PSD")
    # Neither Surrey's DVDS officers nor anyone in the case hear of it through this event.
    assert audience(case, notice) == {"SURREY_PSD"}
    # A PSD or a DMF is not a force that employs officers.
    for employer in ("SURREY_PSD", "PSOS_E"):
        with pytest.raises(DomainRefusal) as refused:
            opened(
                applicant_a("KENT"),
                Party("B", PartyRole.B, "ESSEX", police_employee_of=employer),
                ref=f"CF-{employer}",
            )
        assert refused.value.rule == "not-a-force"

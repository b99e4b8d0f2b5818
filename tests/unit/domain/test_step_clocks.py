"""Statutory step clocks (domain.md §3): when each starts, falls due and stops, per route.

Every instant is fixed; working days are the owner's (the co-ordinating force's) own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.clocks import StepClock, step_clocks
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.opening import open_case
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.routes import Route
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, TimeConflicts, TimeUnit
from crossforce.contracts.errors import ReasonCode

from .builders import EW_FORUM

POLICY = SlaPolicy()
S = SlaStep


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=LONDON)


def _open(
    coordinating: str,
    contact: datetime,
    *,
    route: Route = Route.RIGHT_TO_ASK,
    opened_at: datetime | None = None,
    earliest: datetime | None = None,
) -> Case:
    applicant = route is Route.RIGHT_TO_ASK
    parties = (
        Party("A", PartyRole.A, coordinating, is_applicant=applicant, identity_verified=True),
        Party("B", PartyRole.B, coordinating, subject_key="b"),
    )
    case, _ = open_case(
        c.OpenCase(
            case_ref="CF-1",
            actor=coordinating,
            at=opened_at or contact,
            receiving_force=coordinating,
            coordinating_force=coordinating,
            route=route,
            parties=parties,
            initial_contact_at=contact,
            earliest_initial_contact_at=earliest,
        )
    )
    return case


def clocks(case: Case, policy: SlaPolicy = POLICY) -> dict[SlaStep, StepClock]:
    return {clock.step: clock for clock in step_clocks(case, policy)}


def complete(case: Case, step: SlaStep, at: datetime, actor: str = "KENT") -> None:
    apply_command(case, c.CompleteStep(case_ref="CF-1", actor=actor, at=at, step=step.value))


# -- England & Wales, Right to Ask ---------------------------------------------------------------
def test_right_to_ask_starts_its_clocks_at_initial_contact_owned_by_the_liaison_part() -> None:
    case = _open("KENT", local(2026, 11, 23, 10))  # Monday
    running = clocks(case)
    # Face-to-face counts from initial contact by default (§9.2, 001 ¶40).
    assert set(running) == {S.EW_RTA_INITIAL_CHECKS, S.EW_RTA_FACE_TO_FACE, S.EW_RTA_WHOLE_ENQUIRY}
    checks = running[S.EW_RTA_INITIAL_CHECKS]
    assert checks.due_at == local(2026, 11, 24, 10)  # 24 clock hours [001 ¶34(c)]
    assert (checks.owner, checks.part_id) == ("KENT", case.parts[0].part_id)
    assert running[S.EW_RTA_FACE_TO_FACE].due_at == end_of(2026, 12, 7)  # 10 working days
    assert running[S.EW_RTA_WHOLE_ENQUIRY].due_at == end_of(2026, 12, 21)  # 28 days
    assert running[S.EW_RTA_WHOLE_ENQUIRY].source == "001 ¶34(f)"


def test_initial_checks_over_the_october_clock_change_are_24_real_hours() -> None:
    # Saturday 24 October 2026, 12:00 BST; clocks go back at 02:00 on Sunday.
    case = _open("KENT", local(2026, 10, 24, 12))
    due = clocks(case)[S.EW_RTA_INITIAL_CHECKS].due_at
    assert due == datetime(2026, 10, 25, 11, 0, tzinfo=UTC)
    assert due.astimezone(LONDON).hour == 11  # 11:00 GMT on the wall clock, not 12:00
    elapsed = due.astimezone(UTC) - local(2026, 10, 24, 12).astimezone(UTC)
    assert elapsed == timedelta(hours=24)


def test_face_to_face_skips_english_bank_holidays_over_christmas() -> None:
    # Friday 18 December 2026: Christmas Day, Boxing Day (observed Monday 28th) and New Year's
    # Day are not working days, so ten working days end on Wednesday 6 January 2027.
    case = _open("KENT", local(2026, 12, 18, 10))
    assert clocks(case)[S.EW_RTA_FACE_TO_FACE].due_at == end_of(2027, 1, 6)


def test_each_step_starts_when_the_one_before_ends() -> None:
    case = _open("KENT", local(2026, 11, 23, 10))
    complete(case, S.EW_RTA_INITIAL_CHECKS, local(2026, 11, 23, 16))
    verified_at = local(2026, 11, 30, 14)
    apply_command(
        case,
        c.VerifyApplicantIdentity(
            case_ref="CF-1",
            actor="KENT",
            at=verified_at,
            party_id="A",
            method="passport",
            face_to_face=True,
        ),
    )
    running = clocks(case)
    assert running[S.EW_RTA_INITIAL_CHECKS].completed_at == local(2026, 11, 23, 16)
    assert running[S.EW_RTA_FACE_TO_FACE].completed_at == verified_at
    risk = running[S.EW_RTA_FULL_RISK_ASSESSMENT]
    assert (risk.started_at, risk.due_at) == (verified_at, end_of(2026, 12, 7))  # 5 wd
    assert risk.running and S.EW_FORUM_REFERRAL not in running

    # The forum's decision (Annex G) completes the categorisation and the forum step.
    decided = local(2026, 12, 4, 11)
    apply_command(
        case,
        c.RecordDecision(
            case_ref="CF-1",
            actor="KENT",
            at=decided,
            concern=False,
            disclose=False,
            rationale="no concerns found",
            bodies=EW_FORUM,
        ),
    )
    running = clocks(case)
    assert running[S.EW_RTA_FULL_RISK_ASSESSMENT].completed_at == decided
    assert running[S.EW_FORUM_REFERRAL].completed_at == decided
    assert running[S.EW_RTA_WHOLE_ENQUIRY].running  # until the applicant is told


def test_completing_a_later_step_completes_the_earlier_ones_still_open() -> None:
    case = _open("KENT", local(2026, 11, 23, 10))
    complete(case, S.EW_RTA_FACE_TO_FACE, local(2026, 11, 25, 10))
    running = clocks(case)
    assert running[S.EW_RTA_INITIAL_CHECKS].completed_at == local(2026, 11, 25, 10)
    with pytest.raises(DomainRefusal) as refused:
        complete(case, S.EW_RTA_INITIAL_CHECKS, local(2026, 11, 25, 11))
    assert refused.value.rule == "step-already-completed"


def test_the_conflict_settings_change_the_limit_and_the_start() -> None:
    # §9.1: APP's 10 working days; §9.2: face-to-face from the initial checks (Table 1).
    policy = SlaPolicy(
        conflicts=TimeConflicts(
            categorisation_working_days=10, face_to_face_counts_from="initial-checks"
        )
    )
    case = _open("KENT", local(2026, 11, 23, 10))
    assert S.EW_RTA_FACE_TO_FACE not in clocks(case, policy)
    complete(case, S.EW_RTA_INITIAL_CHECKS, local(2026, 11, 24, 9))
    assert clocks(case, policy)[S.EW_RTA_FACE_TO_FACE].started_at == local(2026, 11, 24, 9)
    complete(case, S.EW_RTA_FACE_TO_FACE, local(2026, 11, 30, 9))
    assert clocks(case, policy)[S.EW_RTA_FULL_RISK_ASSESSMENT].due_at == end_of(2026, 12, 14)


def test_only_the_coordinating_force_completes_a_step_of_its_own_route() -> None:
    case = _open("KENT", local(2026, 11, 23, 10))
    with pytest.raises(DomainRefusal) as refused:
        complete(case, S.EW_RTA_INITIAL_CHECKS, local(2026, 11, 23, 12), actor="ESSEX")
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    with pytest.raises(DomainRefusal) as refused:
        complete(case, S.SCOTLAND_STAGE_2_INITIAL_CHECKS, local(2026, 11, 23, 12))
    assert refused.value.rule == "step-not-on-route"


# -- England & Wales, Right to Know ---------------------------------------------------------------
def test_right_to_know_checks_skip_easter_monday() -> None:
    # Thursday 25 March 2027: Good Friday and Easter Monday are English bank holidays.
    case = _open("KENT", local(2027, 3, 25, 10), route=Route.RIGHT_TO_KNOW)
    running = clocks(case)
    assert set(running) == {S.EW_RTK_INTELLIGENCE_CHECKS}  # no applicant, no 28 days
    checks = running[S.EW_RTK_INTELLIGENCE_CHECKS]
    assert checks.due_at == end_of(2027, 4, 5)
    assert checks.part_id is None  # no applicant-liaison part on this route


# -- Scotland ---------------------------------------------------------------------------------
def test_scottish_stages_run_in_calendar_days_by_default_and_chain() -> None:
    case = _open("PSOS", local(2026, 11, 27, 10))  # Friday
    assert clocks(case)[S.SCOTLAND_STAGE_2_INITIAL_CHECKS].due_at == end_of(2026, 11, 30)
    complete(case, S.SCOTLAND_STAGE_2_INITIAL_CHECKS, local(2026, 11, 30, 15), actor="PSOS")
    stage_3 = clocks(case)[S.SCOTLAND_STAGE_3_FACE_TO_FACE]
    assert stage_3.due_at == end_of(2026, 12, 12)  # 12 days [003 §4, §8.7]
    complete(case, S.SCOTLAND_STAGE_3_FACE_TO_FACE, local(2026, 12, 1, 15), actor="PSOS")
    assert clocks(case)[S.SCOTLAND_STAGE_4_DMF_REFERRAL].due_at == end_of(2026, 12, 21)
    complete(case, S.SCOTLAND_STAGE_4_DMF_REFERRAL, local(2026, 12, 2, 15), actor="PSOS")
    assert clocks(case)[S.SCOTLAND_STAGE_5_DISCLOSURE].due_at == end_of(2026, 12, 12)


def test_scottish_working_days_skip_st_andrews_day_but_english_ones_do_not() -> None:
    # §9.10 set to working days. Friday 27 November 2026; Monday 30th is St Andrew's Day.
    policy = SlaPolicy(conflicts=TimeConflicts(scottish_day_unit=TimeUnit.WORKING_DAYS))
    case = _open("PSOS", local(2026, 11, 27, 10))
    assert clocks(case, policy)[S.SCOTLAND_STAGE_2_INITIAL_CHECKS].due_at == end_of(2026, 12, 3)
    english = POLICY.limit_for(S.EW_RTA_FACE_TO_FACE)
    assert english.unit is TimeUnit.WORKING_DAYS  # counted with the English calendar instead


# -- initial contact ----------------------------------------------------------------------------
def test_initial_contact_cannot_follow_the_opening_or_be_backdated_past_the_allowance() -> None:
    opened_at = local(2026, 11, 23, 10)
    with pytest.raises(DomainRefusal) as refused:
        _open("KENT", opened_at + timedelta(minutes=1), opened_at=opened_at)
    assert (refused.value.code, refused.value.rule) == (
        ReasonCode.RULE_VIOLATION,
        "initial-contact-in-future",
    )
    earliest = opened_at - timedelta(days=28)
    with pytest.raises(DomainRefusal) as refused:
        _open("KENT", earliest - timedelta(minutes=1), opened_at=opened_at, earliest=earliest)
    assert refused.value.rule == "initial-contact-backdated"
    # Within the allowance the clocks run from the real contact, already late if need be.
    case = _open("KENT", local(2026, 11, 20, 10), opened_at=opened_at, earliest=earliest)
    assert clocks(case)[S.EW_RTA_INITIAL_CHECKS].due_at == local(2026, 11, 21, 10)


def test_a_request_routed_away_starts_no_clock() -> None:
    case, _ = open_case(
        c.OpenCase(
            case_ref="CF-1",
            actor="KENT",
            at=local(2026, 11, 23, 10),
            receiving_force="KENT",
            coordinating_force="KENT",
            route=Route.RIGHT_TO_ASK,
            parties=(Party("A", PartyRole.A, "KENT", is_applicant=True),),
            request_type=c.RequestType.DBS_CHECK,
        )
    )
    assert step_clocks(case, POLICY) == ()

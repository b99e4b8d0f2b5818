"""The SLA policy file: defaults with sources, conflicts as settings, refusal of bad files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.clocks import ALONGSIDE, SEQUENCES
from crossforce.broker.domain.sla import (
    CLOCK_STARTS,
    DEFAULT_STEPS,
    NOT_CLOCKS,
    PolicyFileError,
    SlaPolicy,
    SlaStep,
    TimeUnit,
    default_policy_text,
    due_at,
    load_policy,
    parse_policy,
)
from crossforce.contracts.errors import ContractError


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=LONDON)


def write(tmp_path: Path, data: object, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def packaged() -> dict[str, object]:
    data = yaml.safe_load(default_policy_text())
    assert isinstance(data, dict)
    return data


def test_packaged_file_matches_the_built_in_defaults() -> None:
    policy = load_policy()
    default = SlaPolicy()
    assert policy.escalation == default.escalation
    for step in SlaStep:
        assert policy.limit_for(step) == default.limit_for(step)


def test_every_step_cites_a_source_and_local_policy_is_labelled() -> None:
    policy = load_policy()
    for step in SlaStep:
        assert policy.limit_for(step).source
    answer = policy.limit_for(SlaStep.RESPONDING_FORCE_ANSWER)
    assert answer.local_policy and "local policy" in answer.source
    assert [s for s in SlaStep if DEFAULT_STEPS[s].local_policy] == [
        SlaStep.RESPONDING_FORCE_ANSWER
    ]


def test_defaults_from_the_sources() -> None:
    policy = load_policy()
    table = {
        SlaStep.EW_RTA_INITIAL_CHECKS: (24, TimeUnit.CLOCK_HOURS),
        SlaStep.EW_RTA_FACE_TO_FACE: (10, TimeUnit.WORKING_DAYS),
        SlaStep.EW_RTA_FULL_RISK_ASSESSMENT: (5, TimeUnit.WORKING_DAYS),
        SlaStep.EW_RTA_WHOLE_ENQUIRY: (28, TimeUnit.CALENDAR_DAYS),
        SlaStep.EW_RTK_INTELLIGENCE_CHECKS: (5, TimeUnit.WORKING_DAYS),
        SlaStep.EW_FORUM_REFERRAL: (20, TimeUnit.WORKING_DAYS),
        SlaStep.SCOTLAND_STAGE_2_INITIAL_CHECKS: (3, TimeUnit.CALENDAR_DAYS),
        SlaStep.SCOTLAND_STAGE_3_FACE_TO_FACE: (12, TimeUnit.CALENDAR_DAYS),
        SlaStep.SCOTLAND_STAGE_4_DMF_REFERRAL: (20, TimeUnit.CALENDAR_DAYS),
        SlaStep.SCOTLAND_STAGE_5_DISCLOSURE: (10, TimeUnit.CALENDAR_DAYS),
        SlaStep.MARAC_ACTION_PLAN: (24, TimeUnit.CLOCK_HOURS),
        SlaStep.MARAC_MINUTES: (10, TimeUnit.WORKING_DAYS),
        SlaStep.RESPONDING_FORCE_ANSWER: (5, TimeUnit.WORKING_DAYS),
    }
    for step, (limit, unit) in table.items():
        effective = policy.limit_for(step)
        assert (effective.limit, effective.unit) == (limit, unit), step


def test_conflict_settings_govern_every_step_they_touch(tmp_path: Path) -> None:
    data = packaged()
    data["conflicts"] = {
        "categorisation_working_days": 10,
        "face_to_face_counts_from": "initial-checks",
        "forum_referral_counts_from": "full-risk-assessment-or-intelligence-checks",
        "scottish_day_unit": "working-days",
    }
    policy = load_policy(write(tmp_path, data))
    assert policy.limit_for(SlaStep.EW_RTA_FULL_RISK_ASSESSMENT).limit == 10
    assert policy.limit_for(SlaStep.EW_RTK_INTELLIGENCE_CHECKS).limit == 10
    assert policy.limit_for(SlaStep.EW_RTA_FACE_TO_FACE).counts_from == "initial-checks"
    assert (
        policy.limit_for(SlaStep.EW_FORUM_REFERRAL).counts_from
        == "full-risk-assessment-or-intelligence-checks"
    )
    assert policy.limit_for(SlaStep.SCOTLAND_STAGE_2_INITIAL_CHECKS).unit is TimeUnit.WORKING_DAYS
    # Thursday 24 Dec 2026: 3 Scottish working days skip Christmas and Boxing Day (observed).
    started = at(2026, 12, 24)
    assert due_at(SlaStep.SCOTLAND_STAGE_2_INITIAL_CHECKS, started, "PSOS", policy).date() == (
        datetime(2026, 12, 31).date()
    )
    assert due_at(SlaStep.SCOTLAND_STAGE_2_INITIAL_CHECKS, started, "PSOS", SlaPolicy()).date() == (
        datetime(2026, 12, 27).date()
    )


def test_due_at_uses_the_unit_and_the_owners_calendar() -> None:
    policy = SlaPolicy()
    start = at(2026, 3, 28, 12)
    assert due_at(SlaStep.EW_RTA_INITIAL_CHECKS, start, "KENT", policy) == at(2026, 3, 29, 13)
    assert due_at(SlaStep.MARAC_MINUTES, at(2026, 4, 1), "KENT", policy).date() == (
        datetime(2026, 4, 17).date()  # Good Friday and Easter Monday skipped
    )
    assert due_at(SlaStep.MARAC_MINUTES, at(2026, 4, 1), "PSOS", policy).date() == (
        datetime(2026, 4, 16).date()  # only Good Friday skipped in Scotland
    )


# --- refusing bad files ----------------------------------------------------------------------


def refused(path: Path) -> PolicyFileError:
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    error = caught.value
    text = str(error)
    assert "\n" not in text and str(path) in text
    assert isinstance(error, ContractError)  # so the CLI prints one line, not a traceback
    return error


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    error = refused(tmp_path / "absent.yaml")
    assert "cannot be read" in error.message


def test_invalid_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    error = refused(write(tmp_path, "version: 1\nconflicts: [unclosed\n"))
    assert error.field is not None and error.field.startswith("line ")


def test_a_file_without_a_version_is_refused(tmp_path: Path) -> None:
    assert refused(write(tmp_path, {"steps": {}})).field == "version"
    assert refused(write(tmp_path, "- just\n- a list\n")).field is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d.update(version=2), "version", "1"),
        (lambda d: d.update(escalaton={}), "escalaton", "Extra inputs"),
        (
            lambda d: d["conflicts"].update(categorisation_working_days=7),
            "conflicts.categorisation_working_days",
            "5 or 10",
        ),
        (
            lambda d: d["conflicts"].update(scottish_day_unit="fortnights"),
            "conflicts.scottish_day_unit",
            "calendar-days",
        ),
        (
            lambda d: d["steps"]["ew-right-to-ask.full-risk-assessment"].update(limit=10),
            "steps.ew-right-to-ask.full-risk-assessment.limit",
            "conflicts.categorisation_working_days",
        ),
        (
            lambda d: d["steps"]["marac.minutes"].update(limit=-3),
            "steps.marac.minutes.limit",
            "greater than 0",
        ),
        (
            lambda d: d["steps"].update({"ew.made-up-step": {"limit": 3}}),
            "steps.ew.made-up-step.[key]",
            "ew-right-to-ask.initial-checks",
        ),
        (
            lambda d: d["escalation"]["standard"]["rungs"][0].update(offset=0),
            "escalation.standard.rungs.0",
            "before due",
        ),
        (
            lambda d: d["escalation"]["standard"]["rungs"][2].update(
                offset=-5, message="overdue-notice"
            ),
            "escalation.standard.rungs.2",
            "cannot fire before",
        ),
        (
            lambda d: d["escalation"]["standard"]["rungs"][2].update(offset=0),
            "escalation.standard",
            "strictly increasing",
        ),
        (
            lambda d: d["escalation"]["standard"]["rungs"][1].update(audience=["the-press"]),
            "escalation.standard.rungs.1.audience.0",
            "owning-force.supervisor",
        ),
        (
            lambda d: d["escalation"]["immediate_risk"].update(unit="working-days"),
            "escalation",
            "clock-hours",
        ),
    ],
)
def test_bad_values_are_refused_naming_file_and_field(
    tmp_path: Path, change: object, field: str, words: str
) -> None:
    data = packaged()
    change(data)  # type: ignore[operator]
    error = refused(write(tmp_path, data))
    assert error.field == field
    assert words in error.message


def test_an_unquoted_time_is_refused_rather_than_read_as_seconds(tmp_path: Path) -> None:
    text = default_policy_text().replace(
        'reminder_local_time: "09:00"', "reminder_local_time: 9:30"
    )
    assert "reminder_local_time: 9:30" in text
    error = refused(write(tmp_path, text))
    assert error.field == "escalation.standard.reminder_local_time"
    assert "quoted" in error.message


def test_a_step_clock_must_count_from_a_milestone_the_hub_knows() -> None:
    # Every step is either a case clock or timed on something else, never both or neither.
    clocked = {step for steps in (*SEQUENCES.values(), *ALONGSIDE.values()) for step in steps}
    assert clocked | NOT_CLOCKS == set(SlaStep) and not clocked & NOT_CLOCKS
    # The defaults all start somewhere known.
    policy = parse_policy({"version": 1})
    assert all(policy.limit_for(step).counts_from in CLOCK_STARTS for step in clocked)
    bad = {"version": 1, "steps": {"ew-right-to-ask.whole-enquiry": {"counts_from": "lunch"}}}
    with pytest.raises(PolicyFileError) as refused:
        parse_policy(bad)
    assert refused.value.field == "steps.ew-right-to-ask.whole-enquiry.counts_from"

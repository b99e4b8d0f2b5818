"""Working days per jurisdiction, calendar days and clock hours across the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossforce.broker.domain.calendar import (
    LONDON,
    WorkingCalendar,
    calendar_for_force,
    calendar_for_subdivision,
)
from crossforce.contracts.errors import ContractError

ENG = calendar_for_subdivision("ENG")
WLS = calendar_for_subdivision("WLS")
SCT = calendar_for_subdivision("SCT")
NIR = calendar_for_subdivision("NIR")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def end(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time.max, tzinfo=LONDON)


# --- weekends ------------------------------------------------------------------------------


def test_weekend_days_are_not_working_days() -> None:
    assert ENG.is_working_day(date(2026, 11, 20))  # Friday
    assert not ENG.is_working_day(date(2026, 11, 21))  # Saturday
    assert not ENG.is_working_day(date(2026, 11, 22))  # Sunday


def test_day_zero_never_counts_and_due_is_end_of_day_local() -> None:
    # Started on a Friday afternoon: day 1 is Monday, due at the end of Monday.
    assert ENG.working_days_after(at(2026, 11, 20, 16, 55), 1) == end(2026, 11, 23)
    # Started on a Saturday: still Monday (the first working day after the start's date).
    assert ENG.working_days_after(at(2026, 11, 21), 1) == end(2026, 11, 23)
    # A start late on Friday in UTC is already Saturday in London in summer.
    late_friday_utc = datetime(2026, 7, 3, 23, 30, tzinfo=UTC)  # 00:30 Sat BST
    assert ENG.working_days_after(late_friday_utc, 1) == end(2026, 7, 6)
    assert ENG.working_days_after(at(2026, 11, 20), 0) == end(2026, 11, 20)


def test_a_weekend_answer_after_a_friday_deadline_is_zero_working_days_late() -> None:
    due = ENG.working_days_after(at(2026, 11, 19), 1)  # end of Friday 20th
    assert ENG.working_days_between(due, at(2026, 11, 22)) == 0
    assert ENG.working_days_between(due, at(2026, 11, 23)) == 1
    assert ENG.working_days_between(at(2026, 11, 23), due) == -1


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ENG.working_days_after(datetime(2026, 1, 5, 10), 1)


def test_unknown_subdivision_is_refused() -> None:
    with pytest.raises(ValueError, match="ENG, NIR, SCT, WLS"):
        WorkingCalendar("GB")


# --- Christmas and New Year ------------------------------------------------------------------


def test_christmas_and_new_year_2025_including_scotlands_second_of_january() -> None:
    start = at(2025, 12, 24)  # Wednesday
    # ENG: Thu 25, Fri 26 holidays; Mon 29, Tue 30, Wed 31; Thu 1 Jan holiday; Fri 2 Jan.
    assert ENG.working_days_after(start, 3) == end(2025, 12, 31)
    assert ENG.working_days_after(start, 4) == end(2026, 1, 2)
    # SCT: 2 January is a holiday too, so the fourth working day is Monday 5 January.
    assert SCT.working_days_after(start, 4) == end(2026, 1, 5)
    assert SCT.bank_holiday_name(date(2026, 1, 2)) is not None
    assert ENG.bank_holiday_name(date(2026, 1, 2)) is None


def test_christmas_2026_on_a_friday_moves_boxing_day_to_monday() -> None:
    assert not ENG.is_working_day(date(2026, 12, 28))
    assert ENG.working_days_after(at(2026, 12, 24), 1) == end(2026, 12, 29)


def test_scotlands_second_of_january_on_a_saturday_is_observed_on_monday() -> None:
    assert not SCT.is_working_day(date(2027, 1, 4))
    assert ENG.is_working_day(date(2027, 1, 4))


# --- Easter --------------------------------------------------------------------------------


def test_easter_monday_is_a_holiday_except_in_scotland() -> None:
    good_friday, easter_monday = date(2026, 4, 3), date(2026, 4, 6)
    for calendar in (ENG, WLS, SCT, NIR):
        assert not calendar.is_working_day(good_friday), calendar
    assert not ENG.is_working_day(easter_monday)
    assert not WLS.is_working_day(easter_monday)
    assert not NIR.is_working_day(easter_monday)
    assert SCT.is_working_day(easter_monday)
    start = at(2026, 4, 2)  # Maundy Thursday
    assert ENG.working_days_after(start, 1) == end(2026, 4, 7)
    assert SCT.working_days_after(start, 1) == end(2026, 4, 6)


# --- St Andrew's Day -------------------------------------------------------------------------


def test_st_andrews_day_and_its_substitute_monday() -> None:
    assert not SCT.is_working_day(date(2026, 11, 30))  # a Monday
    assert ENG.is_working_day(date(2026, 11, 30))
    # 30 November 2025 was a Sunday: Scotland takes Monday 1 December instead.
    assert not SCT.is_working_day(date(2025, 12, 1))
    assert ENG.is_working_day(date(2025, 12, 1))


def test_other_jurisdictions_holidays() -> None:
    assert not NIR.is_working_day(date(2026, 3, 17))  # St Patrick's Day
    assert ENG.is_working_day(date(2026, 3, 17))
    assert not SCT.is_working_day(date(2026, 8, 3))  # Scottish summer bank holiday
    assert not ENG.is_working_day(date(2026, 8, 31))
    assert SCT.is_working_day(date(2026, 8, 31))


def test_calendar_for_force_uses_the_force_directory() -> None:
    assert calendar_for_force("PSOS").subdivision == "SCT"
    assert calendar_for_force("PSOS_E").subdivision == "SCT"
    assert calendar_for_force("KENT").subdivision == "ENG"
    assert calendar_for_force("GWENT").subdivision == "WLS"
    assert calendar_for_force("PSNI").subdivision == "NIR"
    assert calendar_for_force("KENT") is calendar_for_force("METROPOLITAN")
    with pytest.raises(ContractError):
        calendar_for_force("NOWHERE")


# --- clock hours across the clock changes --------------------------------------------------


def test_24_clock_hours_across_the_march_change_are_24_elapsed_hours() -> None:
    start = at(2026, 3, 28, 12)  # Saturday, GMT; clocks go forward early on Sunday 29th
    due = ENG.clock_hours_after(start, 24)
    assert due == datetime(2026, 3, 29, 13, tzinfo=LONDON)  # 13:00 BST on the wall
    assert due.utcoffset() == timedelta(hours=1)
    # Subtracting two Europe/London datetimes would compare wall clocks (25 h apart here), so
    # elapsed time is measured in UTC.
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)


def test_24_clock_hours_across_the_october_change_are_24_elapsed_hours() -> None:
    start = at(2026, 10, 24, 12)  # Saturday, BST; clocks go back early on Sunday 25th
    due = ENG.clock_hours_after(start, 24)
    assert due.replace(tzinfo=None) == datetime(2026, 10, 25, 11)  # 11:00 GMT on the wall
    assert due.utcoffset() == timedelta(0)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)


def test_clock_hours_inside_the_repeated_october_hour() -> None:
    # 00:30 UTC and 01:30 UTC on 25 Oct 2026 are both 01:30 on London's wall clock.
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    due = ENG.clock_hours_after(start, 1)
    assert due.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert (due.hour, due.fold) == (1, 1)


def test_calendar_days_ignore_weekends_and_holidays() -> None:
    assert SCT.calendar_days_after(at(2026, 12, 23), 3) == end(2026, 12, 26)
    assert ENG.calendar_days_after(at(2026, 11, 1), 28) == end(2026, 11, 29)


# --- properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from([ENG, WLS, SCT, NIR])


@given(calendar=calendars, start=instants, n=st.integers(min_value=1, max_value=60))
def test_working_days_after_lands_on_a_working_day(
    calendar: WorkingCalendar, start: datetime, n: int
) -> None:
    due = calendar.working_days_after(start, n)
    assert calendar.is_working_day(due.date())
    assert due.timetz().replace(tzinfo=None) == time.max
    assert due > start


@given(calendar=calendars, start=instants, n=st.integers(min_value=0, max_value=60))
def test_working_days_between_inverts_working_days_after(
    calendar: WorkingCalendar, start: datetime, n: int
) -> None:
    due = calendar.working_days_after(start, n)
    assert calendar.working_days_between(start, due) == n
    assert calendar.working_days_between(due, start) == -n


@given(calendar=calendars, start=instants, hours=st.integers(min_value=0, max_value=24 * 30))
def test_clock_hours_are_elapsed_hours(
    calendar: WorkingCalendar, start: datetime, hours: int
) -> None:
    due = calendar.clock_hours_after(start, hours)
    assert due.astimezone(UTC) - start == timedelta(hours=hours)

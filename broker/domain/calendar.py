"""Working days, clock hours and calendar days for deadlines, in the owning force's jurisdiction.

No source defines a working day (domain.md §3), so a working day is Monday to Friday except the
bank holidays of the force's jurisdiction, taken from the `holidays` package's UK subdivisions
(ENG, WLS, SCT, NIR; domain.md §10). Scotland has 2 January and St Andrew's Day but no Easter
Monday, so the same limit can fall due on different days for different forces.

Deadline semantics (docs/decisions/0003-working-days.md):

- Counting starts the day after the start: "n working days after" means the nth working day
  strictly after the start's local date (day 0 never counts, wherever in the day it began).
- Day-based limits fall due at the end of that day in Europe/London (23:59:59.999999 local): the
  last instant that is still on time. An answer is late only when it comes after `due_at`.
- Clock-hour limits are elapsed time: 24 clock hours is 24 real hours, also across the March and
  October clock changes.

Every instant returned is timezone-aware in Europe/London; naive datetimes are refused because a
deadline computed from an unknown offset would silently move by an hour twice a year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

from crossforce.contracts.forces import get_force

LONDON: Final = ZoneInfo("Europe/London")
SUBDIVISIONS: Final = frozenset({"ENG", "WLS", "SCT", "NIR"})
_SATURDAY: Final = 5


@lru_cache(maxsize=512)
def _bank_holidays(subdivision: str, year: int) -> frozenset[date]:
    # Building a `holidays` year is slow (it evaluates every rule); a frozenset per
    # (subdivision, year) makes each later lookup one hash probe.
    return frozenset(
        holidays.country_holidays("GB", subdiv=subdivision, years=year, observed=True).keys()
    )


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"deadline arithmetic needs a timezone-aware datetime, got {instant!r}")
    return instant.astimezone(LONDON)


def end_of_day(day: date) -> datetime:
    """The last on-time instant of `day` in Europe/London."""
    return datetime.combine(day, time.max, tzinfo=LONDON)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


class WorkingCalendar:
    """Working days of one jurisdiction: weekdays that are not its bank holidays."""

    __slots__ = ("_is_working", "subdivision")

    def __init__(self, subdivision: str) -> None:
        if subdivision not in SUBDIVISIONS:
            raise ValueError(
                f"unknown bank-holiday subdivision {subdivision!r}; "
                f"expected one of {', '.join(sorted(SUBDIVISIONS))}"
            )
        self.subdivision = subdivision
        # Per-date memo on top of the per-year sets: the sweep asks about the same few
        # hundred dates millions of times.
        self._is_working: dict[date, bool] = {}

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.subdivision!r})"

    # --- days -------------------------------------------------------------------------------

    def is_bank_holiday(self, day: date) -> bool:
        return day in _bank_holidays(self.subdivision, day.year)

    def bank_holiday_name(self, day: date) -> str | None:
        names = holidays.country_holidays(
            "GB", subdiv=self.subdivision, years=day.year, observed=True
        )
        name = names.get(day)
        return None if name is None else str(name)

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = _local(day).date()
        cached = self._is_working.get(day)
        if cached is None:
            cached = day.weekday() < _SATURDAY and not self.is_bank_holiday(day)
            self._is_working[day] = cached
        return cached

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        day -= timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The nth working day strictly after `day` (n > 0), strictly before it (n < 0), or
        `day` itself (n == 0)."""
        step = self.next_working_day if n >= 0 else self.previous_working_day
        for _ in range(abs(n)):
            day = step(day)
        return day

    def working_days_in(self, after: date, up_to: date) -> int:
        """Working days d with after < d <= up_to, negative when up_to is before after."""
        if up_to < after:
            return -self.working_days_in(up_to, after)
        count = 0
        day = after + timedelta(days=1)
        while day <= up_to:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        return count

    # --- deadlines --------------------------------------------------------------------------

    def working_days_after(self, start: datetime, n: int) -> datetime:
        """Due at the end of the nth working day after the start's local date.

        n == 0 is the end of the start's own day. Negative n is refused: a limit is never
        counted backwards (use `add_working_days` for "one working day before").
        """
        if n < 0:
            raise ValueError(f"a working-day limit cannot be negative, got {n}")
        return end_of_day(self.add_working_days(_local(start).date(), n))

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """Signed count of this calendar's working days from a to b, by local date.

        `working_days_between(due_at, answered_at)` is how many of the owner's working days
        an answer was late (0 when it came on the due day or over the following weekend), and
        it inverts `working_days_after`: between(s, working_days_after(s, n)) == n.
        """
        return self.working_days_in(_local(a).date(), _local(b).date())

    @staticmethod
    def clock_hours_after(start: datetime, hours: float) -> datetime:
        """Elapsed-time limit: `hours` real hours later, shown in Europe/London.

        Arithmetic is done in UTC because aware-datetime arithmetic within one zone is
        wall-clock arithmetic in Python, which would give 23 or 25 real hours across a clock
        change.
        """
        return (_local(start).astimezone(UTC) + timedelta(hours=hours)).astimezone(LONDON)

    @staticmethod
    def calendar_days_after(start: datetime, n: int) -> datetime:
        """Due at the end of the local day n calendar days after the start's local date."""
        if n < 0:
            raise ValueError(f"a calendar-day limit cannot be negative, got {n}")
        return end_of_day(_local(start).date() + timedelta(days=n))


@lru_cache(maxsize=len(SUBDIVISIONS))
def calendar_for_subdivision(subdivision: str) -> WorkingCalendar:
    """One shared calendar per subdivision, so its memo is shared too."""
    return WorkingCalendar(subdivision)


@lru_cache(maxsize=128)
def calendar_for_force(code: str) -> WorkingCalendar:
    """The calendar of the jurisdiction of force `code` (raises ContractError UNKNOWN_FORCE)."""
    return calendar_for_subdivision(get_force(code).holiday_subdivision)


def first_late_instant(due_at: datetime) -> datetime:
    """The first instant at which a deadline due at `due_at` has been missed."""
    return due_at + timedelta(microseconds=1)

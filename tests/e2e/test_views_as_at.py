"""`--at`: every column of a view agrees with the chosen time, even when the escalation
ladder has since climbed further."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from crossforce.adapters.web.pages import CaseFilter, case_rows
from crossforce.broker.escalation.overdue import overdue_parts
from tests.e2e.web_hub import LATE_CASE, OPENED, VIEWED, build_hub


def test_a_view_as_at_an_earlier_time_shows_no_later_escalation(tmp_path: Path) -> None:
    hub = build_hub(tmp_path)  # the ladder has run to VIEWED: the late case is red
    [now_psos] = overdue_parts(hub.engine, VIEWED, force="PSOS")
    assert now_psos.red and now_psos.working_days_late == 5
    # Tuesday 10 November: one working day late; the rung that marks red has not fired yet.
    earlier = OPENED + timedelta(days=8)
    [then_psos] = overdue_parts(hub.engine, earlier, force="PSOS")
    assert then_psos.late and then_psos.working_days_late == 1
    assert not then_psos.red and then_psos.level_fired < now_psos.level_fired
    rows, _ = case_rows(hub.engine, "ESSEX", earlier, CaseFilter.ALL)
    late_case = next(r for r in rows if r.summary.case_ref == LATE_CASE)
    assert late_case.late == 2 and not late_case.red
    red_now, _ = case_rows(hub.engine, "ESSEX", VIEWED, CaseFilter.RED)
    assert [r.summary.case_ref for r in red_now] == [LATE_CASE]
    # Before it was due, it is not on the list of late parts at all.
    [before] = overdue_parts(hub.engine, OPENED + timedelta(days=6), force="PSOS")
    assert not before.late and before.level_fired <= 1

"""Deadline rows, timers and escalations against a real database, with an injected clock."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.unit_of_work import SqlDeadlines, SqlUnitOfWork
from crossforce.broker.bootstrap import sql_units
from crossforce.broker.domain import commands as c
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.handling import handle
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.routes import Route
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, due_at
from crossforce.broker.escalation.service import EscalationService
from crossforce.broker.service.deadlines import (
    deadline_id_for,
    deadline_id_from_subject,
    schedule_instant,
    sync_deadlines,
    timer_message,
)
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.contracts.envelope import parse_envelope
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.signing import verify_envelope

POLICY = SlaPolicy()
PKI = EphemeralPki(["HUB", "KENT", "ESSEX", "PSOS"], now=datetime(2026, 11, 1, tzinfo=UTC))
# Monday 23 November 2026, mid-morning: the enquiry goes to the responding force.
REQUESTED_AT = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
MICROSECOND = timedelta(microseconds=1)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=LONDON)


class Clock:
    """The injected clock: tests move it by hand and nothing sleeps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'crossforce.db'}")
    schema.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _case_with_enquiry(ref: str, responding: str, requested_at: datetime = REQUESTED_AT) -> Case:
    case, _ = handle(
        None,
        c.OpenCase(
            case_ref=ref,
            actor="KENT",
            at=requested_at - timedelta(hours=1),
            receiving_force="KENT",
            coordinating_force="KENT",
            route=Route.RIGHT_TO_ASK,
            parties=(
                Party("A", PartyRole.A, "KENT", is_applicant=True, identity_verified=True),
                Party("B", PartyRole.B, responding, subject_key=f"subject-{ref}"),
            ),
        ),
    )
    # These scenarios are about the enquiry's deadline alone: the case's own step clocks
    # (tests/unit/escalation/test_step_clocks.py) are stopped at once.
    for step in (SlaStep.EW_FORUM_REFERRAL, SlaStep.EW_RTA_WHOLE_ENQUIRY):
        case, _ = handle(
            case,
            c.CompleteStep(case_ref=ref, actor="KENT", at=requested_at, step=step.value),
        )
    due = due_at(SlaStep.RESPONDING_FORCE_ANSWER, requested_at, responding, POLICY)
    case, _ = handle(
        case,
        c.RequestEnquiry(case_ref=ref, actor="KENT", at=requested_at, party_id="B", due_at=due),
    )
    return case


def _enquiry(case: Case) -> str:
    [part] = [p for p in case.parts_needing_timers() if p.due_at is not None]
    return part.part_id


def _save(engine: Engine, case: Case, now: datetime) -> list[OutboundMessage]:
    with SqlUnitOfWork(engine) as uow:
        if uow.cases.get(case.case_ref) is None:
            uow.cases.save(case.case_ref, case.version, {}, case.index_columns(), (), now, None)
        sync_deadlines(uow, case, now, POLICY)
        return list(uow.outbound)


def _service(engine: Engine, clock: Clock) -> EscalationService:
    return EscalationService(sql_units(engine), PKI.key("HUB"), clock, POLICY)


def _deliveries(outbound: list[OutboundMessage]) -> list[tuple[str, str, dict[str, Any]]]:
    """(recipient force, message name, data) for each delivery, signature checked."""
    found = []
    trust = PKI.trust_store()
    for message in outbound:
        if not message.subject.startswith("cf.out."):
            continue
        envelope = parse_envelope(message.payload)
        verify_envelope(envelope, trust)
        REGISTRY.open(envelope)
        [force] = envelope.recipient_codes
        assert message.subject == subjects.delivery_subject(force)
        found.append((force, envelope.name, envelope.data))
    return found


def _row(engine: Engine, deadline_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            select(schema.deadlines).where(schema.deadlines.c.deadline_id == deadline_id)
        )
        return dict(row.mappings().one())


def _red(engine: Engine, case_ref: str) -> bool:
    with engine.connect() as connection:
        query = select(schema.cases.c.red).where(schema.cases.c.case_ref == case_ref)
        return bool(connection.execute(query).scalar_one())


# ------------------------------------------------------------------------------ timers


def test_timer_message_is_a_schedule_at_the_next_whole_second() -> None:
    message = timer_message("CF-1_part-2", local(2026, 12, 1, 0, 0, 0) + MICROSECOND)
    assert message.subject == "cf.timer.sched.CF-1_part-2"
    assert message.headers == {
        "Nats-Schedule": "@at 2026-12-01T00:00:01Z",
        "Nats-Schedule-Target": "cf.timer.fire.CF-1_part-2",
    }
    assert message.msg_id == "timer/CF-1_part-2/2026-12-01T00:00:01Z"
    # British Summer Time is converted to UTC, and a whole second is kept as it is.
    assert schedule_instant(local(2026, 6, 1, 9)) == datetime(2026, 6, 1, 8, tzinfo=UTC)
    assert deadline_id_from_subject(subjects.timer_fire_subject("CF-1_part-2")) == "CF-1_part-2"


def test_deadline_ids_are_single_subject_tokens() -> None:
    assert deadline_id_for("CF.9 X", "part-2") == "CF-9-X_part-2"


# --------------------------------------------------------------------------- scenarios


def test_st_andrews_day_gives_police_scotland_one_more_working_day(engine: Engine) -> None:
    scottish = _case_with_enquiry("CF-SCOT", "PSOS")
    english = _case_with_enquiry("CF-ENG", "ESSEX")
    armed = _save(engine, scottish, REQUESTED_AT) + _save(engine, english, REQUESTED_AT)
    scot_id = deadline_id_for("CF-SCOT", _enquiry(scottish))
    eng_id = deadline_id_for("CF-ENG", _enquiry(english))

    # Five working days from Monday 23 November: Monday 30th for Essex, but Tuesday
    # 1 December for Police Scotland, because 30 November is St Andrew's Day.
    assert _row(engine, eng_id)["due_at"].date().isoformat() == "2026-11-30"
    assert _row(engine, scot_id)["due_at"].date().isoformat() == "2026-12-01"
    # Both are armed for the reminder at 09:00 on the working day before (Friday 27th).
    schedules = {m.subject: m.headers["Nats-Schedule"] for m in armed}
    assert schedules == {
        subjects.timer_schedule_subject(scot_id): "@at 2026-11-27T09:00:00Z",
        subjects.timer_schedule_subject(eng_id): "@at 2026-11-27T09:00:00Z",
    }

    clock = Clock(local(2026, 11, 27, 9))
    service = _service(engine, clock)
    reminders = _deliveries(service.fire_due())
    assert sorted((force, name) for force, name, _ in reminders) == [
        ("ESSEX", "deadline-reminder"),
        ("PSOS", "deadline-reminder"),
    ]

    # Late from the first instant of 1 December, told at the start of that working day:
    # Essex has missed its deadline, Police Scotland has not.
    clock.now = local(2026, 12, 1) + MICROSECOND
    assert _deliveries(service.fire_due()) == []
    clock.now = local(2026, 12, 1, 9)
    overdue = _deliveries(service.fire_due())
    assert sorted((force, name) for force, name, _ in overdue) == [
        ("ESSEX", "overdue-notice"),
        ("KENT", "overdue-notice"),
    ]
    assert {data["owner_force"] for _, _, data in overdue} == {"ESSEX"}
    assert {data["working_days_late"] for _, _, data in overdue} == {1}
    assert _row(engine, scot_id)["fired_levels"] == [1]

    # A day later the Scottish part is overdue too, one of its own working days late.
    clock.now = local(2026, 12, 2, 9)
    scots = _deliveries(service.fire_due())
    assert sorted((force, name) for force, name, _ in scots) == [
        ("KENT", "overdue-notice"),
        ("PSOS", "overdue-notice"),
    ]
    assert {data["working_days_late"] for _, _, data in scots} == {1}
    assert _row(engine, scot_id)["fired_levels"] == [1, 2]
    assert not _red(engine, "CF-SCOT")

    # Two more working days each and the co-ordinating force's senior officer is told; the
    # English escalation also comes a day earlier, and the case is marked red.
    clock.now = local(2026, 12, 3, 9)
    english_escalation = _deliveries(service.fire_due())
    assert [(f, n) for f, n, _ in english_escalation] == [("KENT", "escalation-raised")]
    assert english_escalation[0][2]["escalated_to"] == "KENT"
    assert _red(engine, "CF-ENG") and not _red(engine, "CF-SCOT")
    clock.now = local(2026, 12, 4, 9)
    assert [(f, n) for f, n, _ in _deliveries(service.fire_due())] == [
        ("KENT", "escalation-raised")
    ]
    assert _red(engine, "CF-SCOT")
    assert _row(engine, scot_id)["next_fire_at"] is None  # the ladder is exhausted


def test_history_disclosure_log_and_delay_task_are_recorded(engine: Engine) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    _save(engine, case, REQUESTED_AT)
    clock = Clock(local(2026, 12, 1, 9))
    outbound = _service(engine, clock).fire_due()

    # The reminder went stale while the hub was down: only the overdue notice goes out.
    assert sorted((f, n) for f, n, _ in _deliveries(outbound)) == [
        ("ESSEX", "overdue-notice"),
        ("KENT", "overdue-notice"),
    ]
    kent = next(m for m in outbound if m.subject == subjects.delivery_subject("KENT"))
    assert kent.headers["Crossforce-Task"] == "delay-notified"
    assert kent.headers["Crossforce-Audience"] == "supervisor"
    deadline_id = deadline_id_for("CF-ENG", _enquiry(case))
    assert kent.msg_id == f"esc/{deadline_id}/v1/2/KENT"
    logged = [m for m in outbound if m.subject == subjects.caselog_subject("CF-ENG")]
    assert len(logged) == 2
    with engine.connect() as connection:
        history = connection.execute(
            select(schema.case_history.c.event, schema.case_history.c.summary)
        ).all()
        disclosures = connection.execute(
            select(schema.disclosure_log.c.disclosed_to, schema.disclosure_log.c.message_type)
        ).all()
    assert [event for event, _ in history] == ["overdue-notice", "task-created"]
    assert "KENT to tell the applicant" in history[1][1]
    assert sorted(to for to, _ in disclosures) == ["ESSEX", "KENT"]
    assert {kind for _, kind in disclosures} == {"uk.police.dvds.overdue-notice.v1"}
    # Re-armed for the next rung, under a new arming id.
    [rearm] = [m for m in outbound if m.subject.startswith("cf.timer.sched.")]
    assert rearm.headers["Nats-Schedule"] == "@at 2026-12-03T09:00:00Z"


def test_an_answer_a_minute_before_the_deadline_escalates_nothing(engine: Engine) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    part_id = _enquiry(case)
    deadline_id = deadline_id_for("CF-ENG", part_id)
    _save(engine, case, REQUESTED_AT)
    clock = Clock(local(2026, 11, 27, 9))
    service = _service(engine, clock)
    assert len(_deliveries(service.fire_due())) == 1  # the reminder

    answered = local(2026, 11, 30, 23, 59) - MICROSECOND
    case, _ = handle(
        case, c.AcknowledgeEnquiry(case_ref="CF-ENG", actor="ESSEX", at=answered, part_id=part_id)
    )
    still_open = _save(engine, case, answered)
    assert still_open == []  # acknowledged, not answered: the same timer stands
    case, _ = handle(
        case,
        c.RecordEnquiryResult(
            case_ref="CF-ENG",
            actor="ESSEX",
            at=answered,
            part_id=part_id,
            concern=False,
            summary="No trace",
        ),
    )
    [cancel] = _save(engine, case, answered)
    assert cancel.subject == subjects.timer_schedule_subject(deadline_id)
    assert cancel.headers == {"Nats-Rollup": "sub"}
    assert _row(engine, deadline_id)["status"] == "closed"

    for now in (local(2026, 12, 1) + MICROSECOND, local(2026, 12, 10)):
        clock.now = now
        assert service.fire_due() == []
        # The timer the response replaced may still fire: it finds the deadline closed.
        assert service.fire_due(deadline_id=deadline_id) == []
    assert not _red(engine, "CF-ENG")


def test_firing_again_is_idempotent(engine: Engine) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    deadline_id = deadline_id_for("CF-ENG", _enquiry(case))
    _save(engine, case, REQUESTED_AT)
    clock = Clock(local(2026, 12, 1, 9, 0, 1))
    service = _service(engine, clock)
    first = service.fire_due(deadline_id=deadline_id)
    assert len(_deliveries(first)) == 2
    row = _row(engine, deadline_id)
    assert service.fire_due() == []
    assert service.fire_due(deadline_id=deadline_id) == []
    clock.now = local(2026, 12, 2, 12)
    assert service.fire_due() == []
    assert _row(engine, deadline_id) == row
    # Syncing the unchanged case neither re-arms nor resets anything.
    assert _save(engine, case, clock.now) == []
    assert _row(engine, deadline_id) == row


def test_a_deadline_another_hub_fired_meanwhile_is_left_to_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    deadline_id = deadline_id_for("CF-ENG", _enquiry(case))
    _save(engine, case, REQUESTED_AT)
    before = _row(engine, deadline_id)
    with SqlUnitOfWork(engine) as uow:
        queued = uow.outbox.unsent()
    read = SqlDeadlines.get

    def read_before_the_other_hub_committed(
        self: SqlDeadlines, wanted: str
    ) -> dict[str, Any] | None:
        row = read(self, wanted)
        return None if row is None else {**row, "version": int(row["version"]) - 1}

    monkeypatch.setattr(SqlDeadlines, "get", read_before_the_other_hub_committed)
    service = _service(engine, Clock(local(2026, 12, 1, 9, 0, 1)))
    # Its version check fails at commit: nothing is sent and the row is the other hub's.
    assert service.fire_due(deadline_id=deadline_id) == []
    assert _row(engine, deadline_id) == before
    with SqlUnitOfWork(engine) as uow:
        assert uow.outbox.unsent() == queued


def test_a_timer_that_fires_early_sends_nothing(engine: Engine) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    deadline_id = deadline_id_for("CF-ENG", _enquiry(case))
    _save(engine, case, REQUESTED_AT)
    clock = Clock(local(2026, 11, 27, 8, 59, 59))
    assert _service(engine, clock).fire_due(deadline_id=deadline_id) == []
    assert _row(engine, deadline_id)["fired_levels"] == []


def test_reassignment_starts_a_fresh_ladder_for_the_new_owner(engine: Engine) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    part_id = _enquiry(case)
    deadline_id = deadline_id_for("CF-ENG", part_id)
    _save(engine, case, REQUESTED_AT)
    clock = Clock(local(2026, 12, 3, 12))
    _service(engine, clock).fire_due()
    assert _row(engine, deadline_id)["fired_levels"] == [2, 3]
    assert _red(engine, "CF-ENG")

    moved = clock.now
    case, _ = handle(
        case,
        c.ReassignEnquiry(
            case_ref="CF-ENG",
            actor="KENT",
            at=moved,
            part_id=part_id,
            to_force="PSOS",
            reason="B has moved",
        ),
    )
    case.set_part_due(part_id, due_at(SlaStep.RESPONDING_FORCE_ANSWER, moved, "PSOS", POLICY))
    [armed] = _save(engine, case, moved)
    row = _row(engine, deadline_id)
    assert (row["owner_force"], row["fired_levels"], row["red"]) == ("PSOS", [], False)
    assert armed.headers["Nats-Schedule"] == "@at 2026-12-09T09:00:00Z"
    assert not _red(engine, "CF-ENG")


def test_immediate_risk_moves_the_deadline_to_the_clock_hour_ladder(engine: Engine) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    deadline_id = deadline_id_for("CF-ENG", _enquiry(case))
    _save(engine, case, REQUESTED_AT)
    raised = REQUESTED_AT + timedelta(hours=1)
    case, _ = handle(
        case, c.RaiseImmediateRisk(case_ref="CF-ENG", actor="KENT", at=raised, summary="threat")
    )
    assert case.priority
    [armed] = _save(engine, case, raised)
    # Two clock hours before the end of Monday 30th.
    assert armed.headers["Nats-Schedule"] == "@at 2026-11-30T22:00:00Z"
    assert _row(engine, deadline_id)["immediate_risk"] is True


# ------------------------------------------------------------------------- concurrency


def _many_cases(engine: Engine, count: int) -> list[str]:
    ids = []
    for n in range(count):
        responding = ("ESSEX", "PSOS")[n % 2]
        case = _case_with_enquiry(f"CF-{n}", responding)
        _save(engine, case, REQUESTED_AT)
        ids.append(deadline_id_for(case.case_ref, _enquiry(case)))
    return ids


def _fire_concurrently(urls: tuple[str, str], now: datetime) -> list[list[OutboundMessage]]:
    engines = [make_engine(url) for url in urls]
    services = [_service(e, Clock(now)) for e in engines]
    barrier = threading.Barrier(len(services))
    results: list[list[OutboundMessage]] = [[] for _ in services]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = services[index].fire_due()
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(services))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for e in engines:
        e.dispose()
    assert not errors, errors
    return results


def _assert_each_level_once(engine: Engine, results: list[list[OutboundMessage]]) -> None:
    sent = Counter(m.msg_id for batch in results for m in batch if m.msg_id.startswith("esc/"))
    assert sent and max(sent.values()) == 1
    with engine.connect() as connection:
        logged = Counter(
            (row.case_ref, row.disclosed_to, row.message_type)
            for row in connection.execute(select(schema.disclosure_log))
        )
        history = Counter(
            (row.case_ref, row.event) for row in connection.execute(select(schema.case_history))
        )
    assert max(logged.values()) == 1
    assert max(history.values()) == 1
    assert len(logged) == sum(1 for msg_id in sent if not msg_id.endswith("/log"))


def test_two_hubs_on_one_sqlite_file_fire_each_level_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    schema.metadata.create_all(engine)
    ids = _many_cases(engine, 12)
    all_results: list[list[OutboundMessage]] = []
    for now in (local(2026, 11, 27, 9), local(2026, 12, 1, 12), local(2026, 12, 4, 12)):
        all_results += _fire_concurrently((url, url), now)
    _assert_each_level_once(engine, all_results)
    with engine.connect() as connection:
        fired = [
            row.fired_levels for row in connection.execute(select(schema.deadlines.c.fired_levels))
        ]
    assert fired == [[1, 2, 3]] * len(ids)
    engine.dispose()


@pytest.mark.postgres
def test_two_hubs_on_postgresql_fire_each_level_once(fresh_postgres_url: str) -> None:
    engine = make_engine(fresh_postgres_url)
    schema.metadata.create_all(engine)
    _many_cases(engine, 12)
    all_results: list[list[OutboundMessage]] = []
    for now in (local(2026, 11, 27, 9), local(2026, 12, 1, 12), local(2026, 12, 4, 12)):
        all_results += _fire_concurrently((fresh_postgres_url, fresh_postgres_url), now)
    _assert_each_level_once(engine, all_results)
    engine.dispose()


# ------------------------------------------------------------------ crossforce overdue


def test_overdue_lists_late_and_soon_due_parts_in_the_owners_working_days(
    engine: Engine,
) -> None:
    from crossforce.broker.escalation.overdue import overdue_parts

    for ref, responding in (("CF-SCOT", "PSOS"), ("CF-ENG", "ESSEX")):
        _save(engine, _case_with_enquiry(ref, responding), REQUESTED_AT)
    now = local(2026, 12, 1, 12)
    _service(engine, Clock(now)).fire_due()

    parts = overdue_parts(engine, now)
    summary = [
        (p.owner_force, p.case_ref, p.working_days_late, p.late, p.level_fired) for p in parts
    ]
    # Essex is a working day late; Police Scotland is due today, thanks to St Andrew's Day.
    assert summary == [("ESSEX", "CF-ENG", 1, True, 2), ("PSOS", "CF-SCOT", 0, False, 1)]
    assert [p.owner_force for p in overdue_parts(engine, now, force="PSOS")] == ["PSOS"]
    # A week earlier both are more than two working days away.
    assert overdue_parts(engine, local(2026, 11, 24, 12)) == []
    assert len(overdue_parts(engine, local(2026, 11, 24, 12), within_days=5)) == 2


def test_overdue_command_prints_a_table_by_owner(engine: Engine) -> None:
    from typer.testing import CliRunner

    from crossforce.broker.cli.overdue_cmd import app

    _save(engine, _case_with_enquiry("CF-ENG", "ESSEX"), REQUESTED_AT)
    _service(engine, Clock(local(2026, 12, 3, 9))).fire_due()
    url = str(engine.url)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["--db-url", url, "--at", "2026-12-03T09:00:00", "--force", "essex"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "CF-ENG" in result.output and "ESSEX" in result.output
    assert "escalation-raised" in result.output and "RED" in result.output
    assert "1 late, 0 due soon." in result.output
    nothing = runner.invoke(app, ["--db-url", url, "--at", "2026-11-23T12:00:00"])
    assert nothing.exit_code == 0 and "Nothing late" in nothing.output


def test_each_notice_is_recorded_for_its_recipient_to_acknowledge(engine: Engine) -> None:
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    _save(engine, case, REQUESTED_AT)
    outbound = _service(engine, Clock(local(2026, 12, 1, 9))).fire_due()
    sent = {
        parse_envelope(m.payload).id: force
        for force in ("ESSEX", "KENT")
        for m in outbound
        if m.subject == subjects.delivery_subject(force)
    }
    with engine.connect() as connection:
        rows = connection.execute(select(schema.escalation_notices)).mappings().all()
    assert {row["envelope_id"]: row["sent_to"] for row in rows} == sent
    assert {(r["part_id"], r["step"], r["level"], r["message_type"]) for r in rows} == {
        (_enquiry(case), "cross-force.responding-force-answer", 2, "overdue-notice")
    }


def test_a_ladder_that_starts_again_sends_its_notices_again(engine: Engine) -> None:
    """After an agreed extension the same deadline climbs the same levels again: each notice
    is a new message, not a repeat the outbox or JetStream may drop as a duplicate."""
    case = _case_with_enquiry("CF-ENG", "ESSEX")
    _save(engine, case, REQUESTED_AT)
    first = _service(engine, Clock(local(2026, 12, 1, 9))).fire_due()
    assert ("ESSEX", "overdue-notice") in [(f, n) for f, n, _ in _deliveries(first)]
    part = case.part(_enquiry(case))
    assert part.due_at is not None
    part.due_at = part.due_at + timedelta(days=14)
    _save(engine, case, local(2026, 12, 1, 10))
    again = _service(engine, Clock(local(2026, 12, 16, 9))).fire_due()
    assert ("ESSEX", "overdue-notice") in [(f, n) for f, n, _ in _deliveries(again)]
    assert not {m.msg_id for m in first} & {m.msg_id for m in again}

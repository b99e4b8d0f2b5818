"""Deadline timers through a real nats-server: JetStream schedules, the `hub_timers`
consumer and the reconciliation sweep, each level fired exactly once.

The server fires schedules on its own wall clock, so these tests use real time and arm
deadlines a couple of seconds ahead; they wait on the server, never on a sleeping clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy import Engine, select

from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.provisioning import Topology, provision
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.unit_of_work import SqlUnitOfWork
from crossforce.broker.bootstrap import sql_units
from crossforce.broker.domain import commands as c
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.handling import handle
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.routes import Route
from crossforce.broker.escalation.service import EscalationService
from crossforce.broker.hub.publisher import OutboxPublisher
from crossforce.broker.hub.timers import register_timer_subscriber, sweep_forever
from crossforce.broker.service.deadlines import deadline_id_for, sync_deadlines
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.contracts.envelope import parse_envelope
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import verify_envelope

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

FORCES = ("KENT", "ESSEX")
PKI = EphemeralPki(["HUB", *FORCES])
# The immediate-risk ladder reminds the owner two clock hours before due.
REMINDER_LEAD = timedelta(hours=2)


def real_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Harness:
    server: EmbeddedNats
    engine: Engine
    nc: Client
    js: JetStreamContext

    def service(self, clock: Callable[[], datetime] = real_clock) -> EscalationService:
        return EscalationService(sql_units(self.engine), PKI.key("HUB"), clock)

    def publisher(self) -> OutboxPublisher:
        return OutboxPublisher(self.js, sql_units(self.engine), real_clock)

    async def reconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.nc.close()
        self.nc = await nats.connect(self.server.url)
        self.js = self.nc.jetstream()


@pytest.fixture()
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    server = EmbeddedNats(tmp_path / "nats").start()
    engine = make_engine(f"sqlite:///{tmp_path / 'crossforce.db'}")
    schema.metadata.create_all(engine)
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    await provision(js, Topology(forces=FORCES, partitions=1))
    h = Harness(server, engine, nc, js)
    try:
        yield h
    finally:
        with contextlib.suppress(Exception):
            await h.nc.close()
        engine.dispose()
        server.stop()


def immediate_risk_case(ref: str, reminder_at: datetime) -> Case:
    """A high-risk enquiry to Essex whose reminder falls due at `reminder_at`."""
    opened_at = real_clock() - timedelta(minutes=5)
    case, _ = handle(
        None,
        c.OpenCase(
            case_ref=ref,
            actor="KENT",
            at=opened_at,
            receiving_force="KENT",
            coordinating_force="KENT",
            route=Route.RIGHT_TO_ASK,
            parties=(
                Party("A", PartyRole.A, "KENT", is_applicant=True, identity_verified=True),
                Party("B", PartyRole.B, "ESSEX", subject_key=f"subject-{ref}"),
            ),
        ),
    )
    case, _ = handle(
        case,
        c.RaiseImmediateRisk(case_ref=ref, actor="KENT", at=opened_at, summary="threat to life"),
    )
    case, _ = handle(
        case,
        c.RequestEnquiry(
            case_ref=ref,
            actor="KENT",
            at=opened_at,
            party_id="B",
            due_at=reminder_at + REMINDER_LEAD,
        ),
    )
    return case


def arm(h: Harness, case: Case) -> tuple[str, list[OutboundMessage]]:
    with SqlUnitOfWork(h.engine) as uow:
        sync_deadlines(uow, case, real_clock())
        outbound = list(uow.outbound)
    [part] = [p for p in case.parts_needing_timers() if p.due_at is not None]
    return deadline_id_for(case.case_ref, part.part_id), outbound


@contextlib.asynccontextmanager
async def running_hub(
    h: Harness, *, sweep_interval: float | None = None
) -> AsyncIterator[NatsBroker]:
    """One hub replica: the timer consumer, plus the sweep when an interval is given."""
    broker = NatsBroker(h.server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    service = h.service()
    state: dict[str, OutboxPublisher] = {}

    def publisher() -> OutboxPublisher:
        if "publisher" not in state:
            js = broker.config.connection_state.stream
            state["publisher"] = OutboxPublisher(js, sql_units(h.engine), real_clock)
        return state["publisher"]

    register_timer_subscriber(broker, service, publisher)
    await broker.start()
    sweep = None
    if sweep_interval is not None:
        sweep = asyncio.create_task(sweep_forever(service, publisher(), sweep_interval))
    try:
        yield broker
    finally:
        if sweep is not None:
            sweep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweep
        await broker.stop()


def fired_levels(h: Harness, deadline_id: str) -> list[int]:
    with h.engine.connect() as connection:
        query = select(schema.deadlines.c.fired_levels).where(
            schema.deadlines.c.deadline_id == deadline_id
        )
        return list(connection.execute(query).scalar_one())


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def deliveries(h: Harness, force: str) -> Counter[tuple[str, str]]:
    """(case, message name) of everything in `force`'s delivery subject, signatures checked."""
    sub = await h.js.subscribe(
        f"cf.out.{force}.>", stream=subjects.DELIVERY_STREAM, ordered_consumer=True
    )
    found: Counter[tuple[str, str]] = Counter()
    trust = PKI.trust_store()
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1.0)
            except nats.errors.TimeoutError:
                return found
            if not subjects.is_delivery(msg.subject):
                continue
            # These cases carry immediate risk: their escalations use the priority queue.
            assert msg.subject == subjects.priority_subject(force)
            envelope = parse_envelope(msg.data)
            verify_envelope(envelope, trust)
            found[(envelope.caseref, envelope.name)] += 1
    finally:
        await sub.unsubscribe()


def disclosures(h: Harness) -> Counter[tuple[str, str, str]]:
    with h.engine.connect() as connection:
        rows = connection.execute(select(schema.disclosure_log))
        return Counter((r.case_ref, r.disclosed_to, r.message_type) for r in rows)


REMINDER = "uk.police.dvds.deadline-reminder.v1"


async def test_an_armed_timer_fires_through_the_hub_timers_consumer(harness: Harness) -> None:
    h = harness
    deadline_id, armed = arm(h, immediate_risk_case("CF-T1", real_clock() + timedelta(seconds=2)))
    await h.publisher().publish(armed)
    async with running_hub(h):
        await wait_for(lambda: fired_levels(h, deadline_id) == [1])
        await asyncio.sleep(0.5)  # let the publish that follows the commit complete
    assert await deliveries(h, "ESSEX") == Counter({("CF-T1", "deadline-reminder"): 1})
    assert disclosures(h) == Counter({("CF-T1", "ESSEX", REMINDER): 1})
    # The firing re-armed the timer for the overdue notice, two hours on.
    info = await h.js.consumer_info(subjects.TIMER_STREAM, "hub_timers")
    assert info.num_pending == 0 and info.num_ack_pending == 0
    last = await h.js.get_last_msg(
        subjects.TIMER_STREAM, subjects.timer_schedule_subject(deadline_id)
    )
    assert last.headers is not None and last.headers["Nats-Schedule"].startswith("@at ")


async def test_a_timer_survives_a_nats_restart_and_fires_once(harness: Harness) -> None:
    h = harness
    deadline_id, armed = arm(h, immediate_risk_case("CF-T2", real_clock() + timedelta(seconds=4)))
    await h.publisher().publish(armed)
    await h.nc.close()
    h.server.restart()
    await h.reconnect()
    async with running_hub(h):
        await wait_for(lambda: fired_levels(h, deadline_id) == [1])
        await asyncio.sleep(0.5)
    assert await deliveries(h, "ESSEX") == Counter({("CF-T2", "deadline-reminder"): 1})
    assert disclosures(h) == Counter({("CF-T2", "ESSEX", REMINDER): 1})


async def test_a_timer_due_while_the_hub_is_stopped_fires_once_after_restart(
    harness: Harness,
) -> None:
    h = harness
    # One timer fires while no hub runs; the other's schedule never reached NATS at all (the
    # hub crashed before its outbox was published), so only the sweep can find it.
    soon = real_clock() + timedelta(seconds=2)
    fired_while_down, armed = arm(h, immediate_risk_case("CF-T3", soon))
    await h.publisher().publish(armed)
    never_armed, _ = arm(h, immediate_risk_case("CF-T4", soon))

    async def fire_waiting() -> bool:
        info = await h.js.consumer_info(subjects.TIMER_STREAM, "hub_timers")
        return info.num_pending >= 1

    deadline = time.monotonic() + 20
    while not await fire_waiting():
        assert time.monotonic() < deadline, "the schedule did not fire"
        await asyncio.sleep(0.1)
    assert fired_levels(h, fired_while_down) == [] and fired_levels(h, never_armed) == []

    # The restarted hub runs both paths at once: the pending fire and the sweep race for
    # CF-T3, and the optimistic version check lets exactly one of them send it.
    async with running_hub(h, sweep_interval=0.2):
        await wait_for(
            lambda: fired_levels(h, fired_while_down) == [1] and fired_levels(h, never_armed) == [1]
        )
        await asyncio.sleep(1.0)
    assert await deliveries(h, "ESSEX") == Counter(
        {("CF-T3", "deadline-reminder"): 1, ("CF-T4", "deadline-reminder"): 1}
    )
    assert disclosures(h) == Counter(
        {("CF-T3", "ESSEX", REMINDER): 1, ("CF-T4", "ESSEX", REMINDER): 1}
    )
    info = await h.js.consumer_info(subjects.TIMER_STREAM, "hub_timers")
    assert info.num_pending == 0 and info.num_ack_pending == 0


async def test_two_hub_replicas_send_one_escalation(harness: Harness) -> None:
    h = harness
    # Both replicas share the `hub_timers` consumer and both sweep every 0.2 s, so the
    # scheduled fire and two sweeps race for the same level; one of them may send it.
    deadline_id, armed = arm(h, immediate_risk_case("CF-T5", real_clock() + timedelta(seconds=2)))
    await h.publisher().publish(armed)
    async with running_hub(h, sweep_interval=0.2), running_hub(h, sweep_interval=0.2):
        await wait_for(lambda: fired_levels(h, deadline_id) == [1])
        await asyncio.sleep(1.5)  # time for any second sending to show itself
    assert await deliveries(h, "ESSEX") == Counter({("CF-T5", "deadline-reminder"): 1})
    assert disclosures(h) == Counter({("CF-T5", "ESSEX", REMINDER): 1})

"""ForceClient's delivery intake, in process: a pull per delivery consumer feeding one queue
that hands out immediate risk first (docs/decisions/0009-immediate-risk-queue.md).

The NATS connection is a stand-in that answers pull requests as the server does; an open
request waits until the test publishes something, as a long poll does. Nothing here reads a
clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from crossforce.adapters.client import force_client as sdk
from crossforce.adapters.client.force_client import (
    UNVERIFIED_RETRY_SECONDS,
    Delivery,
    ForceClient,
)
from crossforce.adapters.nats import subjects
from crossforce.contracts.compose import compose
from crossforce.contracts.delivery_note import PRIORITY_HEADER, DeliveryFlags, signed_headers
from crossforce.contracts.examples import example
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CASE = "CF-2026-000123"


class FakeMsg:
    """A message as nats-py hands it to a subscription: records how it was settled."""

    def __init__(
        self, label: str, data: bytes, headers: dict[str, str], subject: str = "cf.out"
    ) -> None:
        self.label = label
        self.subject = subject
        self.data = data
        self.headers = headers
        self.acks = 0
        self.naks: list[float | None] = []
        self.taken_in = False  # the subscription's callback has finished with it

    async def ack(self) -> None:
        self.acks += 1

    async def nak(self, delay: float | None = None) -> None:
        self.naks.append(delay)

    @property
    def settled(self) -> bool:
        return bool(self.acks or self.naks)


def status(code: str, description: str, reply: str) -> FakeMsg:
    return FakeMsg(code, b"", {"Status": code, "Description": description}, reply)


class FakeSubscription:
    """A callback subscription: messages are handed to the callback one at a time, in a
    task of their own, as nats-py does."""

    def __init__(self, subject: str, cb: Callable[[Any], Awaitable[None]]) -> None:
        assert subject.endswith(".*")
        self.prefix = subject[:-1]
        self.cb = cb
        self.interested = True
        self.drained = False
        self._queue: asyncio.Queue[FakeMsg] = asyncio.Queue()
        self._task = asyncio.create_task(self._dispatch())

    def deliver(self, msg: FakeMsg) -> None:
        self._queue.put_nowait(msg)

    async def _dispatch(self) -> None:
        while True:
            msg = await self._queue.get()
            try:
                await self.cb(msg)
                msg.taken_in = True
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        self.interested = False  # the server drops its open requests
        await self._queue.join()
        self._task.cancel()
        self.drained = True


@dataclass
class PullRequest:
    reply: str
    subscription: FakeSubscription
    batch: int
    no_wait: bool


class FakeConsumer:
    """A durable pull consumer as the server runs it: a no_wait request is answered at once
    (what is there, then 404 if that is short of the batch); any other stays open, bringing
    each message as it is published, until its batch is filled. Nothing expires."""

    def __init__(self) -> None:
        self.stream: list[FakeMsg] = []
        self.pulled: list[FakeMsg] = []
        self.requests: list[PullRequest] = []  # every request made, in order
        self.open: list[PullRequest] = []
        self.held_back = False  # requests wait unanswered until `answer()`
        self.refuse_next = ""  # a status code to answer the next request with

    def publish(self, *messages: FakeMsg) -> None:
        self.stream.extend(messages)
        self._serve()

    def request(self, request: PullRequest) -> None:
        self.requests.append(request)
        if self.refuse_next:
            code, self.refuse_next = self.refuse_next, ""
            request.subscription.deliver(status(code, "refused", request.reply))
            return
        self.open.append(request)
        self._serve()

    def answer(self) -> None:
        self.held_back = False
        self._serve()

    def _serve(self) -> None:
        if self.held_back:
            return
        for request in list(self.open):
            if not request.subscription.interested:
                self.open.remove(request)
                continue
            while request.batch and self.stream:
                msg = self.stream.pop(0)
                self.pulled.append(msg)
                request.subscription.deliver(msg)
                request.batch -= 1
            if request.batch == 0:
                self.open.remove(request)
            elif request.no_wait:
                request.subscription.deliver(status("404", "No Messages", request.reply))
                self.open.remove(request)

    @property
    def waiting(self) -> list[PullRequest]:
        return [request for request in self.open if request.subscription.interested]


class FakeNats:
    """The force's NATS connection: pull requests reach the two delivery consumers."""

    def __init__(self, force: str) -> None:
        self.urgent = FakeConsumer()
        self.routine = FakeConsumer()
        self.subscriptions: list[FakeSubscription] = []
        self.closed = False
        stream = subjects.DELIVERY_STREAM
        self._consumers = {
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{subjects.priority_consumer(force)}": self.urgent,
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{subjects.delivery_consumer(force)}": self.routine,
        }
        self._inboxes = itertools.count()

    def new_inbox(self) -> str:
        return f"_INBOX_ESSEX.{next(self._inboxes)}"

    async def subscribe(self, subject: str, cb: Callable[[Any], Awaitable[None]]) -> Any:
        subscription = FakeSubscription(subject, cb)
        self.subscriptions.append(subscription)
        return subscription

    async def publish(self, subject: str, payload: bytes, reply: str = "") -> None:
        ask = json.loads(payload)
        assert ask["batch"] >= 1 and ("no_wait" in ask) != ("expires" in ask)
        [subscription] = [
            s for s in self.subscriptions if s.interested and reply.startswith(s.prefix)
        ]
        self._consumers[subject].request(
            PullRequest(reply, subscription, ask["batch"], bool(ask.get("no_wait")))
        )

    async def close(self) -> None:
        self.closed = True

    @property
    def drained(self) -> bool:
        return bool(self.subscriptions) and all(s.drained for s in self.subscriptions)


@pytest.fixture
def pki() -> EphemeralPki:
    return EphemeralPki(["HUB", "KENT", "ESSEX"], now=NOW)


@pytest.fixture
def essex(pki: EphemeralPki) -> tuple[ForceClient, FakeNats]:
    client = ForceClient(
        force="ESSEX", key=pki.key("ESSEX"), trust=pki.trust_store(), nats_url="nats://unused"
    )
    nats = FakeNats("ESSEX")
    client._nc = nats  # type: ignore[assignment]
    return client, nats


def delivery(
    pki: EphemeralPki,
    label: str,
    *,
    priority: bool = False,
    applicant_channel: bool = True,
    tasks: tuple[str, ...] = (),
) -> FakeMsg:
    """A delivery to Essex as the hub sends it: Kent's signed envelope and the hub's note."""
    name = "immediate-risk-raised" if priority else "case-opened"
    message = example(name, "KENT", "ESSEX", now=NOW)
    unsigned = compose(message, sender="KENT", case_ref=CASE, recipients=["ESSEX"], time=NOW)
    envelope = sign_envelope(unsigned, pki.key("KENT"))
    flags = DeliveryFlags(
        envelope.id, "ESSEX", priority=priority, applicant_channel=applicant_channel, tasks=tasks
    )
    return FakeMsg(label, envelope.to_bytes(), signed_headers(flags, pki.key("HUB")))


async def until(condition: Callable[[], bool], rounds: int = 200) -> None:
    """Let the event loop run until `condition` holds (a count of turns, not a clock)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not met")


def label(item: Delivery) -> str:
    msg = item._msg
    assert isinstance(msg, FakeMsg)
    return msg.label


async def test_an_arriving_immediate_risk_delivery_is_handed_out_before_queued_routine(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    routine = [delivery(pki, f"R{n}") for n in (1, 2, 3)]
    nats.routine.publish(*routine)
    stream = client.deliveries()
    assert label(await anext(stream)) == "R1"
    await until(lambda: all(msg.taken_in for msg in routine))  # R2 and R3 wait in the client
    urgent = delivery(pki, "U1", priority=True)
    nats.urgent.publish(urgent)
    await until(lambda: urgent.taken_in)
    handed = [label(await anext(stream)) for _ in range(3)]
    assert handed == ["U1", "R2", "R3"]
    await stream.aclose()


async def test_a_routine_delivery_is_handed_out_while_the_immediate_risk_pull_still_waits(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    stream = client.deliveries()
    waiting = asyncio.ensure_future(anext(stream))
    await until(lambda: len(nats.urgent.waiting) == 1 and len(nats.routine.waiting) == 1)
    nats.routine.publish(delivery(pki, "R1"))
    assert label(await waiting) == "R1"
    # The immediate-risk consumer was asked what it held (nothing), then once more, with a
    # request still open at the server: it is not polled.
    assert [r.no_wait for r in nats.urgent.requests] == [True, False]
    assert nats.urgent.waiting == nats.urgent.requests[1:]
    await stream.aclose()


async def test_immediate_risk_waiting_at_the_start_comes_before_routine_pulled_first(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    nats.urgent.publish(delivery(pki, "U1", priority=True))
    nats.urgent.held_back = True  # slow to answer
    routine = delivery(pki, "R1")
    nats.routine.publish(routine)
    stream = client.deliveries()
    first = asyncio.ensure_future(anext(stream))
    await until(lambda: routine.taken_in and len(nats.urgent.requests) == 1)
    for _ in range(20):
        await asyncio.sleep(0)
    assert not first.done(), "R1 must wait until the immediate-risk queue has answered"
    nats.urgent.answer()
    assert label(await first) == "U1"
    assert label(await anext(stream)) == "R1"
    await stream.aclose()


async def test_an_empty_immediate_risk_queue_holds_nothing_back_at_the_start(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    nats.routine.publish(delivery(pki, "R1"))
    stream = client.deliveries()
    assert label(await anext(stream)) == "R1"
    assert [r.no_wait for r in nats.urgent.requests] == [True, False]
    await stream.aclose()


async def test_after_a_burst_fills_the_prefetch_routine_waits_for_the_rest_of_the_burst(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    nats.urgent.publish(*(delivery(pki, f"U{n}", priority=True) for n in range(1, 5)))
    nats.routine.publish(delivery(pki, "R1"))
    stream = client.deliveries(batch=2)
    handed = [label(await anext(stream)) for _ in range(5)]
    assert handed == ["U1", "U2", "U3", "U4", "R1"]
    assert max(r.batch for r in nats.urgent.requests) <= 2
    await stream.aclose()


async def test_prefetch_bounds_what_is_pulled_ahead_and_nothing_is_acked_for_the_caller(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    backlog = [delivery(pki, f"R{n}") for n in range(30)]
    nats.routine.publish(*backlog)
    stream = client.deliveries(batch=4)
    handed: list[str] = []
    for _ in range(10):
        handed.append(label(await anext(stream)))
        for _ in range(5):
            await asyncio.sleep(0)
        asked = sum(request.batch for request in nats.routine.waiting)
        assert len(nats.routine.pulled) - len(handed) + asked <= 4
    assert handed == [f"R{n}" for n in range(10)]
    assert max(request.batch for request in nats.routine.requests) <= 4
    assert not any(msg.settled for msg in backlog), "only the caller acks"
    pulled_ahead = nats.routine.pulled[len(handed) :]
    assert pulled_ahead
    await stream.aclose()
    # Given back at once, for whoever reads next; the requests are dropped with the interest.
    assert all(msg.naks == [None] for msg in pulled_ahead)
    assert not any(msg.settled for msg in backlog[:10])
    assert nats.drained and not nats.urgent.waiting and not nats.routine.waiting


async def test_close_gives_back_what_was_pulled_and_what_was_on_its_way(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    routine = [delivery(pki, f"R{n}") for n in (1, 2, 3)]
    nats.routine.publish(*routine)
    stream = client.deliveries()
    assert label(await anext(stream)) == "R1"
    await until(lambda: all(msg.taken_in for msg in routine))
    on_its_way = delivery(pki, "R4")
    nats.routine.publish(on_its_way)  # sent to the client, not yet taken in
    assert not on_its_way.taken_in
    await client.close()
    assert [msg.naks for msg in routine] == [[], [None], [None]]
    assert on_its_way.naks == [None]
    assert nats.drained
    later = delivery(pki, "R5")
    nats.routine.publish(later)
    assert nats.routine.stream == [later], "no request of the closed client is left open"
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_delivery_that_fails_verification_is_kept_and_offered_again(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    tampered = delivery(pki, "tampered")
    tampered.data = tampered.data.replace(CASE.encode(), b"CF-2026-000999")
    unnoted = delivery(pki, "unnoted")
    unnoted.headers = {PRIORITY_HEADER: "immediate-risk"}  # a flag with no hub note
    nats.routine.publish(tampered, unnoted, delivery(pki, "good"))
    stream = client.deliveries()
    assert label(await anext(stream)) == "good"
    assert tampered.naks == unnoted.naks == [UNVERIFIED_RETRY_SECONDS]
    assert not tampered.acks and not unnoted.acks
    await stream.aclose()


async def test_signed_flags_reach_the_delivery(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    nats.urgent.publish(delivery(pki, "U1", priority=True))
    stream = client.deliveries()
    first = await anext(stream)
    assert first.priority and first.envelope.name == "immediate-risk-raised"
    await first.ack()
    assert nats.urgent.pulled[0].acks == 1
    await stream.aclose()


async def test_the_applicant_channel_and_tasks_the_hub_signed_reach_the_delivery(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats]
) -> None:
    client, nats = essex
    # Kept from the applicant (someone else receives the disclosure); tell them of a delay.
    nats.routine.publish(delivery(pki, "R1", applicant_channel=False, tasks=("delay-notified",)))
    stream = client.deliveries()
    first = await anext(stream)
    assert (first.applicant_channel, first.tasks) == (False, ("delay-notified",))
    await first.ack()
    await stream.aclose()


async def test_a_refused_pull_request_is_made_again(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdk, "RETRY_PAUSE_SECONDS", 0)
    client, nats = essex
    nats.routine.refuse_next = "409"  # e.g. a leadership change
    nats.routine.publish(delivery(pki, "R1"))
    stream = client.deliveries()
    assert label(await anext(stream)) == "R1"
    assert len(nats.routine.requests) == 2
    await stream.aclose()


async def test_a_fault_in_the_client_ends_the_iteration_with_it(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeNats], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, nats = essex

    def broken(data: bytes, headers: Any) -> None:
        raise RuntimeError("a fault")

    monkeypatch.setattr(client, "_verify_delivery", broken)
    msg = delivery(pki, "R1")
    nats.routine.publish(msg)
    with pytest.raises(RuntimeError, match="a fault"):
        await anext(client.deliveries())
    assert msg.naks == [None]


async def test_idle_timeout_ends_the_iteration_and_stops_the_pulls(
    essex: tuple[ForceClient, FakeNats],
) -> None:
    client, nats = essex
    received = [item async for item in client.deliveries(idle_timeout=0)]
    assert received == []
    assert nats.drained and not nats.urgent.waiting and not nats.routine.waiting


async def test_deliveries_is_an_async_generator(essex: tuple[ForceClient, FakeNats]) -> None:
    client, _ = essex
    stream = client.deliveries()
    assert isinstance(stream, AsyncGenerator)
    await stream.aclose()
    with pytest.raises(ValueError):
        await anext(client.deliveries(batch=0))

"""ForceClient's delivery intake, in process: a pull per delivery consumer feeding one queue
that hands out immediate risk first (docs/decisions/0009-immediate-risk-queue.md).

The JetStream consumers are stand-ins whose pulls wait until the test gives them something,
as a long poll at the server does; nothing here reads a clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

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
    """A pulled JetStream message: records how it was settled."""

    def __init__(self, label: str, data: bytes, headers: dict[str, str]) -> None:
        self.label = label
        self.data = data
        self.headers = headers
        self.acks = 0
        self.naks: list[float | None] = []

    async def ack(self) -> None:
        self.acks += 1

    async def nak(self, delay: float | None = None) -> None:
        self.naks.append(delay)

    @property
    def settled(self) -> bool:
        return bool(self.acks or self.naks)


class FakeConsumer:
    """A durable pull consumer and its subscription. A pull waits until something is
    published (or `hold` is cleared), then takes up to its batch."""

    def __init__(self) -> None:
        self.stream: list[FakeMsg] = []
        self.pulled: list[FakeMsg] = []
        self.batches: list[int] = []
        self.unsubscribed = False
        self.hold = asyncio.Event()
        self.hold.set()
        self._changed = asyncio.Event()
        # Set to make a pull swallow its cancellation and come back with these.
        self.on_cancel: list[FakeMsg] | None = None

    def publish(self, *messages: FakeMsg) -> None:
        self.stream.extend(messages)
        self._changed.set()

    async def fetch(self, batch: int, timeout: float | None = None) -> list[FakeMsg]:
        self.batches.append(batch)
        try:
            await self.hold.wait()
            while not self.stream:
                self._changed.clear()
                await self._changed.wait()
        except asyncio.CancelledError:
            if self.on_cancel is None:
                raise
            late, self.on_cancel = self.on_cancel, None
            self.pulled += late
            return late
        taken, self.stream = self.stream[:batch], self.stream[batch:]
        self.pulled += taken
        return taken

    async def consumer_info(self) -> Any:
        unacked = [msg for msg in self.pulled if not msg.acks]
        return SimpleNamespace(num_pending=len(self.stream), num_ack_pending=len(unacked))

    async def unsubscribe(self) -> None:
        self.unsubscribed = True

    @property
    def pulling(self) -> int:
        """How many pulls have been made."""
        return len(self.batches)


class FakeJetStream:
    def __init__(self, force: str) -> None:
        self.urgent = FakeConsumer()
        self.routine = FakeConsumer()
        self._by_name = {
            subjects.priority_consumer(force): self.urgent,
            subjects.delivery_consumer(force): self.routine,
        }

    async def pull_subscribe_bind(self, *, durable: str, stream: str, **_: Any) -> FakeConsumer:
        assert stream == subjects.DELIVERY_STREAM
        return self._by_name[durable]


@pytest.fixture
def pki() -> EphemeralPki:
    return EphemeralPki(["HUB", "KENT", "ESSEX"], now=NOW)


@pytest.fixture
def essex(pki: EphemeralPki) -> tuple[ForceClient, FakeJetStream]:
    client = ForceClient(
        force="ESSEX", key=pki.key("ESSEX"), trust=pki.trust_store(), nats_url="nats://unused"
    )
    js = FakeJetStream("ESSEX")
    client._js = js  # type: ignore[assignment]
    return client, js


def delivery(pki: EphemeralPki, label: str, *, priority: bool = False) -> FakeMsg:
    """A delivery to Essex as the hub sends it: Kent's signed envelope and the hub's note."""
    name = "immediate-risk-raised" if priority else "case-opened"
    message = example(name, "KENT", "ESSEX", now=NOW)
    unsigned = compose(message, sender="KENT", case_ref=CASE, recipients=["ESSEX"], time=NOW)
    envelope = sign_envelope(unsigned, pki.key("KENT"))
    flags = DeliveryFlags(envelope.id, "ESSEX", priority=priority)
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
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    js.routine.publish(*(delivery(pki, f"R{n}") for n in (1, 2, 3)))
    stream = client.deliveries()
    assert label(await anext(stream)) == "R1"
    await until(lambda: len(js.routine.pulled) == 3)  # R2 and R3 wait in the client
    js.urgent.publish(delivery(pki, "U1", priority=True))
    await until(lambda: js.urgent.pulling == 2)  # U1 taken in; the next pull is waiting
    handed = [label(await anext(stream)) for _ in range(3)]
    assert handed == ["U1", "R2", "R3"]
    await stream.aclose()


async def test_a_routine_delivery_is_handed_out_while_the_immediate_risk_pull_still_waits(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    stream = client.deliveries()
    waiting = asyncio.ensure_future(anext(stream))
    await until(lambda: js.urgent.pulling == 1 and js.routine.pulling == 1)
    js.routine.publish(delivery(pki, "R1"))
    assert label(await waiting) == "R1"
    # The immediate-risk queue was asked once, and is still being waited on: no polling.
    assert js.urgent.pulling == 1
    await stream.aclose()


async def test_immediate_risk_waiting_at_the_start_comes_before_routine_pulled_first(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    js.urgent.publish(delivery(pki, "U1", priority=True))
    js.urgent.hold.clear()  # its pull is slow to answer
    js.routine.publish(delivery(pki, "R1"))
    stream = client.deliveries()
    first = asyncio.ensure_future(anext(stream))
    await until(lambda: len(js.routine.pulled) == 1 and js.urgent.pulling == 1)
    for _ in range(20):
        await asyncio.sleep(0)
    assert not first.done(), "R1 must wait while the immediate-risk backlog is unread"
    js.urgent.hold.set()
    assert label(await first) == "U1"
    assert label(await anext(stream)) == "R1"
    await stream.aclose()


async def test_after_a_burst_fills_the_prefetch_routine_waits_for_the_rest_of_the_burst(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    js.urgent.publish(*(delivery(pki, f"U{n}", priority=True) for n in range(1, 5)))
    js.routine.publish(delivery(pki, "R1"))
    stream = client.deliveries(batch=2)
    handed = [label(await anext(stream)) for _ in range(5)]
    assert handed == ["U1", "U2", "U3", "U4", "R1"]
    assert max(js.urgent.batches) <= 2
    await stream.aclose()


async def test_prefetch_bounds_what_is_pulled_ahead_and_nothing_is_acked_for_the_caller(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    backlog = [delivery(pki, f"R{n}") for n in range(30)]
    js.routine.publish(*backlog)
    stream = client.deliveries(batch=4)
    handed: list[str] = []
    for _ in range(10):
        handed.append(label(await anext(stream)))
        await until(lambda: js.routine.pulling > 0)
        assert len(js.routine.pulled) - len(handed) <= 4
    assert handed == [f"R{n}" for n in range(10)]
    assert max(js.routine.batches) <= 4
    assert not any(msg.settled for msg in backlog), "only the caller acks"
    pulled_ahead = js.routine.pulled[len(handed) :]
    assert pulled_ahead
    await stream.aclose()
    # Given back at once, for whoever reads next; the pulls are stopped.
    assert all(msg.naks == [None] for msg in pulled_ahead)
    assert not any(msg.settled for msg in backlog[:10])
    assert js.urgent.unsubscribed and js.routine.unsubscribed


async def test_close_gives_back_unhanded_deliveries_and_ends_when_a_pull_ignores_cancelling(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    js.routine.publish(*(delivery(pki, f"R{n}") for n in (1, 2, 3)))
    late = delivery(pki, "U-late", priority=True)
    js.urgent.on_cancel = [late]  # its pull answers the cancel with a delivery
    stream = client.deliveries()
    assert label(await anext(stream)) == "R1"
    await until(lambda: len(js.routine.pulled) == 3)
    await client.close()
    assert [msg.naks for msg in js.routine.pulled] == [[], [None], [None]]
    assert late.naks == [None]
    assert js.urgent.unsubscribed and js.routine.unsubscribed
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_delivery_that_fails_verification_is_kept_and_offered_again(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    tampered = delivery(pki, "tampered")
    tampered.data = tampered.data.replace(CASE.encode(), b"CF-2026-000999")
    unnoted = delivery(pki, "unnoted")
    unnoted.headers = {PRIORITY_HEADER: "immediate-risk"}  # a flag with no hub note
    js.routine.publish(tampered, unnoted, delivery(pki, "good"))
    stream = client.deliveries()
    assert label(await anext(stream)) == "good"
    await until(lambda: bool(tampered.naks and unnoted.naks))
    assert tampered.naks == unnoted.naks == [UNVERIFIED_RETRY_SECONDS]
    assert not tampered.acks and not unnoted.acks
    await stream.aclose()


async def test_signed_flags_reach_the_delivery(
    pki: EphemeralPki, essex: tuple[ForceClient, FakeJetStream]
) -> None:
    client, js = essex
    js.urgent.publish(delivery(pki, "U1", priority=True))
    stream = client.deliveries()
    first = await anext(stream)
    assert first.priority and first.envelope.name == "immediate-risk-raised"
    await first.ack()
    assert js.urgent.pulled[0].acks == 1
    await stream.aclose()


async def test_idle_timeout_ends_the_iteration_and_stops_the_pulls(
    essex: tuple[ForceClient, FakeJetStream],
) -> None:
    client, js = essex
    received = [item async for item in client.deliveries(idle_timeout=0)]
    assert received == []
    assert js.urgent.unsubscribed and js.routine.unsubscribed


async def test_deliveries_is_an_async_generator(essex: tuple[ForceClient, FakeJetStream]) -> None:
    client, _ = essex
    stream = client.deliveries()
    assert isinstance(stream, AsyncGenerator)
    await stream.aclose()
    with pytest.raises(ValueError):
        await anext(client.deliveries(batch=0))

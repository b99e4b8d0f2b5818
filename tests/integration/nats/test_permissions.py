"""NATS itself keeps forces apart (decision 3): checked against a real server running the
configuration that `crossforce deploy nats-config` generates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from crossforce.adapters.nats.bundle import Bundle, write_bundle
from crossforce.adapters.nats.security import HUB, connect_options, delivery_consumers
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.adapters.nats.subjects import force_consumers

pytestmark = pytest.mark.server

FORCES = ("KENT", "ESSEX")
SHORT = 0.75  # seconds: a refused request never gets an answer, so keep the wait short


@dataclass
class Rig:
    server: EmbeddedNats
    bundle: Bundle


async def _provision(url: str, creds: Path) -> None:
    """What the hub does at start-up, done here with the hub's own credentials."""
    hub = await nats.connect(url, **connect_options(HUB, creds))
    js = hub.jetstream()
    for name, subjects in (
        ("CF_INBOUND", ["cf.in.>"]),
        ("CF_DELIVERY", ["cf.out.>"]),
        ("CF_CASELOG", ["cf.log.>"]),
        ("CF_DEADLETTER", ["cf.dlq.>"]),
    ):
        await js.add_stream(
            StreamConfig(name=name, subjects=subjects, storage=StorageType.FILE, allow_direct=True)
        )
    for force in FORCES:
        for consumer, subject in force_consumers(force):
            await js.add_consumer(
                "CF_DELIVERY",
                ConsumerConfig(
                    durable_name=consumer,
                    filter_subject=subject,
                    ack_policy=AckPolicy.EXPLICIT,
                    max_deliver=5,
                ),
            )
        await js.publish(f"cf.out.{force}.priority", f"urgent for {force}".encode())
        await js.publish(f"cf.out.{force}.msg", f"for {force}".encode())
        await js.publish(f"cf.out.{force}.receipt", f"receipt for {force}".encode())
    await js.publish("cf.log.case-1", b"case log entry")
    await js.publish("cf.dlq.case-1", b"dead letter")
    await hub.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("perm")
    bundle = write_bundle(base / "bundle", FORCES, store_dir=None)
    server = EmbeddedNats(base / "store", config_file=bundle.configs[0]).start()
    try:
        asyncio.run(_provision(server.url, bundle.credentials[HUB]))
        yield Rig(server, bundle)
    finally:
        server.stop()


class Violations:
    """Collects the server's permission errors for one connection."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def record(self, error: Exception) -> None:
        self.messages.append(str(error))

    async def wait_for(self, kind: str, subject: str) -> None:
        # nats-py lower-cases the server's error text.
        wanted = f'permissions violation for {kind} to "{subject}'.lower()
        for _ in range(100):
            if any(wanted in m.lower() for m in self.messages):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"no violation {wanted!r}; saw {self.messages}")


@pytest.fixture
async def kent(rig: Rig) -> AsyncIterator[tuple[Client, Violations]]:
    violations = Violations()
    nc = await nats.connect(
        rig.server.url,
        error_cb=violations.record,
        **connect_options("KENT", rig.bundle.credentials["KENT"]),
    )
    yield nc, violations
    await nc.close()


@pytest.fixture
async def hub(rig: Rig) -> AsyncIterator[Client]:
    nc = await nats.connect(rig.server.url, **connect_options(HUB, rig.bundle.credentials[HUB]))
    yield nc
    await nc.close()


async def test_kent_publishes_to_its_own_inbound(kent: tuple[Client, Violations]) -> None:
    nc, violations = kent
    ack = await nc.jetstream().publish(
        "cf.in.KENT.case-7", b"enquiry", headers={"Nats-Msg-Id": "kent-1"}, timeout=5
    )
    assert ack.stream == "CF_INBOUND"
    assert violations.messages == []


async def test_kent_fetches_and_acks_its_own_deliveries(
    kent: tuple[Client, Violations], hub: Client
) -> None:
    nc, violations = kent
    js = nc.jetstream()
    # The web app's receipt consumer reads the same receipt as the force's own: each durable
    # consumer of CF_DELIVERY sees every message on its subject, so neither takes it from
    # the other.
    for consumer, body in zip(
        delivery_consumers("KENT"),
        (b"urgent for KENT", b"for KENT", b"receipt for KENT", b"receipt for KENT"),
        strict=True,
    ):
        sub = await js.pull_subscribe_bind(consumer, stream="CF_DELIVERY")
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.data == body
        await msg.ack_sync(timeout=5)
        info = await js.consumer_info("CF_DELIVERY", consumer)
        assert (
            info.num_ack_pending == 0 and info.ack_floor.stream_seq == msg.metadata.sequence.stream
        )
    assert violations.messages == []


async def test_kent_cannot_publish_as_essex(kent: tuple[Client, Violations], hub: Client) -> None:
    nc, violations = kent
    with pytest.raises(nats.errors.TimeoutError):
        await nc.jetstream().publish("cf.in.ESSEX.case-7", b"forged", timeout=SHORT)
    await violations.wait_for("publish", "cf.in.ESSEX.case-7")
    await nc.publish("cf.out.ESSEX.msg", b"forged delivery")
    await violations.wait_for("publish", "cf.out.ESSEX.msg")
    await nc.flush()
    hjs = hub.jetstream()
    inbound = await hjs.stream_info("CF_INBOUND", subjects_filter="cf.in.ESSEX.>")
    assert inbound.state.subjects in (None, {})
    delivery = await hjs.stream_info("CF_DELIVERY", subjects_filter="cf.out.ESSEX.msg")
    assert delivery.state.subjects == {"cf.out.ESSEX.msg": 1}


async def test_kent_cannot_read_essex_deliveries(
    kent: tuple[Client, Violations], hub: Client
) -> None:
    nc, violations = kent
    js = nc.jetstream()
    sub = await js.pull_subscribe_bind("ESSEX_msg", stream="CF_DELIVERY")
    with pytest.raises(nats.errors.TimeoutError):
        await sub.fetch(1, timeout=SHORT)
    await violations.wait_for("publish", "$JS.API.CONSUMER.MSG.NEXT.CF_DELIVERY.ESSEX_msg")
    with pytest.raises(nats.errors.TimeoutError):
        await js.consumer_info("CF_DELIVERY", "ESSEX_msg", timeout=SHORT)
    # Nor Essex's receipts through the receipt consumer of Essex's web app.
    web = await js.pull_subscribe_bind("ESSEX_receipt_web", stream="CF_DELIVERY")
    with pytest.raises(nats.errors.TimeoutError):
        await web.fetch(1, timeout=SHORT)
    await violations.wait_for("publish", "$JS.API.CONSUMER.MSG.NEXT.CF_DELIVERY.ESSEX_receipt_web")
    # Nor may Kent make its own consumer over Essex's subjects.
    with pytest.raises(nats.errors.TimeoutError):
        await js.add_consumer(
            "CF_DELIVERY",
            ConsumerConfig(durable_name="SNOOP", filter_subject="cf.out.ESSEX.>"),
            timeout=SHORT,
        )
    await violations.wait_for("publish", "$JS.API.CONSUMER.DURABLE.CREATE.CF_DELIVERY.SNOOP")
    config = b'{"stream_name":"CF_DELIVERY","config":{"filter_subject":"cf.out.ESSEX.>"}}'
    with pytest.raises(nats.errors.TimeoutError):
        await nc.request(
            "$JS.API.CONSUMER.CREATE.CF_DELIVERY.SNOOP2.cf.out.ESSEX.>", config, timeout=SHORT
        )
    await violations.wait_for(
        "publish", "$JS.API.CONSUMER.CREATE.CF_DELIVERY.SNOOP2.cf.out.ESSEX.>"
    )
    await nc.subscribe("cf.out.ESSEX.>")
    await violations.wait_for("subscription", "cf.out.ESSEX.>")
    await nc.subscribe("_INBOX_ESSEX.>")
    await violations.wait_for("subscription", "_INBOX_ESSEX.>")
    # Essex's message is still waiting for Essex, untouched.
    essex = await hub.jetstream().consumer_info("CF_DELIVERY", "ESSEX_msg")
    assert essex.num_pending == 1 and essex.delivered.stream_seq == 0
    assert "SNOOP" not in {c.name for c in await hub.jetstream().consumers_info("CF_DELIVERY")}


@pytest.mark.parametrize("stream", ["CF_CASELOG", "CF_DEADLETTER", "CF_DELIVERY", "CF_INBOUND"])
async def test_kent_cannot_touch_hub_streams(kent: tuple[Client, Violations], stream: str) -> None:
    nc, violations = kent
    js = nc.jetstream(timeout=SHORT)
    with pytest.raises(nats.errors.TimeoutError):
        await js.stream_info(stream)
    await violations.wait_for("publish", f"$JS.API.STREAM.INFO.{stream}")
    with pytest.raises(nats.errors.TimeoutError):
        await js.add_consumer(stream, ConsumerConfig(durable_name="PEEK"), timeout=SHORT)
    await violations.wait_for("publish", f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.PEEK")
    with pytest.raises(nats.errors.TimeoutError):
        await nc.request(f"$JS.API.CONSUMER.CREATE.{stream}", b"{}", timeout=SHORT)
    await violations.wait_for("publish", f"$JS.API.CONSUMER.CREATE.{stream}")
    with pytest.raises(nats.errors.TimeoutError):
        await nc.request(f"$JS.API.DIRECT.GET.{stream}", b'{"seq":1}', timeout=SHORT)
    await violations.wait_for("publish", f"$JS.API.DIRECT.GET.{stream}")
    with pytest.raises(nats.errors.TimeoutError):
        await js.get_msg(stream, seq=1)
    await violations.wait_for("publish", f"$JS.API.STREAM.MSG.GET.{stream}")
    await nc.subscribe("cf.log.>")
    await violations.wait_for("subscription", "cf.log.>")


async def test_kent_cannot_use_the_default_inbox(rig: Rig) -> None:
    violations = Violations()
    nc = await nats.connect(
        rig.server.url, error_cb=violations.record, nkeys_seed=str(rig.bundle.credentials["KENT"])
    )
    try:
        with pytest.raises(nats.errors.TimeoutError):
            await nc.jetstream().publish("cf.in.KENT.case-8", b"x", timeout=SHORT)
        # Without the `_INBOX_KENT` prefix the reply subscription itself is refused.
        await violations.wait_for("subscription", "_INBOX.")

    finally:
        await nc.close()


async def test_unknown_clients_are_refused(rig: Rig) -> None:
    with pytest.raises((nats.errors.NoServersError, nats.errors.Error)):
        await nats.connect(rig.server.url, allow_reconnect=False, connect_timeout=2)

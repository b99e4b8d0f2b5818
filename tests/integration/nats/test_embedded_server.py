"""The embedded server is the real nats-server binary with JetStream, and survives restarts."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest

from crossforce.adapters.nats.server import EmbeddedNats, NatsServerError, find_nats_server

pytestmark = pytest.mark.server


def test_find_nats_server_returns_the_pinned_binary() -> None:
    binary = find_nats_server()
    assert binary.is_file()
    assert binary.name.startswith("nats-server")


async def test_jetstream_round_trip_survives_restart(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats")
    async with server:
        assert server.running
        assert server.log_path.exists()
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await js.add_stream(name="ROUNDTRIP", subjects=["rt.>"])
        ack = await js.publish("rt.one", b"hello", headers={"Nats-Msg-Id": "m-1"})
        duplicate = await js.publish("rt.one", b"hello", headers={"Nats-Msg-Id": "m-1"})
        assert duplicate.duplicate and duplicate.seq == ack.seq
        await nc.close()

        url_before = server.url
        server.restart()
        assert server.url == url_before

        nc = await nats.connect(server.url)
        js = nc.jetstream()
        sub = await js.pull_subscribe("rt.>", durable="reader", stream="ROUNDTRIP")
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.data == b"hello"
        await msg.ack()
        info = await js.stream_info("ROUNDTRIP")
        assert info.state.messages == 1
        await nc.close()
    assert not server.running


def test_kill_then_start_recovers_persisted_stream(tmp_path: Path) -> None:
    import asyncio

    server = EmbeddedNats(tmp_path / "nats").start()
    try:

        async def publish() -> None:
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            await js.add_stream(name="CRASH", subjects=["crash.>"])
            for i in range(10):
                await js.publish("crash.x", str(i).encode())
            await nc.close()

        async def count() -> int:
            nc = await nats.connect(server.url)
            info = await nc.jetstream().stream_info("CRASH")
            await nc.close()
            return int(info.state.messages)

        asyncio.run(publish())
        server.kill()
        assert not server.running
        server.start()
        # Acked JetStream publishes are on disk before the ack, so a crash loses nothing.
        assert asyncio.run(count()) == 10
    finally:
        server.stop()


def test_bad_config_fails_with_the_server_error(tmp_path: Path) -> None:
    config = tmp_path / "broken.conf"
    config.write_text("this is { not valid")
    with pytest.raises(NatsServerError, match="exited during startup"):
        EmbeddedNats(tmp_path / "nats", config_file=config, startup_timeout=5).start()


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", binary=tmp_path / "no-such-nats-server")
    with pytest.raises(NatsServerError, match="binary not found"):
        server.start()

"""Faults on real processes: `crossforce up` as its own process, a real nats-server, SQLite or
PostgreSQL. Each scenario ends with the conservation check: every input sent was applied once
(delivered to each recipient once) or refused with a receipt and a dead letter.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from conservation import APPLIED, REFUSED, Report, SendLog, check_conservation
from harness import (
    REPO,
    HubProcess,
    KeyFiles,
    Traffic,
    child_env,
    one_free_port,
    pid_alive,
    signed_step,
    up_command,
    wait_for_answers,
    write_key_files,
)
from nats.aio.client import Client

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.testing.postgres import PostgresServer
from crossforce.broker.scenario import FORCES
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.pki import EphemeralPki

pytestmark = pytest.mark.server


@pytest.fixture()
def pki() -> EphemeralPki:
    return EphemeralPki(FORCES)


@pytest.fixture()
def keys(pki: EphemeralPki, tmp_path: Path) -> KeyFiles:
    return write_key_files(pki, tmp_path / "keys")


@pytest.fixture()
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    with EmbeddedNats(tmp_path / "nats") as server:
        yield server


@pytest.fixture()
def hub(keys: KeyFiles, nats_server: EmbeddedNats, tmp_path: Path) -> Iterator[HubProcess]:
    """`crossforce up` against the test's nats-server, with SQLite in its data dir."""
    with HubProcess(
        up_command(keys, tmp_path / "hub", nats_url=nats_server.url), tmp_path / "hub.log"
    ) as process:
        yield process


async def _connect(url: str) -> Client:
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)


@pytest.fixture()
async def nc(hub: HubProcess, nats_server: EmbeddedNats) -> AsyncIterator[Client]:
    connection = await _connect(nats_server.url)
    yield connection
    await connection.close()


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hub' / 'crossforce.db'}"


async def _conserved(url: str, db_url: str, log: SendLog, *, timeout: float = 120.0) -> Report:
    await wait_for_answers(url, log, timeout=timeout)
    engine = make_engine(db_url)
    try:
        report = await check_conservation(url, engine, log)
    finally:
        engine.dispose()
    assert report.ok, str(report)
    assert report.lost == 0 and report.doubled == 0
    return report


async def _send_while(
    traffic: Traffic, cases: list[str], fault_after: int, fault: Callable[[], Awaitable[None]]
) -> None:
    """Send `cases`; once `fault_after` inputs are out, run the fault alongside."""
    sending = asyncio.create_task(traffic.run(cases))
    while len(traffic.log) < fault_after and not sending.done():
        await asyncio.sleep(0.02)
    assert not sending.done(), "the traffic finished before the fault"
    await fault()
    await sending


async def test_hub_sigkilled_mid_batch_then_restarted_loses_and_doubles_nothing(
    hub: HubProcess, nc: Client, nats_server: EmbeddedNats, pki: EphemeralPki, tmp_path: Path
) -> None:
    log = SendLog()
    traffic = Traffic(pki, nc.jetstream(), log)

    async def kill_and_restart() -> None:
        hub.kill()
        await asyncio.sleep(1.0)  # inputs keep arriving while no hub runs
        await asyncio.to_thread(hub.start)

    cases = [f"CF-KILL-{n:04d}" for n in range(120)]
    await _send_while(traffic, cases, 120, kill_and_restart)
    assert hub.starts == 2
    report = await _conserved(nats_server.url, _sqlite(tmp_path), log)
    assert report.applied == 360 and report.refused == 24


async def test_nats_restart_loses_and_doubles_nothing(
    hub: HubProcess, nc: Client, nats_server: EmbeddedNats, pki: EphemeralPki, tmp_path: Path
) -> None:
    log = SendLog()
    traffic = Traffic(pki, nc.jetstream(), log)

    async def restart_nats() -> None:
        await asyncio.to_thread(nats_server.restart, graceful=False)

    cases = [f"CF-NATS-{n:04d}" for n in range(100)]
    await _send_while(traffic, cases, 100, restart_nats)
    report = await _conserved(nats_server.url, _sqlite(tmp_path), log)
    assert report.applied == 300 and report.refused == 20


def _hold_exclusive(path: Path, seconds: float, held: threading.Event) -> None:
    """Another process's view of the database: an exclusive transaction for `seconds`."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        held.set()
        time.sleep(seconds)
        db.execute("COMMIT")
    finally:
        db.close()


async def test_sqlite_locked_for_ten_seconds_refuses_nothing(
    hub: HubProcess, nc: Client, nats_server: EmbeddedNats, pki: EphemeralPki, tmp_path: Path
) -> None:
    log = SendLog()
    traffic = Traffic(pki, nc.jetstream(), log)
    held = threading.Event()
    lock: list[threading.Thread] = []

    async def lock_database() -> None:
        thread = threading.Thread(
            target=_hold_exclusive, args=(tmp_path / "hub" / "crossforce.db", 10.0, held)
        )
        thread.start()
        lock.append(thread)
        assert await asyncio.to_thread(held.wait, 30)

    cases = [f"CF-LOCK-{n:04d}" for n in range(60)]
    await _send_while(traffic, cases, 30, lock_database)
    await asyncio.to_thread(lock[0].join)
    report = await _conserved(nats_server.url, _sqlite(tmp_path), log)
    # The lock is the database's fault, never the message's: nothing valid is refused.
    assert report.applied == 180 and report.refused == 12
    assert set(report.refusals) <= {"MALFORMED_JSON", "INVALID_ENVELOPE"}


@pytest.mark.postgres
async def test_postgres_stopped_then_started_refuses_nothing(
    postgres_server: PostgresServer,
    keys: KeyFiles,
    nats_server: EmbeddedNats,
    pki: EphemeralPki,
    tmp_path: Path,
) -> None:
    # A server of its own: stopping the session's would pull it from under other tests.
    server = PostgresServer(postgres_server.bin_dir)
    server.start()
    try:
        command = up_command(keys, tmp_path / "hub", nats_url=nats_server.url, db_url=server.url)
        with HubProcess(command, tmp_path / "hub.log"):
            nc = await _connect(nats_server.url)
            log = SendLog()
            traffic = Traffic(pki, nc.jetstream(), log)

            async def stop_for_ten_seconds() -> None:
                await asyncio.to_thread(_pg_ctl, server, "stop", "-m", "fast")
                await asyncio.sleep(10.0)
                await asyncio.to_thread(_pg_ctl, server, "start", "-w", "-o", _pg_options(server))

            cases = [f"CF-PG-{n:04d}" for n in range(60)]
            await _send_while(traffic, cases, 30, stop_for_ten_seconds)
            report = await _conserved(nats_server.url, server.url, log)
            await nc.close()
        assert report.applied == 180 and report.refused == 12
        assert set(report.refusals) <= {"MALFORMED_JSON", "INVALID_ENVELOPE"}
    finally:
        server.stop()


def _pg_options(server: PostgresServer) -> str:
    # The options PostgresServer.start gives pg_ctl, so the server comes back where it was.
    return (
        f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    """pg_ctl on the server's data directory, as the user that owns it."""
    pg_ctl = [str(server.bin_dir / "pg_ctl"), "-D", str(server.data)]
    log_file = ["-l", str(server.root / "server.log")]
    subprocess.run(
        [*server.prefix, *pg_ctl, *log_file, *args], check=True, capture_output=True, timeout=60
    )


async def test_deliveries_pile_up_for_a_force_away_and_all_arrive_once(
    hub: HubProcess, nc: Client, nats_server: EmbeddedNats, pki: EphemeralPki, tmp_path: Path
) -> None:
    log = SendLog()
    traffic = Traffic(pki, nc.jetstream(), log)
    trust = pki.trust_store()

    def essex() -> ForceClient:
        return ForceClient(
            force="ESSEX", key=pki.key("ESSEX"), trust=trust, nats_url=nats_server.url
        )

    # Essex is away while Kent opens 300 cases it co-ordinates.
    for n in range(300):
        await traffic.case(f"CF-AWAY-{n:04d}", steps=1)
    await wait_for_answers(nats_server.url, log)
    received: list[str] = []
    # It comes back, takes a hundred, and goes away again before the rest. (One at a time:
    # a delivery fetched but never acked would come back only after the 30 s ack wait.)
    async with essex() as client:
        async for delivery in client.deliveries(idle_timeout=5.0, batch=1):
            received.append(delivery.envelope.id)
            await delivery.ack()
            if len(received) == 100:
                break
    for n in range(300, 400):
        await traffic.case(f"CF-AWAY-{n:04d}", steps=1)
    await wait_for_answers(nats_server.url, log)
    async with essex() as client:
        async for delivery in client.deliveries(idle_timeout=3.0):
            received.append(delivery.envelope.id)
            await delivery.ack()
    sent = [item.envelope_id for item in log]
    assert sorted(received) == sorted(sent), "every delivery arrives exactly once"
    assert received[:300] == sent[:300] or sorted(received[:300]) == sorted(sent[:300])
    report = await _conserved(nats_server.url, _sqlite(tmp_path), log)
    assert report.applied == 400


async def test_clock_skew_beyond_the_window_is_refused_stale(
    hub: HubProcess, nc: Client, nats_server: EmbeddedNats, pki: EphemeralPki, tmp_path: Path
) -> None:
    log = SendLog()
    js = nc.jetstream()
    now = datetime.now(UTC)
    cases = {
        "CF-SKEW-BEHIND": (now - timedelta(minutes=11), REFUSED),
        "CF-SKEW-AHEAD": (now + timedelta(minutes=11), REFUSED),
        "CF-SKEW-WITHIN": (now - timedelta(minutes=5), APPLIED),
    }
    for case_ref, (when, expect) in cases.items():
        envelope = signed_step(pki, case_ref, 0, time=when)
        reason = ReasonCode.STALE_MESSAGE if expect == REFUSED else None
        await log.publish_envelope(js, envelope, expect=expect, reason=reason)
    report = await _conserved(nats_server.url, _sqlite(tmp_path), log)
    assert report.refusals == {"STALE_MESSAGE": 2} and report.applied == 1
    assert "on CF-SKEW-BEHIND: STALE_MESSAGE" in hub.output
    assert "on CF-SKEW-AHEAD: STALE_MESSAGE" in hub.output


async def test_sigkill_of_up_leaves_no_orphan_and_restarts_on_the_same_port_and_store(
    keys: KeyFiles, pki: EphemeralPki, tmp_path: Path
) -> None:
    port = one_free_port()
    data_dir = tmp_path / "hub"
    up = HubProcess(up_command(keys, data_dir, port=port), tmp_path / "hub.log").start()
    url = f"nats://127.0.0.1:{port}"
    pid_file = data_dir / "nats" / "nats-server.pid"
    try:
        nc = await _connect(url)
        log = SendLog()
        traffic = Traffic(pki, nc.jetstream(), log)
        await traffic.run([f"CF-ORPHAN-{n:04d}" for n in range(20)])
        # Answered first: an input in flight at the kill would wait out the 30 s ack wait,
        # which the mid-batch test covers.
        await wait_for_answers(url, log)
        nats_pid = int(pid_file.read_text().strip())
        assert pid_alive(nats_pid)

        up.kill()
        deadline = time.monotonic() + 10
        while pid_alive(nats_pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not pid_alive(nats_pid), "nats-server outlived crossforce up"

        await asyncio.to_thread(up.start)
        assert int(pid_file.read_text().strip()) != nats_pid
        await traffic.run([f"CF-ORPHAN-{n:04d}" for n in range(20, 40)])
        report = await _conserved(url, f"sqlite:///{data_dir / 'crossforce.db'}", log)
        assert report.applied == 120 and report.refused == 8
        await nc.close()
    finally:
        up.stop()


async def test_a_start_that_fails_says_why_in_one_line(keys: KeyFiles, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            up_command(keys, tmp_path / "hub", port=port),
            cwd=REPO,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "NATS_ERROR" in lines[0] and "address already in use" in lines[0], lines
    assert "Traceback" not in result.stderr

"""The production path: a 3-node JetStream cluster (R3 streams), two `crossforce up` replicas
and PostgreSQL. Kept small (a few hundred messages); each scenario ends with the
conservation check.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from conservation import SendLog, check_conservation
from harness import HubProcess, KeyFiles, Traffic, up_command, wait_for_answers, write_key_files
from sqlalchemy import create_engine

from crossforce.adapters.nats import subjects
from crossforce.adapters.testing.cluster import LoopbackCluster
from crossforce.broker.scenario import FORCES
from crossforce.contracts.pki import EphemeralPki
from crossforce.ledger.key_material import (
    MASTER_KEY_ENV,
    SUBJECT_KEY_ENV,
    generate_secret,
)

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]


def _replicas(
    keys: KeyFiles, cluster: LoopbackCluster, db_url: str, tmp_path: Path
) -> list[HubProcess]:
    # Replicas share the ledger's keys, as a deployment gives them to every replica.
    shared = {MASTER_KEY_ENV: generate_secret(), SUBJECT_KEY_ENV: generate_secret()}
    return [
        HubProcess(
            up_command(keys, tmp_path / f"hub{n}", nats_url=cluster.url, db_url=db_url, replicas=3),
            tmp_path / f"hub{n}.log",
            env=shared,
        )
        for n in (1, 2)
    ]


async def _conserved(cluster: LoopbackCluster, db_url: str, log: SendLog) -> None:
    await wait_for_answers(cluster.url, log, timeout=120)
    engine = create_engine(db_url)
    try:
        report = await check_conservation(cluster.url, engine, log)
    finally:
        engine.dispose()
    assert report.ok, str(report)
    assert report.lost == 0 and report.doubled == 0


async def test_losing_the_node_that_leads_the_inbound_stream_loses_nothing(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    pki = EphemeralPki(FORCES)
    keys = write_key_files(pki, tmp_path / "keys")
    with LoopbackCluster(tmp_path / "cluster", size=3) as cluster:
        hubs = _replicas(keys, cluster, fresh_postgres_url, tmp_path)
        hubs[0].start()
        hubs[1].start()
        try:
            nc = await nats.connect(cluster.urls, max_reconnect_attempts=-1)
            log = SendLog()
            traffic = Traffic(pki, nc.jetstream(), log)
            sending = asyncio.create_task(traffic.run([f"CF-LEAD-{n:04d}" for n in range(80)]))
            while len(log) < 80:
                await asyncio.sleep(0.05)
            info = await nc.jetstream().stream_info(subjects.INBOUND_STREAM)
            leader = cluster.index_of(info.cluster.leader)
            cluster.kill(leader)
            await asyncio.sleep(3.0)
            await asyncio.to_thread(cluster.restart, leader)
            await sending
            await _conserved(cluster, fresh_postgres_url, log)
            await nc.close()
            assert all(hub.process.poll() is None for hub in hubs), "a replica died"
        finally:
            for hub in hubs:
                hub.stop()


async def test_two_replicas_started_together_on_empty_storage_both_come_up(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    """A race, so one start proves little: tests/reliability/test_start_races.py drives the
    set-up steps that once collided (ledger records, provisioning) many times at once."""
    pki = EphemeralPki(FORCES)
    keys = write_key_files(pki, tmp_path / "keys")
    with LoopbackCluster(tmp_path / "cluster", size=3) as cluster:
        hubs = _replicas(keys, cluster, fresh_postgres_url, tmp_path)
        for hub in hubs:
            hub.spawn()
        try:
            for hub in hubs:
                await asyncio.to_thread(hub.wait_up, 90)
            nc = await nats.connect(cluster.urls)
            log = SendLog()
            await Traffic(pki, nc.jetstream(), log).run([f"CF-TWIN-{n:04d}" for n in range(30)])
            await _conserved(cluster, fresh_postgres_url, log)
            await nc.close()
        finally:
            for hub in hubs:
                hub.stop()

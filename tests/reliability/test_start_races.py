"""Replicas starting at the same moment on one empty PostgreSQL database: every set-up step
that checks and then writes takes its turn under the schema lock."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete

from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import FORCES
from crossforce.contracts.keys import SigningKey
from crossforce.contracts.pki import EphemeralPki
from crossforce.ledger import Ledger
from crossforce.ledger.store import meta_table

REPLICAS = 8
ROUNDS = 5


@pytest.mark.postgres
def test_replicas_setting_up_the_ledger_together_all_succeed(fresh_postgres_url: str) -> None:
    key = SigningKey.generate("HUB")
    Ledger(fresh_postgres_url, key, b"s" * 32, master_key=b"m" * 32).close()
    engine = create_engine(fresh_postgres_url)
    start = threading.Barrier(REPLICAS)

    def open_ledger(_: int) -> str:
        start.wait()
        ledger = Ledger(fresh_postgres_url, key, b"s" * 32, master_key=b"m" * 32)
        try:
            return ledger.origin
        finally:
            ledger.close()

    try:
        for _ in range(ROUNDS):
            # The tables are there; the ledger's own records are not, as on a first start.
            with engine.begin() as db:
                db.execute(delete(meta_table))
            with ThreadPoolExecutor(REPLICAS) as pool:
                origins = list(pool.map(open_ledger, range(REPLICAS)))
            assert len(set(origins)) == 1
    finally:
        engine.dispose()


@pytest.mark.server
async def test_replicas_provisioning_one_fresh_server_together_all_succeed(
    tmp_path: Path,
) -> None:
    pki = EphemeralPki(FORCES)
    with EmbeddedNats(tmp_path / "nats") as server:
        replicas = [
            RunningBroker(
                BrokerSettings(data_dir=tmp_path / f"hub{n}", nats_url=server.url, partitions=4),
                trust=pki.trust_store(),
                hub_key=pki.key("HUB"),
            )
            for n in range(REPLICAS)
        ]
        changes = await asyncio.gather(*(replica.provision() for replica in replicas))
        assert sum(len(changed) for changed in changes) >= 1
        # Whoever created what, a further run finds nothing to change.
        assert await replicas[0].provision() == []

"""A real broker (nats-server from the wheel, SQLite, hub) and ForceClients for scenario tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import Engine, Table, select

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.contracts.pki import EphemeralPki

# The hub tests share the readers in hub_helpers.py by name.
sys.path.insert(0, str(Path(__file__).parent))

from hub_helpers import FORCES, drain, drain_all, eventually  # noqa: E402


class Admin:
    """An unauthenticated nats-py connection (the embedded server has no auth) plus the DB."""

    def __init__(self, nc: Client, engine: Engine) -> None:
        self.nc = nc
        self.engine = engine

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    async def read(self, stream: str, subject: str = ">") -> list[Msg]:
        """Every message stored in `stream` on `subject`, oldest first (ephemeral consumer)."""
        sub = await self.js.pull_subscribe(
            subject,
            stream=stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.ALL,
                inactive_threshold=30.0,
            ),
        )
        try:
            pending = (await sub.consumer_info()).num_pending
            messages: list[Msg] = []
            while len(messages) < pending:
                messages += await sub.fetch(min(256, pending - len(messages)), timeout=5.0)
        finally:
            await sub.unsubscribe()
        return messages

    async def inbound_drained(self) -> bool:
        """Every inbound message has been acked by a hub (CF_INBOUND is a work queue)."""
        info = await self.js.stream_info(subjects.INBOUND_STREAM)
        return int(info.state.messages) == 0

    def rows(self, table: Table, **equal: Any) -> list[dict[str, Any]]:
        query = select(table)
        for column, value in equal.items():
            query = query.where(table.c[column] == value)
        with self.engine.connect() as db:
            return [dict(row) for row in db.execute(query.order_by(*table.primary_key)).mappings()]

    # Helpers for the test modules (conftest is not importable under importlib mode).
    eventually = staticmethod(eventually)
    drain = staticmethod(drain)
    drain_all = staticmethod(drain_all)


@pytest.fixture()
def pki() -> EphemeralPki:
    return EphemeralPki(FORCES)


@pytest.fixture()
async def running(tmp_path: Path, pki: EphemeralPki) -> AsyncIterator[RunningBroker]:
    settings = BrokerSettings(data_dir=tmp_path / "broker", partitions=4)
    async with RunningBroker(settings, trust=pki.trust_store(), hub_key=pki.key("HUB")) as broker:
        yield broker


@pytest.fixture()
async def clients(
    running: RunningBroker, pki: EphemeralPki
) -> AsyncIterator[dict[str, ForceClient]]:
    trust = pki.trust_store()
    connected = {}
    for force in FORCES[1:]:
        client = ForceClient(
            force=force, key=pki.key(force), trust=trust, nats_url=running.nats_url
        )
        connected[force] = await client.connect()
    yield connected
    for client in connected.values():
        await client.close()


@pytest.fixture()
async def admin(running: RunningBroker) -> AsyncIterator[Admin]:
    assert running.engine is not None
    nc = await nats.connect(running.nats_url)
    yield Admin(nc, running.engine)
    await nc.close()

"""A real broker (nats-server from the wheel, SQLite, hub) and ForceClients for scenario tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.client.force_client import ForceClient
from broker.runtime import BrokerSettings, RunningBroker
from contracts.pki import EphemeralPki

FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"]


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

"""The hub and force systems on a server running the generated per-force security
configuration: every subscriber, the hub's pull consumers included, stays inside its user's
permissions, so the case flows end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.client.force_client import ForceClient
from adapters.nats.bundle import write_bundle
from adapters.nats.security import HUB
from adapters.nats.server import EmbeddedNats
from broker.runtime import BrokerSettings, RunningBroker
from broker.scenario import case_steps
from contracts.pki import EphemeralPki

pytestmark = pytest.mark.timeout(120)

CASE = "CF-2026-000777"


async def test_a_case_flows_through_a_hub_with_per_force_credentials(tmp_path: Path) -> None:
    forces = ("KENT", "ESSEX")
    bundle = write_bundle(tmp_path / "bundle", forces, store_dir=None)
    pki = EphemeralPki([HUB, *forces])
    trust = pki.trust_store()
    server = EmbeddedNats(tmp_path / "store", config_file=bundle.configs[0]).start()
    try:
        settings = BrokerSettings(
            data_dir=tmp_path / "hub",
            nats_url=server.url,
            nats_credentials=bundle.credentials[HUB],
            partitions=2,
        )
        async with RunningBroker(settings, trust=trust, hub_key=pki.key(HUB)):
            clients = {
                force: await ForceClient(
                    force=force,
                    key=pki.key(force),
                    trust=trust,
                    nats_url=server.url,
                    credentials=bundle.credentials[force],
                ).connect()
                for force in forces
            }
            kent, essex = clients["KENT"], clients["ESSEX"]
            opening = case_steps(CASE)[0]
            receipt = await kent.send(opening.message, case_ref=CASE, recipients=("ESSEX",))
            assert receipt.accepted, receipt.receipt.message
            delivered = []
            async for delivery in essex.deliveries(idle_timeout=2.0):
                delivered.append(delivery.envelope.name)
                await delivery.ack()
            assert delivered == ["case-opened"]
            await kent.close()
            await essex.close()
    finally:
        server.stop()

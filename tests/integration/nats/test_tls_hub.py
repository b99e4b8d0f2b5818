"""The hub and a force system on a cluster configured by `crossforce deploy nats-config --tls`:
the servers require TLS, so every hub connection and the ForceClient are given the CA."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.client.force_client import ForceClient
from adapters.nats.bundle import write_bundle
from adapters.nats.security import HUB
from adapters.nats.server import EmbeddedNats
from broker.runtime import BrokerSettings, RunningBroker, hub_connect_options
from broker.scenario import case_steps
from contracts.pki import EphemeralPki

pytestmark = pytest.mark.timeout(120)

CASE = "CF-2026-000778"


async def test_a_case_flows_through_a_hub_on_a_tls_only_server(tmp_path: Path) -> None:
    forces = ("KENT", "ESSEX")
    bundle = write_bundle(tmp_path / "bundle", forces, tls=True, store_dir=None)
    assert bundle.tls_dir is not None
    ca = bundle.tls_dir / "ca.pem"
    assert "tls" in bundle.configs[0].read_text()
    pki = EphemeralPki([HUB, *forces])
    trust = pki.trust_store()
    server = EmbeddedNats(tmp_path / "store", config_file=bundle.configs[0], scheme="tls").start()
    try:
        settings = BrokerSettings(
            data_dir=tmp_path / "hub",
            # As in the compose file: nats:// URLs, upgraded because the server requires TLS.
            nats_url=f"nats://{server.host}:{server.port}",
            nats_credentials=bundle.credentials[HUB],
            nats_ca=ca,
            partitions=2,
        )
        assert hub_connect_options(settings)["tls"] is not None
        # The server accepts no plain connection, so provisioning and the hub's FastStream
        # broker both got here over TLS.
        async with RunningBroker(settings, trust=trust, hub_key=pki.key(HUB)):
            clients = {
                force: await ForceClient(
                    force=force,
                    key=pki.key(force),
                    trust=trust,
                    nats_url=server.url,  # tls://
                    credentials=bundle.credentials[force],
                    ca=ca,
                ).connect()
                for force in forces
            }
            kent, essex = clients["KENT"], clients["ESSEX"]
            try:
                opening = case_steps(CASE)[0]
                receipt = await kent.send(opening.message, case_ref=CASE, recipients=("ESSEX",))
                assert receipt.accepted, receipt.receipt.message
                delivered = []
                async for delivery in essex.deliveries(idle_timeout=2.0):
                    delivered.append(delivery.envelope.name)
                    await delivery.ack()
                assert delivered == ["case-opened"]
            finally:
                await kent.close()
                await essex.close()
    finally:
        server.stop()


def test_a_force_client_takes_a_ca_file_or_a_context_not_both(tmp_path: Path) -> None:
    import ssl

    pki = EphemeralPki([HUB, "KENT"])
    bundle = write_bundle(tmp_path / "bundle", ["KENT"], tls=True, store_dir=None)
    assert bundle.tls_dir is not None
    with pytest.raises(ValueError, match="not both"):
        ForceClient(
            force="KENT",
            key=pki.key("KENT"),
            trust=pki.trust_store(),
            nats_url="nats://127.0.0.1:4222",
            tls=ssl.create_default_context(),
            ca=bundle.tls_dir / "ca.pem",
        )

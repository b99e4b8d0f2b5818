"""The hub and force systems on a server running the configuration `crossforce deploy
nats-config` generates: with per-force credentials every subscriber, the hub's pull consumers
included, stays inside its user's permissions; with `--tls` every hub connection and the
ForceClient are given the CA. Either way one case flows end to end."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats.bundle import Bundle, write_bundle
from crossforce.adapters.nats.security import HUB
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.broker.runtime import BrokerSettings, RunningBroker, hub_connect_options
from crossforce.broker.scenario import case_steps
from crossforce.contracts.pki import EphemeralPki

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

CASE = "CF-2026-000777"
FORCES = ("KENT", "ESSEX")


async def _a_case_flows(
    bundle: Bundle, server: EmbeddedNats, settings: BrokerSettings, ca: Path | None
) -> None:
    """Kent opens a case through the hub: an accepted receipt, and Essex gets the delivery."""
    pki = EphemeralPki([HUB, *FORCES])
    trust = pki.trust_store()
    async with RunningBroker(settings, trust=trust, hub_key=pki.key(HUB)):
        clients = {
            force: await ForceClient(
                force=force,
                key=pki.key(force),
                trust=trust,
                nats_url=server.url,
                credentials=bundle.credentials[force],
                ca=ca,
            ).connect()
            for force in FORCES
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


async def test_a_case_flows_through_a_hub_with_per_force_credentials(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "bundle", FORCES, store_dir=None)
    server = EmbeddedNats(tmp_path / "store", config_file=bundle.configs[0]).start()
    try:
        settings = BrokerSettings(
            data_dir=tmp_path / "hub",
            nats_url=server.url,
            nats_credentials=bundle.credentials[HUB],
            partitions=2,
        )
        await _a_case_flows(bundle, server, settings, ca=None)
    finally:
        server.stop()


async def test_a_case_flows_through_a_hub_on_a_tls_only_server(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "bundle", FORCES, tls=True, store_dir=None)
    assert bundle.tls_dir is not None
    ca = bundle.tls_dir / "ca.pem"
    assert "tls" in bundle.configs[0].read_text()
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
        # The server accepts no plain connection, so provisioning, the hub's FastStream broker
        # and the force clients (on its tls:// URL) all get through only over TLS.
        await _a_case_flows(bundle, server, settings, ca=ca)
    finally:
        server.stop()


def test_a_force_client_takes_a_ca_file_or_a_context_not_both(tmp_path: Path) -> None:
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

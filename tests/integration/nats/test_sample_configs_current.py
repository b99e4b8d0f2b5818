"""The committed sample NATS configs and Helm overlay grant what the product now needs: a
consumer added to the product but missing here would lock forces out of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossforce.adapters.nats.security import delivery_consumers

pytestmark = pytest.mark.server

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SAMPLES = [
    *sorted((DEPLOY / "nats").glob("nats-*.conf")),
    DEPLOY / "k8s" / "nats-accounts.values.yaml",
]
SAMPLE_FORCES = ("KENT", "ESSEX", "METROPOLITAN", "PSOS", "PSOS_E")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_force_may_read_every_delivery_consumer(sample: Path) -> None:
    text = sample.read_text()
    for force in SAMPLE_FORCES:
        for consumer in delivery_consumers(force):
            assert f"$JS.API.CONSUMER.MSG.NEXT.CF_DELIVERY.{consumer}" in text, (force, consumer)
            assert f"$JS.ACK.CF_DELIVERY.{consumer}.>" in text, (force, consumer)

"""The whole broker as containers: the hub image is built here with no registry (Debian's
packages through mmdebstrap, then the product), and the testcontainers broker runs a case
through NATS and hub containers with per-force credentials."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docker.errors import ImageNotFound

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.hub_image import BASE_IMAGE
from crossforce.adapters.testing.broker import expect_delivery, expect_receipt
from crossforce.adapters.testing.containers import docker_client, require_docker, services_required
from crossforce.adapters.testing.crossforce_broker import CrossforceBroker
from crossforce.broker.scenario import case_steps

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

CASE = "CF-2026-000432"


def _require_a_base_image() -> None:
    """The Debian base is made once by mmdebstrap; without it (and without the image) skip,
    or fail where CI says services are mandatory."""
    if shutil.which("mmdebstrap") is not None:
        return
    client = docker_client()
    try:
        client.images.get(BASE_IMAGE)
        return
    except ImageNotFound:
        reason = "mmdebstrap is not installed (apt-get install mmdebstrap)"
    finally:
        client.close()
    if services_required():
        pytest.fail(f"{reason}; CROSSFORCE_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(reason)


async def test_a_case_runs_through_the_containerised_broker(tmp_path: Path) -> None:
    require_docker()
    _require_a_base_image()
    with CrossforceBroker(["KENT", "ESSEX"], workdir=tmp_path) as broker:
        client = docker_client()
        try:
            [hub] = [
                c for c in client.containers.list() if c.image.tags == ["crossforce/hub:0.1.0"]
            ]
            assert hub.attrs["Config"]["User"] == "10001:10001"
        finally:
            client.close()

        def force(code: str) -> ForceClient:
            return ForceClient(
                force=code,
                key=broker.pki.key(code),
                trust=broker.trust,
                nats_url=broker.nats_url,
                credentials=broker.credentials(code),
            )

        kent = await force("KENT").connect()
        essex = await force("ESSEX").connect()
        try:
            opened = case_steps(CASE)[0]
            await expect_receipt(kent.send(opened.message, case_ref=CASE, recipients=["ESSEX"]))
            delivery = await expect_delivery(essex, "case-opened", timeout=20)
            assert delivery.envelope.senderforce == "KENT"
        finally:
            await kent.close()
            await essex.close()
        assert "Crossforce is up" in broker.hub_logs()

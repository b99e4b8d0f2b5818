"""The Node.js example force system (examples/node-force, no Python) passes every conformance
vector, then opens a case through a real hub as its own NATS user: signs and publishes the
envelope, gets the hub's receipt and verifies its signature with Node's crypto."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats.bundle import write_bundle
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.vectors import VECTOR_DIR

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))

from node import REPO, node_project, run_node  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]

EXAMPLE = REPO / "examples" / "node-force"
FORCES = ("KENT", "ESSEX")
PASSPHRASE = "a long passphrase for the node example"


def _rows(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_the_example_message_is_a_valid_case_opened() -> None:
    data = json.loads((EXAMPLE / "case-opened.json").read_text(encoding="utf-8"))
    REGISTRY.parse("uk.police.dvds.case-opened.v1", data)


def test_the_node_example_passes_every_conformance_vector() -> None:
    node = node_project(EXAMPLE)
    result = run_node(node, EXAMPLE / "force.mjs", "--vectors", str(VECTOR_DIR))
    rows = _rows(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [row for row in rows if not row["ok"]] == []
    checks = {row["check"].split(":")[0] for row in rows}
    assert checks == {"canonical", "signature", "signing", "receipt"}
    assert sum(row["check"].startswith("receipt:") for row in rows) > 20


def test_the_node_example_fails_when_a_vector_disagrees(tmp_path: Path) -> None:
    node = node_project(EXAMPLE)
    for source in VECTOR_DIR.iterdir():
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    signatures = json.loads((tmp_path / "signatures.json").read_text(encoding="utf-8"))
    signatures["cases"][0]["expected"] = {"valid": False, "reason_code": "BAD_SIGNATURE"}
    (tmp_path / "signatures.json").write_text(json.dumps(signatures), encoding="utf-8")
    result = run_node(node, EXAMPLE / "force.mjs", "--vectors", str(tmp_path))
    assert result.returncode == 1
    assert any(not row["ok"] for row in _rows(result.stdout))


async def test_the_node_example_opens_a_case_through_a_hub_with_per_force_credentials(
    tmp_path: Path,
) -> None:
    node = node_project(EXAMPLE)
    bundle = write_bundle(tmp_path / "bundle", FORCES, store_dir=None)
    server = EmbeddedNats(tmp_path / "store", config_file=bundle.configs[0]).start()
    pki = EphemeralPki([HUB_FORCE_CODE, *FORCES])
    trust = pki.trust_store()
    (tmp_path / "trust.json").write_text(trust.to_json(), encoding="utf-8")
    pki.key("KENT").to_encrypted_file(tmp_path / "KENT.key", PASSPHRASE)
    settings = BrokerSettings(
        data_dir=tmp_path / "hub",
        nats_url=server.url,
        nats_credentials=bundle.credentials[HUB_FORCE_CODE],
        partitions=2,
    )
    try:
        async with RunningBroker(settings, trust=trust, hub_key=pki.key(HUB_FORCE_CODE)):
            process = await asyncio.create_subprocess_exec(
                node,
                str(EXAMPLE / "force.mjs"),
                "--vectors",
                str(VECTOR_DIR),
                "--nats-url",
                server.url,
                "--force",
                "KENT",
                "--key",
                str(tmp_path / "KENT.key"),
                "--trust",
                str(tmp_path / "trust.json"),
                # One argument: a kid is base64url and may begin with "-".
                f"--anchor-kid={trust.anchor.kid}",
                "--creds",
                str(bundle.credentials["KENT"]),
                "--case-ref",
                "CF-2026-000555",
                cwd=EXAMPLE,
                env={**os.environ, "CROSSFORCE_KEY_PASSPHRASE": PASSPHRASE},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
            output = stdout.decode() + stderr.decode()
            rows = {row["check"]: row for row in _rows(stdout.decode())}
            assert process.returncode == 0, output
            accepted = rows["hub-accepts-a-signed-case"]
            assert accepted["status"] == "accepted" and accepted["receipt_verified"], output
            rejected = rows["hub-rejects-a-tampered-envelope"]
            assert rejected["reason_code"] == "BAD_SIGNATURE", output

            # Essex, a Python force system, receives the case the Node system opened.
            essex = await ForceClient(
                force="ESSEX",
                key=pki.key("ESSEX"),
                trust=trust,
                nats_url=server.url,
                credentials=bundle.credentials["ESSEX"],
            ).connect()
            try:
                delivered = []
                async for delivery in essex.deliveries(idle_timeout=2.0):
                    delivered.append(delivery.envelope)
                    await delivery.ack()
            finally:
                await essex.close()
            assert [(e.name, e.senderforce, e.id) for e in delivered] == [
                ("case-opened", "KENT", accepted["envelope"])
            ]
    finally:
        server.stop()

"""The README's ForceClient example runs as written: the files it names are made the way the
README says, a hub runs on a server with per-force credentials, and the block's own output
says the case was accepted."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crossforce.adapters.nats.bundle import write_bundle
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.pki import EphemeralPki

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### Force systems: the ForceClient SDK"
PASSPHRASE = "a long passphrase for the sdk example"


def _blocks() -> tuple[str, str]:
    section = README.read_text(encoding="utf-8").split(HEADING, 1)[1].split("\n### ", 1)[0]
    bash = section.split("```bash\n", 1)[1].split("```", 1)[0]
    python = section.split("```python\n", 1)[1].split("```", 1)[0]
    return bash, python


def test_the_example_is_complete() -> None:
    _, python = _blocks()
    for needed in ("from_encrypted_file", "TrustStore.load", "model_validate", "asyncio.run"):
        assert needed in python


async def test_the_readme_sdk_example_runs_against_a_hub(tmp_path: Path) -> None:
    bash, python = _blocks()
    [command] = [line for line in bash.splitlines() if line.startswith("crossforce ")]
    args, _, target = command.partition(" > ")
    cli = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()"]
    made = subprocess.run(
        [*cli, *args.split()[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    (tmp_path / target.strip()).write_text(made.stdout, encoding="utf-8")
    (tmp_path / "force.py").write_text(python, encoding="utf-8")

    bundle = write_bundle(tmp_path, ("KENT", "ESSEX"), store_dir=None)  # creds/KENT.nk
    pki = EphemeralPki([HUB_FORCE_CODE, "KENT", "ESSEX"])
    trust = pki.trust_store()
    pki.key("KENT").to_encrypted_file(tmp_path / "keys" / "KENT.key", PASSPHRASE)
    (tmp_path / "trust.json").write_text(trust.to_json(), encoding="utf-8")
    server = EmbeddedNats(tmp_path / "store", config_file=bundle.configs[0]).start()
    settings = BrokerSettings(
        data_dir=tmp_path / "hub",
        nats_url=server.url,
        nats_credentials=bundle.credentials[HUB_FORCE_CODE],
        partitions=2,
    )
    env = {
        **os.environ,
        "CROSSFORCE_KEY_PASSPHRASE": PASSPHRASE,
        "CROSSFORCE_ANCHOR_KID": trust.anchor.kid,
        "CROSSFORCE_NATS_URL": server.url,
    }
    try:
        async with RunningBroker(settings, trust=trust, hub_key=pki.key(HUB_FORCE_CODE)):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "force.py",
                cwd=tmp_path,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:
        server.stop()
    output = stdout.decode()
    assert process.returncode == 0, output + stderr.decode()
    assert output.splitlines()[0] == "accepted", output
    assert "Traceback" not in stderr.decode()

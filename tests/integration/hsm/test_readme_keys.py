"""The README's "Keys worth the data" commands, run as written through the installed CLI
against SoftHSM2: rewrap old key files, make keys in the HSM, sign with one, and run the hub
with its key in the HSM."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from crossforce.adapters.net import free_port
from crossforce.adapters.testing.softhsm import SO_PIN, USER_PIN, start_softhsm
from crossforce.contracts.keys import SigningKey, key_file_protection
from crossforce.contracts.keystore import load_key_set

README = Path(__file__).resolve().parents[3] / "README.md"
PASSPHRASE = "a long test passphrase"


def _block(heading: str) -> list[str]:
    text = README.read_text().split(heading, 1)[1]
    commands = []
    for block in text.split("### ", 1)[0].split("```bash")[1:]:
        commands += [
            re.sub(r"\s+#.*$", "", line).strip()
            for line in block.split("```", 1)[0].splitlines()
            if line.startswith("crossforce ")
        ]
    return commands


def _old_key_file(path: Path, force: str) -> None:
    key = SigningKey.generate(force)
    pem = key._private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"force": force, "kid": key.kid, "encrypted_pkcs8": pem.decode()}))


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


def test_the_readme_key_commands_run_as_written(tmp_path: Path) -> None:
    if shutil.which("crossforce") is None:
        pytest.fail("the crossforce console script is not installed (pip install -e .)")
    hsm = start_softhsm()  # fails under CROSSFORCE_REQUIRE_SERVICES when SoftHSM2 is missing
    # The README's token, in a token directory of this test's own (the CLI loads the module
    # afresh in each process, so it sees a token made now).
    conf = tmp_path / "softhsm2.conf"
    (tmp_path / "tokens").mkdir()
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    env.update(
        SOFTHSM2_CONF=str(conf),
        CROSSFORCE_PKCS11_MODULE=hsm.module,
        CROSSFORCE_KEY_PASSPHRASE=PASSPHRASE,
    )
    (tmp_path / "pin").write_text(USER_PIN + "\n")
    env["CROSSFORCE_PKCS11_PIN_FILE"] = str(tmp_path / "pin")
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "crossforce", "--pin", USER_PIN,
         "--so-pin", SO_PIN],
        env=env, check=True, capture_output=True,
    )  # fmt: skip

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    for force in ("KENT", "ESSEX"):
        _old_key_file(tmp_path / "keys" / f"{force}.key", force)
    assert run("crossforce keys new --anchor --out keys/").returncode == 0

    commands = _block("### Keys worth the data")
    assert len(commands) == 5
    rewrap, new_hub, new_kent, sign, up = commands

    assert run(rewrap).returncode == 0
    for force in ("KENT", "ESSEX"):
        assert key_file_protection(tmp_path / "keys" / f"{force}.key").strong
        assert (tmp_path / "keys" / f"{force}.key.bak").exists()

    for command in (new_hub, new_kent):
        result = run(command)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
    assert not list((tmp_path / "hsm-keys").glob("*.key"))  # private keys stay in the HSM

    example = run("crossforce message example case-opened --from KENT --to ESSEX")
    (tmp_path / "unsigned.json").write_text(example.stdout)
    signed = run(sign)
    assert signed.returncode == 0, signed.stderr
    trust = run(
        "crossforce keys trust --anchor keys/anchor.key hsm-keys/HUB.jwk hsm-keys/KENT.jwk "
        "> trust.json"
    )
    assert trust.returncode == 0, trust.stderr
    kid = load_key_set(tmp_path / "keys" / "anchor.jwk").keys[0].kid
    verified = run(f"crossforce message verify signed.json --trust trust.json --anchor-kid {kid}")
    assert verified.returncode == 0, verified.stderr

    # The hub with its key in the HSM: up, ready, stopped cleanly. The embedded NATS takes
    # any free port here, and the ops port is a free one, not necessarily the README's.
    ops_port = free_port()
    command = up.replace("--ops-port 9400", f"--ops-port {ops_port}") + " --port 0"
    hub = subprocess.Popen(
        f"exec {command}", shell=True, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _ready(ops_port) and hub.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _ready(ops_port), hub.stderr.read() if hub.poll() is not None else "not ready"
    finally:
        hub.send_signal(signal.SIGTERM)  # the hub, which stops its own nats-server
        _, stderr = hub.communicate(timeout=60)
    assert hub.returncode == 0, stderr
    assert "Crossforce is up" in stderr

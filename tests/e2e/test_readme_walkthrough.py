"""The README's key walk-through, run exactly as written through the installed CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

README = Path(__file__).resolve().parents[2] / "README.md"


def _walkthrough_commands() -> list[str]:
    text = README.read_text()
    block = text.split("## Sign and verify a message yourself", 1)[1].split("```bash", 1)[1]
    block = block.split("```", 1)[0]
    return [
        re.sub(r"\s+#.*$", "", line).strip()
        for line in block.splitlines()
        if line.strip().startswith("crossforce ")
    ]


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    if shutil.which("crossforce") is None:
        pytest.fail("the crossforce console script is not installed (pip install -e .)")
    return tmp_path


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_readme_walkthrough_signs_and_verifies(workdir: Path) -> None:
    env = {**os.environ, "CROSSFORCE_KEY_PASSPHRASE": "a long test passphrase"}
    commands = _walkthrough_commands()
    assert len(commands) == 7
    for command in commands:
        result = _run(command, workdir, env)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert "Traceback" not in result.stderr
    assert (workdir / "keys" / "KENT.key").stat().st_mode & 0o777 == 0o600
    signed = json.loads((workdir / "signed.json").read_text())
    assert signed["signature"].count(".") == 2 and ".." in signed["signature"]

    # Any edit to signed.json fails with a reason code, one line, no traceback.
    signed["recipients"] = "KENT,SURREY"
    (workdir / "signed.json").write_text(json.dumps(signed))
    result = _run(commands[-1], workdir, env)
    assert result.returncode != 0
    assert "BAD_SIGNATURE" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_input_is_one_line_with_a_code(workdir: Path) -> None:
    (workdir / "broken.json").write_text("{not json")
    env = {**os.environ, "CROSSFORCE_KEY_PASSPHRASE": "x" * 16}
    _run("crossforce keys new --anchor --out keys/", workdir, env)
    _run("crossforce keys new --force KENT --out keys/", workdir, env)
    _run("crossforce keys trust --anchor keys/anchor.key keys/KENT.jwk > trust.json", workdir, env)
    result = _run("crossforce message verify --trust trust.json broken.json", workdir, env)
    assert result.returncode != 0
    assert "MALFORMED_JSON" in result.stderr and "Traceback" not in result.stderr
    wrong = {**env, "CROSSFORCE_KEY_PASSPHRASE": "wrong passphrase"}
    (workdir / "msg.json").write_text(
        _run("crossforce message example case-opened --from KENT --to ESSEX", workdir, env).stdout
    )
    result = _run("crossforce message sign --key keys/KENT.key msg.json", workdir, wrong)
    assert result.returncode != 0 and "BAD_PASSPHRASE" in result.stderr


def test_contracts_list_json_names_every_type() -> None:
    result = subprocess.run(
        ["crossforce", "contracts", "list", "--json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    types = {entry["type"] for entry in json.loads(result.stdout)}
    for name in ("case-opened", "enquiry-result", "receipt", "escalation-raised"):
        assert f"uk.police.dvds.{name}.v1" in types
    assert "uk.police.dvds.enquiry-result.v2" in types

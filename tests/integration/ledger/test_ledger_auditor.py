"""An auditor's checks with the hub's public key only: checkpoints and the consistency of
the log between two of them (`crossforce ledger consistency OLD NEW`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ledger_helpers import append, forge, open_ledger
from typer.testing import CliRunner, Result

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.broker.cli import main
from crossforce.contracts.keys import SigningKey
from crossforce.contracts.keystore import KeyDirectory
from crossforce.ledger import verify_consistency

PASSPHRASE = "a long test passphrase"
README = Path(__file__).resolve().parents[3] / "README.md"
runner = CliRunner()


def ledger_cli(*args: str) -> Result:
    main._register()
    # No passphrase anywhere: an auditor holds the public key only.
    env = {"CROSSFORCE_KEY_PASSPHRASE": ""}
    return runner.invoke(main.app, ["ledger", *args], env=env)


@pytest.fixture()
def hub(tmp_path: Path) -> tuple[SigningKey, Path]:
    """The hub's key made as an operator would: keys/HUB.key and the public keys/HUB.jwk."""
    key = KeyDirectory(tmp_path / "keys").create("HUB", PASSPHRASE)
    return key, tmp_path / "keys" / "HUB.jwk"


def _checkpoints(db_url: str, key: SigningKey, tmp_path: Path) -> tuple[Path, Path]:
    with open_ledger(db_url, key) as ledger:
        for number in range(5):
            append(ledger, number)
        old = tmp_path / "old.txt"
        old.write_text(ledger.checkpoint())
        for number in range(5, 12):
            append(ledger, number)
        new = tmp_path / "new.txt"
        new.write_text(ledger.checkpoint())
    return old, new


def test_consistency_between_two_published_checkpoints(
    db_url: str, hub: tuple[SigningKey, Path], tmp_path: Path
) -> None:
    key, public = hub
    old, new = _checkpoints(db_url, key, tmp_path)
    common = ("--db-url", db_url, "--public-key", str(public))

    result = ledger_cli("consistency", str(old), str(new), *common)
    assert result.exit_code == 0, result.output
    assert "OK the log at 12 entries extends the signed log at 5" in result.stdout

    document = json.loads(ledger_cli("consistency", str(old), *common, "--json").stdout)
    assert (document["old"]["tree_size"], document["new"]["tree_size"]) == (5, 12)
    assert document["consistent"] is True
    import base64

    decoded = [base64.b64decode(step) for step in document["path"]]
    assert verify_consistency(
        5,
        12,
        base64.b64decode(document["old"]["root_hash"]),
        base64.b64decode(document["new"]["root_hash"]),
        decoded,
    )

    forge(db_url, rewrite=2)  # an insider rewrites entry 2 and rebuilds the tree
    rewritten = ledger_cli("consistency", str(old), str(new), *common)
    assert rewritten.exit_code == 1, rewritten.output
    assert "FAIL" in rewritten.stdout and "was changed" in rewritten.stdout


def test_notes_not_signed_by_the_hub_are_a_verification_failure(
    db_url: str, hub: tuple[SigningKey, Path], tmp_path: Path
) -> None:
    key, public = hub
    old, new = _checkpoints(db_url, key, tmp_path)
    stranger = tmp_path / "stranger.jwk"
    KeyDirectory(tmp_path / "other").create("HUB", PASSPHRASE)
    shutil.copy(tmp_path / "other" / "HUB.jwk", stranger)
    result = ledger_cli(
        "consistency", str(old), str(new), "--db-url", db_url, "--public-key", str(stranger)
    )
    assert result.exit_code == 1
    assert "no signature by a trusted key" in result.stdout


def test_checkpoints_verify_with_the_public_key_only(
    hub: tuple[SigningKey, Path], tmp_path: Path
) -> None:
    key, public = hub
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    old, _ = _checkpoints(url, key, tmp_path)
    result = ledger_cli(
        "verify", "--db-url", url, "--checkpoint", str(old), "--public-key", str(public)
    )
    assert result.exit_code == 0, result.output
    assert "OK 12 entries" in result.stdout
    assert "trust on first use" not in result.output  # the key came from outside

    # A private key is never what a check needs, and is refused.
    private = ledger_cli(
        "verify", "--db-url", url, "--public-key", str(tmp_path / "keys" / "HUB.key")
    )
    assert private.exit_code == 3 and "KEY_FILE_INVALID" in private.stderr
    jwk_with_d = tmp_path / "private.jwk"
    jwk_with_d.write_text(json.dumps({**key.jwk, "d": "AAAA"}))
    refused = ledger_cli("verify", "--db-url", url, "--public-key", str(jwk_with_d))
    assert refused.exit_code == 3 and "holds a private key" in refused.stderr


def _readme_ledger_commands() -> list[str]:
    block = README.read_text().split("## The intelligence ledger", 1)[1]
    block = block.split("```bash", 1)[1].split("```", 1)[0]
    return [
        re.sub(r"\s+#.*$", "", line).strip()
        for line in block.splitlines()
        if line.startswith("crossforce ") and "…" not in line
    ]


def test_the_readme_ledger_commands_run_as_written(
    hub: tuple[SigningKey, Path], tmp_path: Path
) -> None:
    if shutil.which("crossforce") is None:
        pytest.fail("the crossforce console script is not installed (pip install -e .)")
    key, _ = hub
    with open_ledger(f"sqlite:///{tmp_path / '.crossforce' / 'ledger.db'}", key) as ledger:
        for number in range(3):
            append(ledger, number, checkpoint=True)
    # As after `crossforce up`: the hub's database beside the ledger, which `proof` and
    # `find-subject` ask whether a read must be reported to a PSD (decision 0051).
    broker = make_engine(f"sqlite:///{tmp_path / '.crossforce' / 'crossforce.db'}")
    prepare_engine(broker, BROKER_SCHEMA)
    broker.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    commands = _readme_ledger_commands()
    assert any("consistency" in command for command in commands)
    assert not any("--key-file" in c for c in commands if "verify" in c or "consistency" in c)
    for command in commands:
        # Only signing a checkpoint needs the private key and its passphrase.
        needs_key = "--key-file" in command
        run_env = {**env, "CROSSFORCE_KEY_PASSPHRASE": PASSPHRASE} if needs_key else env
        result = subprocess.run(
            command,
            shell=True,
            cwd=tmp_path,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"

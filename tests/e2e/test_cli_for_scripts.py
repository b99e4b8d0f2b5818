"""The command line for scripts: JSON output, whole values when piped, distinct exit codes,
`overdue --at` as at that time, and `--data-dir` on every command that reads the data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.cli import main
from crossforce.broker.cli.common import ExitCode
from crossforce.broker.scenario import FORCES, case_steps
from crossforce.contracts.compose import compose
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope

CASE_REF = "CF-2026-000556"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A broker data directory as `crossforce up` lays it out, holding one case."""
    directory = tmp_path_factory.mktemp("data")
    engine = make_engine(f"sqlite:///{directory / 'crossforce.db'}")
    prepare_engine(engine, BROKER_SCHEMA)
    InProcessHub(engine, EphemeralPki(FORCES, now=NOW), NOW).run(
        CASE_REF, case_steps(CASE_REF, NOW)[:5]
    )
    engine.dispose()
    return directory


def _cli(*args: str) -> Any:
    main._register()
    return runner.invoke(main.app, list(args))


def _crossforce(*args: str, cwd: Path, columns: int = 40) -> subprocess.CompletedProcess[str]:
    """The real command, its output piped, as a script would run it on a narrow terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    env["COLUMNS"] = str(columns)
    command = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_cases_and_case_print_json(data_dir: Path) -> None:
    listed = _cli("cases", "--data-dir", str(data_dir), "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["case_ref"] == CASE_REF and row["coordinating_force"] == "ESSEX"
    assert datetime.fromisoformat(row["updated_at"]) == NOW

    whole = json.loads(_cli("case", CASE_REF, "--data-dir", str(data_dir), "--json").output)
    assert {part["owner"] for part in whole["parts"]} >= {"SURREY", "PSOS"}
    assert whole["history"] and whole["viewed_as"]

    # Need-to-know holds in JSON too: Police Scotland sees its own part, no history.
    psos = json.loads(
        _cli("case", CASE_REF, "--force", "PSOS", "--data-dir", str(data_dir), "--json").output
    )
    assert {part["owner"] for part in psos["parts"]} == {"PSOS"}
    assert "history" not in psos
    # No personal details: the view has parties' ids only.
    assert "date_of_birth" not in json.dumps(whole)


def test_overdue_at_a_time_shows_the_levels_and_red_of_that_time(data_dir: Path) -> None:
    def parts_at(at: str) -> dict[str, dict[str, Any]]:
        result = _cli("overdue", "--data-dir", str(data_dir), "--at", at, "--json")
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        assert datetime.fromisoformat(document["at"]).date().isoformat() == at[:10]
        return {part["owner_force"]: part for part in document["parts"]}

    # Surrey's part falls due on Mon 30 Nov: a reminder on the working day before, the
    # overdue notice at due, escalation (red) two working days after.
    before = parts_at("2026-11-26T12:00")["SURREY"]
    assert (before["level_fired"], before["red"], before["late"]) == (0, False, False)
    reminded = parts_at("2026-11-27T12:00")["SURREY"]
    assert (reminded["level_fired"], reminded["level_name"]) == (1, "deadline-reminder")
    late = parts_at("2026-12-04T12:00")["SURREY"]
    assert (late["level_fired"], late["level_name"], late["red"]) == (3, "escalation-raised", True)
    assert late["late"] and late["working_days_late"] > 0


def test_overdue_piped_shows_whole_case_references(data_dir: Path) -> None:
    result = _crossforce(
        "overdue", "--data-dir", str(data_dir), "--at", "2026-12-04T12:00", cwd=data_dir
    )
    assert result.returncode == 0, result.stderr
    assert CASE_REF in result.stdout  # not cut to "CF-2026…"
    assert "…" not in result.stdout
    assert "escalation-raised" in result.stdout and "RED" in result.stdout


def test_exit_codes_tell_usage_verification_and_runtime_apart(
    data_dir: Path, tmp_path: Path
) -> None:
    usage = _crossforce("cases", "--no-such-option", cwd=tmp_path)
    assert usage.returncode == ExitCode.USAGE == 2
    unknown_force = _crossforce("cases", "--force", "NOPE", cwd=tmp_path)
    assert unknown_force.returncode == ExitCode.USAGE
    runtime = _crossforce("cases", "--data-dir", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert runtime.returncode == ExitCode.RUNTIME_ERROR == 3
    assert runtime.stderr.startswith("error DATABASE_ERROR: ")

    # A message whose signature was altered: the check ran and failed.
    pki = EphemeralPki(["KENT", "ESSEX"], now=NOW)
    (tmp_path / "trust.json").write_text(pki.trust_store().to_json())
    pin = ("--anchor-kid", pki.anchor.kid)
    step = case_steps(CASE_REF, NOW)[0]
    signed = sign_envelope(
        compose(
            step.message, sender="KENT", case_ref=CASE_REF, jurisdiction="england-wales", time=NOW
        ),
        pki.key("KENT"),
    )
    body = signed.to_json_dict()
    (tmp_path / "good.json").write_text(json.dumps(body))
    body["caseref"] = "CF-2026-999999"
    (tmp_path / "altered.json").write_text(json.dumps(body))
    good = _crossforce(
        "message", "verify", "good.json", "--trust", "trust.json", *pin, cwd=tmp_path
    )
    assert good.returncode == ExitCode.OK, good.stderr
    altered = _crossforce(
        "message", "verify", "altered.json", "--trust", "trust.json", *pin, cwd=tmp_path
    )
    assert altered.returncode == ExitCode.VERIFICATION_FAILED == 1
    assert altered.stderr.startswith("error BAD_SIGNATURE: ")
    missing = _crossforce(
        "message", "verify", "good.json", "--trust", "none.json", *pin, cwd=tmp_path
    )
    assert missing.returncode == ExitCode.RUNTIME_ERROR
    assert missing.stderr.startswith("error FILE_ERROR: ")


def test_every_reading_command_takes_the_data_directory(data_dir: Path, tmp_path: Path) -> None:
    # Run from elsewhere, so only --data-dir can find the database.
    for args in (
        ("cases",),
        ("case", CASE_REF),
        ("overdue", "--at", "2026-12-04T12:00"),
        ("db", "current"),
    ):
        result = _crossforce(*args, "--data-dir", str(data_dir), cwd=tmp_path)
        assert result.returncode == 0, (args, result.stderr)
        assert CASE_REF in result.stdout or args[0] == "db", args
    # The ledger's file sits in the same directory: the ledger commands look there too.
    ledger = _crossforce("ledger", "verify", "--data-dir", str(data_dir), cwd=tmp_path)
    assert ledger.returncode == ExitCode.RUNTIME_ERROR
    assert str(data_dir / "ledger.db") in ledger.stderr


def test_the_readme_exit_code_table_is_the_codes_the_cli_uses() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### Exit codes", 1)[1].split("\n\n")[2]
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    documented = {int(code): meaning.strip() for code, meaning in rows}
    assert set(documented) == {code.value for code in ExitCode}
    assert documented[ExitCode.VERIFICATION_FAILED].startswith("verification failed")
    assert documented[ExitCode.USAGE].startswith("usage")
    assert documented[ExitCode.RUNTIME_ERROR].startswith("runtime error")

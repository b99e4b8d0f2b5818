"""A whole demo run's logs, as JSON lines, name no person and no date of birth.

The demo's parties (broker/scenario.py) travel in every envelope of the run; the hub logs
reason codes, envelope ids and case references about them, never their content.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crossforce.broker.scenario import case_steps

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]


def _people(value: Any) -> set[str]:
    """Every name and date of birth in a message's data, in the forms a log could show."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "family_name" in value:
            found |= {value["given_names"], value["family_name"]}
            if value.get("date_of_birth"):
                born = date.fromisoformat(str(value["date_of_birth"]))
                found |= {born.isoformat(), born.strftime("%d/%m/%Y")}
        for item in value.values():
            found |= _people(item)
    elif isinstance(value, list):
        for item in value:
            found |= _people(item)
    return found


def test_a_demo_run_logs_no_personal_data(tmp_path: Path) -> None:
    personal = set().union(
        *(_people(step.message.model_dump(mode="json")) for step in case_steps("CF-X"))
    )
    assert {"Alexandra", "Sample", "1986-11-02"} <= personal  # the check has teeth
    result = subprocess.run(
        [
            sys.executable,
            *("-c", "from crossforce.broker.cli.main import run; run()"),
            *("demo", "--data-dir", str(tmp_path / "demo")),
            *("--log-level", "debug", "--log-format", "json"),
        ],
        cwd=tmp_path,
        env={**os.environ, "CROSSFORCE_KEY_PASSPHRASE": "x" * 16},
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines, "the demo logged nothing"
    assert any(line["logger"].startswith("crossforce") for line in lines)
    for line in lines:
        text = json.dumps(line, ensure_ascii=False)
        leaked = sorted(word for word in personal if word in text)
        assert not leaked, f"{leaked} in a log line from {line['logger']}"

"""`crossforce demo`, the quick start's first command, runs a real case through a real broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]


def test_demo_shows_the_whole_case_from_opening_to_ledger(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from broker.cli.main import run; run()", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Every scripted step was accepted, including the handoff and the ownership transfer.
    assert "rejected" not in out.split("Forged and repeated messages")[0]
    assert "co-ordination-transfer-accepted" in out
    assert "disclosure-handoff" in out
    # The tampered copy is refused with its code and dead-lettered; the repeat is applied once.
    assert "rejected BAD_SIGNATURE" in out
    assert "CF_DEADLETTER holds 1 record(s)" in out
    assert "duplicate=True" in out
    # Police Scotland's view is its own parts only.
    psos_view = out.split("Police Scotland's view")[1].split("Case CF-2026-000124")[0]
    assert "applicant-liaison" not in psos_view
    # The late response climbs the ladder on the simulated clock.
    for step in ("deadline-reminder", "overdue-notice", "escalation-raised"):
        assert step in out.split("a late response")[1]
    assert "case red: True" in out
    # And the case closes into the ledger, proven and verified.
    assert "proof verifies: True" in out
    assert "verify: OK" in out

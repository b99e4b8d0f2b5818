"""`crossforce demo`, the quick start's first command, runs a real case through a real broker."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]


def test_demo_shows_the_whole_case_from_opening_to_ledger(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", "demo"],
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

    # The quick start's next step: browse the demo's data in the supervisors' web app.
    command = re.search(r"(crossforce web serve --data-dir \S+ --at \S+)", out)
    password = re.search(r"with the password (\S+)", out)
    assert command and password, out[-600:]
    browse_demo(tmp_path, command.group(1).split()[1:], password.group(1))


def browse_demo(cwd: Path, args: list[str], password: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from crossforce.broker.cli.main import run; run()",
            *args,
            "--port",
            str(port),
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base) as web:
            for _ in range(100):
                try:
                    sign_in = web.get("/sign-in")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = re.search(r'name="csrf_token" value="([^"]+)"', sign_in.text)
            assert token is not None
            signed_in = web.post(
                "/sign-in",
                data={"username": "demo.essex", "password": password, "csrf_token": token[1]},
            )
            assert signed_in.status_code == 303, signed_in.text
            cases = web.get("/cases").text
            # Essex co-ordinates the late case, and keeps a read-only record of the case it
            # handed to the Met.
            rows = {
                ref: row for row in cases.split("<tr") for ref in re.findall(r"CF-\d+-\d+", row)
            }
            assert "1 late" in rows["CF-2026-000124"] and "Red: escalated" in rows["CF-2026-000124"]
            assert "Former: read-only" in rows["CF-2026-000123"]
    finally:
        server.terminate()
        server.wait(timeout=10)

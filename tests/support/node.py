"""Running a committed Node.js project (tools/, examples/) from a test.

Its dependencies are installed by `npm ci` in that folder (`.ci/run` does it). Without node or
the installed packages the test is skipped, saying how to install them; with
CROSSFORCE_REQUIRE_SERVICES=1 (as CI sets) that is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REQUIRE_SERVICES_ENV = "CROSSFORCE_REQUIRE_SERVICES"


def node_project(folder: Path) -> str:
    """The node executable, once `folder`'s packages are installed; else skip or fail."""
    node = shutil.which("node")
    reason = None
    if node is None:
        reason = "node is not installed (Node.js 20 or later)"
    elif not (folder / "node_modules").is_dir():
        reason = f"its packages are not installed: run `npm ci` in {folder.relative_to(REPO)}"
    if reason is None and node is not None:
        return node
    if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
        pytest.fail(f"Node.js project required ({REQUIRE_SERVICES_ENV}=1): {reason}")
    pytest.skip(f"Node.js project not ready: {reason}")


def run_node(
    node: str, script: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(script), *args],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )

"""The command line turns every failure into one line with a stable code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crossforce.adapters.nats.connection import redact
from crossforce.adapters.sql.engine import make_engine


def crossforce(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "code", "status"),
    [
        (("cases",), "DATABASE_ERROR", 3),
        (("case", "CF-2026-000001"), "DATABASE_ERROR", 3),
        (("overdue", "--db-url", "sqlite:///nowhere/crossforce.db"), "DATABASE_ERROR", 3),
        (("cases", "--force", "NOPE"), "UNKNOWN_FORCE", 2),
        (("contracts", "export", "a-file"), "FILE_ERROR", 3),
        (("message", "verify", "signed.json", "--trust", "trust.json"), "FILE_ERROR", 3),
        (("web", "serve"), "DATABASE_ERROR", 3),
    ],
)
def test_a_failure_is_one_line_with_its_code(
    tmp_path: Path, args: tuple[str, ...], code: str, status: int
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    result = crossforce(*args, cwd=tmp_path)
    assert result.returncode == status
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error {code}: ")
    # A command that only reads never leaves an empty database behind.
    assert not (tmp_path / ".crossforce").exists()
    assert not (tmp_path / "nowhere").exists()


def test_urls_are_printed_without_their_credentials() -> None:
    assert redact("nats://hub:s3cret@n1:4222,nats://hub:s3cret@n2:4222") == (
        "nats://***@n1:4222,nats://***@n2:4222"
    )
    assert (
        redact("postgresql+psycopg://cf:pw@db/crossforce")
        == "postgresql+psycopg://***@db/crossforce"
    )
    assert redact("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


def test_the_broker_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'crossforce.db'}")
    engine.dispose()
    assert (tmp_path / "data" / "crossforce.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("image", ["hub-image", "nats-image"])
def test_building_an_image_without_docker_is_one_line(tmp_path: Path, image: str) -> None:
    command = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()"]
    result = subprocess.run(
        [*command, "deploy", image],
        cwd=tmp_path,
        env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3  # a runtime error: the engine is missing, not the usage wrong
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error DOCKER_ERROR: no Docker engine answered")

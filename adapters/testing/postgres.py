"""A real, throwaway PostgreSQL server from Debian's package, as a pytest fixture.

`postgres_url` starts one server per test session: `initdb` and `pg_ctl` from
/usr/lib/postgresql/<version>/bin, run as the `postgres` OS user when we are root (the
server refuses to run as root), in a temporary directory, on a free local port. It yields a
SQLAlchemy URL `postgresql+psycopg://...` and stops the server afterwards.

With no server binaries the tests using it are skipped, with the reason; set
CROSSFORCE_REQUIRE_SERVICES=1 (as CI does) to make that a failure instead.
`fresh_postgres_url` gives each test its own empty database on that server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossforce.adapters.net import free_port

REQUIRE_SERVICES_ENV = "CROSSFORCE_REQUIRE_SERVICES"
DATABASE = "crossforce"
USER = "crossforce"


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
    )
    for path in reversed(candidates):
        if (Path(path) / "initdb").exists() and (Path(path) / "pg_ctl").exists():
            return Path(path)
    return None


def _as_server_user() -> list[str]:
    # PostgreSQL will not run as root; drop to the package's `postgres` user.
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root but `runuser` is missing")
    return [runuser, "-u", "postgres", "--"]


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
        pytest.fail(f"PostgreSQL required ({REQUIRE_SERVICES_ENV}=1): {reason}")
    pytest.skip(f"PostgreSQL not available: {reason} (apt-get install -y postgresql)")


class PostgresServer:
    """One initdb'd cluster in a temporary directory, started with pg_ctl."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="crossforce-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.port = free_port()
        self.prefix = _as_server_user()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True)
        if self.prefix:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "start",
        )
        self._run(
            str(self.bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            USER,
            DATABASE,
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _unavailable("no /usr/lib/postgresql/*/bin with initdb and pg_ctl")
        raise AssertionError("unreachable")
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        server.stop()
        _unavailable(f"the server did not start: {exc.stderr or exc.stdout}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of a session-wide PostgreSQL database (psycopg 3 driver)."""
    return postgres_server.url


@pytest.fixture()
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty database on the session server for one test; dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = f"host=127.0.0.1 port={postgres_server.port} user={USER} dbname={DATABASE}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

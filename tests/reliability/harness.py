"""Real processes for the reliability tests: `crossforce up` as a subprocess, its key files,
and mixed traffic (valid case messages and malformed inputs) recorded in a `SendLog`.

Shared by tests/reliability and the soak run (tests/perf/soak.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nats
from conservation import APPLIED, REFUSED, SendLog, Sent
from nats.js import JetStreamContext

from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.server import _die_with_parent
from crossforce.adapters.net import free_ports
from crossforce.broker.scenario import case_steps
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.forces import FORCES as DIRECTORY
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope
from crossforce.ledger.key_material import MASTER_KEY_ENV, SUBJECT_KEY_ENV, generate_secret

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "reliability-suite-passphrase"
# The scripted case's first steps: Kent opens it (delivered to Essex), then Essex asks Surrey
# and Police Scotland (each delivered to the force asked).
CASE_STEPS = 3
# The console script's entry point, run by this interpreter (the checkout's code).
CROSSFORCE = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()"]


def inbound_partition(case_ref: str, partitions: int) -> int:
    """The partition the inbound stream's `partition(n, 2)` transform gives a case: FNV-1a
    (32 bit) of the case reference token, modulo n, as nats-server computes it."""
    value = 0x811C9DC5
    for byte in case_ref.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % partitions


def case_refs_by_partition(partitions: int, per_partition: int, stem: str) -> list[list[str]]:
    """`per_partition` distinct case references landing in each partition."""
    found: list[list[str]] = [[] for _ in range(partitions)]
    index = 0
    while any(len(refs) < per_partition for refs in found):
        ref = f"{stem}-{index:06d}"
        bucket = found[inbound_partition(ref, partitions)]
        if len(bucket) < per_partition:
            bucket.append(ref)
        index += 1
    return found


@dataclass(frozen=True, slots=True)
class KeyFiles:
    trust: Path
    hub_key: Path
    anchor_kid: str


def write_key_files(pki: EphemeralPki, where: Path) -> KeyFiles:
    """The files `crossforce up` reads: the signed trust store and the hub's encrypted key."""
    where.mkdir(parents=True, exist_ok=True)
    trust = where / "trust.json"
    trust.write_text(pki.trust_store().to_json())
    hub_key = where / "HUB.key"
    pki.key("HUB").to_encrypted_file(hub_key, PASSPHRASE)
    return KeyFiles(trust, hub_key, pki.trust_store().anchor.kid)


SHARED_LEDGER_KEYS = {MASTER_KEY_ENV: generate_secret(), SUBJECT_KEY_ENV: generate_secret()}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["CROSSFORCE_KEY_PASSPHRASE"] = PASSPHRASE
    env.pop("CROSSFORCE_DB_URL", None)
    # Replicas on one database share the ledger's keys, as production gives them.
    env.setdefault(MASTER_KEY_ENV, SHARED_LEDGER_KEYS[MASTER_KEY_ENV])
    env.setdefault(SUBJECT_KEY_ENV, SHARED_LEDGER_KEYS[SUBJECT_KEY_ENV])
    return env


def up_command(
    keys: KeyFiles,
    data_dir: Path,
    *,
    nats_url: str | None = None,
    port: int = 0,
    db_url: str | None = None,
    partitions: int = 4,
    replicas: int = 1,
) -> list[str]:
    command = [*CROSSFORCE, "up", "--data-dir", str(data_dir)]
    command += ["--trust", str(keys.trust), "--hub-key", str(keys.hub_key)]
    command += ["--anchor-kid", keys.anchor_kid, "--partitions", str(partitions)]
    command += ["--log-level", "warning"]
    if nats_url is not None:
        command += ["--nats-url", nats_url]
    else:
        command += ["--port", str(port)]
    if db_url is not None:
        command += ["--db-url", db_url]
    if replicas != 1:
        command += ["--replicas", str(replicas)]
    return command


class HubProcess:
    """`crossforce up` as its own process; stdout and stderr go to a log file."""

    def __init__(
        self, command: Sequence[str], log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.command = list(command)
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> HubProcess:
        self.spawn()
        return self.wait_up(timeout)

    def spawn(self) -> None:
        """Start the process without waiting (see `wait_up`)."""
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=child_env(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session (a signal to the test reaches it only on purpose), yet it
                # dies with the test process however that ends, as the embedded server does.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )

    def wait_up(self, timeout: float = 60.0) -> HubProcess:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        marker = "Crossforce is up"
        while marker not in self._this_run():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"crossforce up exited {self.process.returncode}:\n{self.output}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"crossforce up did not come up in {timeout}s:\n{self.output}")
            time.sleep(0.1)
        return self

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _this_run(self) -> str:
        return self.output.rsplit(f"--- start {self.starts}\n", 1)[-1]

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no drain, no shutdown hooks."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> HubProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is not running.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def one_free_port() -> int:
    return free_ports(1, "127.0.0.1")[0]


# -- traffic ----------------------------------------------------------------------------------


def signed_step(
    pki: EphemeralPki, case_ref: str, index: int, *, time: datetime | None = None
) -> Envelope:
    step = case_steps(case_ref, time)[index]
    return sign_envelope(
        compose(
            step.message,
            sender=step.sender,
            case_ref=case_ref,
            recipients=step.recipients,
            jurisdiction=DIRECTORY[step.sender].jurisdiction,
            time=time,
        ),
        pki.key(step.sender),
    )


def malformed_inputs(rng: random.Random) -> Iterator[bytes]:
    """Bytes no envelope reader may accept, one kind after another."""
    kinds = [
        lambda: rng.randbytes(rng.randint(1, 200)),
        lambda: b'{"specversion": "1.0", "id": "' + rng.randbytes(8).hex().encode(),
        lambda: b"[" * 10_000 + b"]" * 10_000,
        lambda: b'{"data": {"n": ' + b"9" * 5_000 + b"}}",
        lambda: b'{"data": {"n": NaN}}',
        lambda: b'{"data": {"n": 1e400}}',
        lambda: b'{"data": {"s": "\\ud800"}}',
        lambda: b'{"id": "a", "id": "b"}',
        lambda: b"\xef\xbb\xbf{}",
        lambda: b'{"s": "\xc0\xaf"}',
        lambda: b"",
    ]
    while True:
        yield rng.choice(kinds)()


class Traffic:
    """Forces sending the scripted case's first steps on many cases, with malformed inputs
    mixed in; every publish lands in `log`."""

    def __init__(
        self, pki: EphemeralPki, js: JetStreamContext, log: SendLog, *, seed: int = 12
    ) -> None:
        self.pki = pki
        self.js = js
        self.log = log
        self.rng = random.Random(seed)
        self.junk = malformed_inputs(self.rng)
        self.counter = 0

    async def case(self, case_ref: str, *, steps: int = CASE_STEPS) -> list[Sent]:
        sent = []
        for index in range(steps):
            envelope = signed_step(self.pki, case_ref, index)
            sent.append(await self.log.publish_envelope(self.js, envelope, expect=APPLIED))
        return sent

    async def junk_input(self, case_ref: str, force: str = "KENT") -> Sent:
        self.counter += 1
        return await self.log.publish(
            self.js,
            force,
            case_ref,
            next(self.junk),
            f"junk-{case_ref}-{self.counter}",
            expect=REFUSED,
        )

    async def run(self, cases: Sequence[str], *, junk_every: int = 5, pause: float = 0.0) -> None:
        for number, case_ref in enumerate(cases, start=1):
            await self.case(case_ref)
            if junk_every and number % junk_every == 0:
                await self.junk_input(case_ref)
            if pause:
                await asyncio.sleep(pause)


async def wait_for_answers(nats_url: str, log: SendLog, *, timeout: float = 120.0) -> None:
    """Until the inbound stream is empty and every send has a receipt on the stream."""
    nc = await nats.connect(nats_url.split(","))
    try:
        js = nc.jetstream()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                info = await js.stream_info(subjects.INBOUND_STREAM)
                receipts = 0
                for force in {item.force for item in log}:
                    stream = await js.stream_info(
                        subjects.DELIVERY_STREAM, subjects_filter=subjects.receipt_subject(force)
                    )
                    receipts += sum((stream.state.subjects or {}).values())
                if info.state.messages == 0 and receipts >= len(log):
                    return
            except (nats.errors.Error, TimeoutError):
                pass
            if loop.time() > deadline:
                raise AssertionError(f"not every input was answered within {timeout}s")
            await asyncio.sleep(0.25)
    finally:
        await nc.close()


def reason(code: ReasonCode) -> str:
    return code.value


def dump(figures: object) -> str:
    return json.dumps(figures, indent=2, sort_keys=True)

"""Soak: mixed traffic through `crossforce up` for a while, with random faults, then the
conservation check over everything sent.

Run:  python tests/perf/soak.py [--minutes 10] [--fault-every 20] [--seed 12] [--max-backlog 300]

Traffic: Kent and Essex work many cases (a case opening, then two enquiries, each delivered to
the force it names), with malformed inputs, replays under new transport ids and messages
dated outside the clock-skew window mixed in. Faults, one at a time at random moments: the hub
SIGKILLed and restarted, nats-server restarted (killed, not drained), and the SQLite database
held under an exclusive lock for 10 s. Afterwards every input must be applied once (and
delivered once to each recipient) or refused with a receipt and a dead letter.

Figures go to tests/perf/results/soak.json and stdout; the exit status is 1 if anything was
lost or doubled. Not collected by pytest (tests/perf is in norecursedirs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests" / "reliability"):  # runnable as a plain script
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import nats  # noqa: E402
from conservation import ANSWERED_AGAIN, REFUSED, SendLog, check_conservation  # noqa: E402
from harness import (  # noqa: E402
    HubProcess,
    Traffic,
    signed_step,
    up_command,
    wait_for_answers,
    write_key_files,
)

from crossforce.adapters.nats import subjects  # noqa: E402
from crossforce.adapters.nats.server import EmbeddedNats  # noqa: E402
from crossforce.adapters.sql.engine import make_engine  # noqa: E402
from crossforce.broker.scenario import FORCES  # noqa: E402
from crossforce.contracts.errors import ReasonCode  # noqa: E402
from crossforce.contracts.pki import EphemeralPki  # noqa: E402

RESULTS = ROOT / "tests" / "perf" / "results" / "soak.json"
FAULTS = ("hub-sigkill", "nats-restart", "sqlite-lock-10s")


async def _quiet(error: Exception) -> None:
    return None


def _hold_exclusive(path: Path, seconds: float) -> None:
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        db.execute("COMMIT")
    finally:
        db.close()


async def soak(
    minutes: float, fault_every: float, seed: int, max_backlog: int, workdir: Path
) -> dict[str, Any]:
    rng = random.Random(seed)
    pki = EphemeralPki(FORCES)
    keys = write_key_files(pki, workdir / "keys")
    data_dir = workdir / "hub"
    with EmbeddedNats(workdir / "nats") as server:
        hub = HubProcess(up_command(keys, data_dir, nats_url=server.url), workdir / "hub.log")
        hub.start()
        try:
            nc = await nats.connect(
                server.url,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.2,
                error_cb=_quiet,  # NATS restarts on purpose here: no tracebacks for them
            )
            js = nc.jetstream()
            log = SendLog()
            traffic = Traffic(pki, js, log, seed=seed)
            faults: Counter[str] = Counter()
            loop = asyncio.get_running_loop()
            started = loop.time()
            stop_at = started + minutes * 60

            async def backlog() -> int:
                try:
                    return int((await js.stream_info(subjects.INBOUND_STREAM)).state.messages)
                except (nats.errors.Error, TimeoutError):
                    return 0  # NATS is restarting: the next look will tell

            async def send() -> None:
                number = 0
                while loop.time() < stop_at:
                    # Paced to what the hub can take: a soak, not a flood.
                    while number % 20 == 0 and await backlog() > max_backlog:
                        await asyncio.sleep(0.25)
                    case_ref = f"CF-SOAK-{number:06d}"
                    sent = await traffic.case(case_ref)
                    if number % 5 == 4:
                        await traffic.junk_input(case_ref, rng.choice(["KENT", "ESSEX"]))
                    if number % 7 == 6:
                        first = sent[0]
                        await log.publish(
                            js,
                            first.force,
                            first.case_ref,
                            first.data,
                            f"replay-{first.msg_id}",
                            envelope_id=first.envelope_id,
                            expect=ANSWERED_AGAIN,
                        )
                    if number % 23 == 22:
                        skew = timedelta(minutes=rng.choice([-15, 15]))
                        stale = signed_step(
                            pki, f"CF-SOAK-STALE-{number:06d}", 0, time=datetime.now(UTC) + skew
                        )
                        await log.publish_envelope(
                            js, stale, expect=REFUSED, reason=ReasonCode.STALE_MESSAGE
                        )
                    number += 1

            async def break_things() -> None:
                order: list[str] = []
                while True:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * fault_every)
                    if loop.time() > stop_at - 5:
                        return
                    if not order:  # every kind once, in a random order, then again
                        order = rng.sample(FAULTS, len(FAULTS))
                    kind = order.pop()
                    faults[kind] += 1
                    print(f"[{loop.time() - started:6.1f}s] fault: {kind} ({len(log)} sent)")
                    if kind == "hub-sigkill":
                        hub.kill()
                        await asyncio.sleep(rng.uniform(0.2, 2.0))
                        await asyncio.to_thread(hub.start)
                    elif kind == "nats-restart":
                        await asyncio.to_thread(server.restart, graceful=False)
                    else:
                        await asyncio.to_thread(_hold_exclusive, data_dir / "crossforce.db", 10.0)

            await asyncio.gather(send(), break_things())
            sending_seconds = loop.time() - started
            await wait_for_answers(server.url, log, timeout=300)
            drained_after = loop.time() - started - sending_seconds
            engine = make_engine(f"sqlite:///{data_dir / 'crossforce.db'}")
            report = await check_conservation(server.url, engine, log)
            engine.dispose()
            await nc.close()
        finally:
            hub.stop()  # SIGTERM, then SIGKILL if it will not drain

    return {
        "run_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": f"python tests/perf/soak.py --minutes {minutes:g} --fault-every "
        f"{fault_every:g} --seed {seed} --max-backlog {max_backlog}",
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "traffic_seconds": round(sending_seconds, 1),
        "answered_all_within_seconds_after_traffic": round(drained_after, 1),
        "messages": report.sent,
        "faults": sum(faults.values()),
        "faults_by_kind": dict(sorted(faults.items())),
        "hub_starts": hub.starts,
        **report.figures(),
        "problem_samples": report.problems[:20],
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long traffic runs")
    parser.add_argument(
        "--fault-every", type=float, default=20.0, help="mean seconds between faults"
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--max-backlog", type=int, default=300, help="inputs waiting for the hub before pausing"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crossforce-soak-") as workdir:
        figures = asyncio.run(
            soak(args.minutes, args.fault_every, args.seed, args.max_backlog, Path(workdir))
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0 if figures["problems"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Profile the hub's pipeline in-process: no NATS, SQLite, the scripted cases in batches.

Run:  python tests/perf/profile_pipeline.py [--cases 30] [--batch 16] [--profile] [--statements]

Signs the first twelve steps of `--cases` scripted cases (cases interleaved, each in order),
then applies them through `HubPipeline.process_batch` in batches of `--batch`, as one
partition reader would, and prints the CPU and wall time per message. With `--profile`, the
30 functions of the project with the most cumulative time follow; with `--statements`, the
SQL statements run per message, by kind. On demand only: not
collected by pytest (tests/perf is in norecursedirs).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from crossforce.adapters.sql.engine import make_engine  # noqa: E402
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine  # noqa: E402
from crossforce.adapters.testing.in_process import InProcessHub  # noqa: E402
from crossforce.broker.scenario import FORCES, case_steps  # noqa: E402
from crossforce.broker.service.pipeline import Inbound  # noqa: E402
from crossforce.contracts.pki import EphemeralPki  # noqa: E402

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a fixed clock, with keys made for it
STEPS = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'hub.db'}")
        prepare_engine(engine, BROKER_SCHEMA)
        statements: Counter[str] = Counter()
        hub = InProcessHub(engine, EphemeralPki(FORCES, now=NOW), NOW)
        scripts = {
            f"CF-2026-{i:06d}": case_steps(f"CF-2026-{i:06d}", NOW) for i in range(args.cases)
        }
        inbounds: list[Inbound] = []
        for step_number in range(STEPS):
            for case_ref, steps in scripts.items():
                step = steps[step_number]
                envelope = hub.sign(step.sender, case_ref, step.message, NOW)
                subject = f"cf.in.0.{step.sender}.{case_ref}"
                inbounds.append(Inbound(envelope.to_bytes(), subject, len(inbounds) + 1, NOW))
        print(f"{len(inbounds)} messages signed; applying in batches of {args.batch}", flush=True)
        if args.statements:
            event.listen(engine, "before_cursor_execute", _counting(statements))
        profiler = cProfile.Profile()
        cpu, wall = time.process_time(), time.perf_counter()
        if args.profile:
            profiler.enable()
        accepted = 0
        for start in range(0, len(inbounds), args.batch):
            batch = inbounds[start : start + args.batch]
            accepted += sum(r.accepted for r in hub.core.pipeline.process_batch(batch))
        profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        engine.dispose()
    count = len(inbounds)
    print(
        f"{accepted}/{count} accepted; CPU {cpu * 1000 / count:.2f} ms and wall "
        f"{wall * 1000 / count:.2f} ms per message"
        + (" (profiled: inflated)" if args.profile else "")
    )
    if args.statements:
        print(f"{statements.total() / count:.1f} SQL statements per message:")
        for kind, seen in statements.most_common():
            print(f"  {seen / count:5.2f}  {kind}")
    if args.profile:
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(30)


def _counting(statements: Counter[str]) -> Callable[..., None]:
    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        words = statement.split()
        table = next((w for w in words[1:] if w.isidentifier() and w.upper() not in _SQL), "")
        statements[f"{words[0]} {table.rstrip('0123456789_')}".strip()] += 1

    return count


_SQL = {"INTO", "FROM", "OR", "DISTINCT", "TRANSACTION", "IMMEDIATE", "TO", "SAVEPOINT"}


if __name__ == "__main__":
    main()

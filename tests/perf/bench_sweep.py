"""Benchmark: the deadline reconciliation sweep over a million open parts.

Run:  python tests/perf/bench_sweep.py [--parts 1000000] [--repeat 5]

It builds open parts in steady state (every step due before the previous sweep has already
fired), then times the sweep at one instant: in memory over a list, and in SQLite through
SQLAlchemy 2 with an index on `next_fire_at`. Figures go to tests/perf/results/sweep.json and
to stdout. Not collected by pytest (tests/perf is in norecursedirs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from sqlalchemy import (  # noqa: E402
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
    text,
)

from crossforce.broker.domain.calendar import LONDON  # noqa: E402
from crossforce.broker.domain.ladder import Deadline, escalation_steps  # noqa: E402
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, due_at  # noqa: E402
from crossforce.broker.domain.sweep import OpenDeadline, sweep  # noqa: E402
from crossforce.contracts.forces import FORCES, ParticipantKind  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "sweep.json"
# A working Tuesday morning after an hour's outage: reminders at 09:00 and clock-hour steps
# in the last hour are due; everything earlier has been fired by previous sweeps.
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=LONDON).astimezone(UTC)
PREVIOUS_SWEEP = NOW - timedelta(hours=1)

metadata = MetaData()
# A minimal deadline table for the benchmark: the hub's own schema is defined elsewhere.
deadline_table = Table(
    "bench_deadline",
    metadata,
    Column("part_id", String, primary_key=True),
    Column("owner_force", String, nullable=False),
    Column("coordinating_force", String, nullable=False),
    Column("due_at", DateTime, nullable=False),  # naive UTC
    Column("immediate_risk", Boolean, nullable=False),
    Column("in_clock_hours", Boolean, nullable=False),
    Column("fired_levels", Integer, nullable=False),  # bit n set = level n fired
    Column("next_fire_at", DateTime, nullable=True, index=True),  # naive UTC
)


def build_open_parts(count: int, seed: int = 20261201) -> list[OpenDeadline]:
    """Open parts owned by every force, started over the last six weeks, in steady state."""
    rng = random.Random(seed)
    policy = SlaPolicy()
    owners = [code for code, f in FORCES.items() if f.kind is not ParticipantKind.DMF]
    coordinators = [code for code in owners if code != "PSNI"]
    day_steps = [SlaStep.RESPONDING_FORCE_ANSWER] * 6 + [
        SlaStep.EW_RTA_FACE_TO_FACE,
        SlaStep.EW_FORUM_REFERRAL,
        SlaStep.MARAC_MINUTES,
    ]
    window = int(timedelta(days=42).total_seconds())
    parts: list[OpenDeadline] = []
    for index in range(count):
        owner = rng.choice(owners)
        started = PREVIOUS_SWEEP - timedelta(seconds=rng.randrange(window))
        urgent = rng.random() < 0.05
        step = SlaStep.EW_RTA_INITIAL_CHECKS if urgent else rng.choice(day_steps)
        deadline = Deadline(
            part_id=f"part-{index:07d}",
            owner_force=owner,
            coordinating_force=rng.choice(coordinators),
            due_at=due_at(step, started, owner, policy),
            immediate_risk=urgent,
            in_clock_hours=urgent,
        )
        parts.append(settled(deadline, PREVIOUS_SWEEP))
    return parts


def settled(deadline: Deadline, at: datetime) -> OpenDeadline:
    """The stored row after every sweep up to `at`: one ladder computation per part."""
    steps = escalation_steps(deadline)
    fired = frozenset(step.level for step in steps if step.fire_at <= at)
    upcoming = [step.fire_at for step in steps if step.level not in fired]
    next_at = min(upcoming).astimezone(UTC) if upcoming else None
    return OpenDeadline(deadline, next_at, fired)


def timed(action: Callable[[], int], repeat: int) -> tuple[list[float], int]:
    seconds: list[float] = []
    result = 0
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - began)
    return seconds, result


def to_row(part: OpenDeadline) -> dict[str, Any]:
    d = part.deadline
    return {
        "part_id": d.part_id,
        "owner_force": d.owner_force,
        "coordinating_force": d.coordinating_force,
        "due_at": d.due_at.astimezone(UTC).replace(tzinfo=None),
        "immediate_risk": d.immediate_risk,
        "in_clock_hours": d.in_clock_hours,
        "fired_levels": sum(1 << level for level in part.fired_levels),
        "next_fire_at": None
        if part.next_fire_at is None
        else part.next_fire_at.replace(tzinfo=None),
    }


def from_rows(rows: Iterator[Any]) -> Iterator[OpenDeadline]:
    for row in rows:
        deadline = Deadline(
            part_id=row.part_id,
            owner_force=row.owner_force,
            coordinating_force=row.coordinating_force,
            due_at=row.due_at.replace(tzinfo=UTC),
            immediate_risk=row.immediate_risk,
            in_clock_hours=row.in_clock_hours,
        )
        levels = frozenset(level for level in range(1, 10) if row.fired_levels >> level & 1)
        yield OpenDeadline(deadline, row.next_fire_at.replace(tzinfo=UTC), levels)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    began = time.perf_counter()
    parts = build_open_parts(args.parts)
    build_seconds = time.perf_counter() - began

    memory_seconds, memory_due = timed(lambda: sum(1 for _ in sweep(parts, NOW)), args.repeat)

    with tempfile.TemporaryDirectory() as workdir:
        engine = create_engine(f"sqlite:///{workdir}/deadlines.db")
        metadata.create_all(engine)
        began = time.perf_counter()
        with engine.begin() as conn:
            chunk = 50_000
            for start in range(0, len(parts), chunk):
                conn.execute(
                    insert(deadline_table), [to_row(p) for p in parts[start : start + chunk]]
                )
        insert_seconds = time.perf_counter() - began
        cutoff = NOW.replace(tzinfo=None)
        query = select(deadline_table).where(deadline_table.c.next_fire_at <= cutoff)

        def sql_sweep() -> int:
            with engine.connect() as conn:
                return sum(1 for _ in sweep(from_rows(iter(conn.execute(query))), NOW))

        sql_seconds, sql_due = timed(sql_sweep, args.repeat)
        with engine.connect() as conn:
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            plan = [str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
            rows_selected = len(list(conn.execute(query)))
        engine.dispose()

    results = {
        "benchmark": "deadline sweep",
        "command": "python tests/perf/bench_sweep.py",
        "open_parts": len(parts),
        "now_utc": NOW.isoformat(),
        "previous_sweep_utc": PREVIOUS_SWEEP.isoformat(),
        "build_and_arm_seconds": round(build_seconds, 2),
        "arm_microseconds_per_part": round(build_seconds / len(parts) * 1e6, 1),
        "in_memory": {
            "steps_due": memory_due,
            "median_seconds": round(statistics.median(memory_seconds), 4),
            "best_seconds": round(min(memory_seconds), 4),
        },
        "sqlite": {
            "rows_selected": rows_selected,
            "steps_due": sql_due,
            "median_seconds": round(statistics.median(sql_seconds), 4),
            "best_seconds": round(min(sql_seconds), 4),
            "insert_seconds": round(insert_seconds, 2),
            "query_plan": plan,
        },
        "repeat": args.repeat,
        "machine": machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

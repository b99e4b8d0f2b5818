"""Ledger benchmark: append rate, proof times and full verification at scale.

    python tests/perf/bench_ledger.py [--entries N] [--db-url URL]

Default 1,000,000 entries in a fresh SQLite file. The first `--single` entries are appended
one transaction each (the hub's path); the rest are bulk-loaded in batches of `--batch`.
Figures go to tests/perf/results/ledger.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy.engine import make_url  # noqa: E402

from crossforce.contracts.keys import SigningKey  # noqa: E402
from crossforce.ledger import Ledger, NoteVerifier, Submission  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "ledger.json"


def make(number: int) -> Submission:
    force = ("KENT", "ESSEX", "SUSSEX", "SURREY")[number % 4]
    return Submission(
        submission={
            "route": "right-to-ask" if number % 3 else "right-to-know",
            "jurisdiction": "EW",
            "request": "Right to Ask application",
            "outcomes": [{"decision": "disclose", "outcome": "disclosed", "rationale_ref": "R1"}],
            "forces_involved": [force, "ESSEX"],
            "closing_stage": "closed",
            "closed_at": "2025-03-01T12:00:00+00:00",
            "requester_is_third_party": bool(number % 2),
            "parties": [{"role": "A", "home_force": force}, {"role": "B", "home_force": "ESSEX"}],
        },
        personal={
            "parties": [
                {
                    "role": "B",
                    "names": [f"Alex Subject{number % 50_000}"],
                    "date_of_birth": "1985-06-01",
                    "sex": "male",
                    "ethnicity": "White British",
                    "disability": "none",
                    "addresses": [f"{number} High Street, Maidstone"],
                }
            ]
        },
        subject_identity={
            "surname": f"Subject{number % 50_000}",
            "forenames": "Alex",
            "date_of_birth": "1985-06-01",
        },
        case_ref=f"{force}-2025-{number:07d}",
        submitted_by=force,
        review_date=date(2031, 3, 1),
        idempotency_key=f"bench:{number}",
        submitted_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
    )


def timed(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(samples),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=5_000, help="one-transaction appends")
    parser.add_argument("--batch", type=int, default=1_000, help="bulk batch size")
    parser.add_argument("--proofs", type=int, default=1_000)
    parser.add_argument("--db-url", default=None)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="the --db-url ledger already holds the entries: measure proofs and verify only",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="crossforce-bench-"))
    url = args.db_url or f"sqlite:///{workdir / 'ledger.db'}"
    key = None if args.reuse else SigningKey.generate("LEDGER")
    trusted = []
    if args.reuse:  # trust the checkpoint key the earlier run recorded with its checkpoints
        with Ledger(url) as existing, existing.store.reading() as conn:
            recorded = existing.store.meta(conn, "checkpoint_key")
        trusted = [NoteVerifier.from_string(recorded)] if recorded else []
    ledger = Ledger(
        url, key, bytes(range(32)), master_key=bytes(range(32, 64)), trusted_keys=trusted
    )
    total = args.entries
    single = min(args.single, total)
    if args.reuse:
        total, single = ledger.size, 0
    print(f"ledger benchmark: {total:,} entries into {url}", flush=True)

    start = time.perf_counter()
    for number in range(0 if args.reuse else single):
        item = make(number)
        ledger.append_submission(
            item.submission,
            personal=item.personal,
            subject_identity=item.subject_identity,
            case_ref=item.case_ref,
            submitted_by=item.submitted_by,
            review_date=item.review_date,
            idempotency_key=item.idempotency_key,
            submitted_at=item.submitted_at,
        )
    single_seconds = time.perf_counter() - start
    if single:
        print(f"  single appends: {single:,} at {single / single_seconds:,.0f}/s", flush=True)

    start = time.perf_counter()
    checkpoint_sizes = []
    next_report = 0.0
    for first in range(single, 0 if args.reuse else total, args.batch):
        ledger.append_submissions(make(n) for n in range(first, min(first + args.batch, total)))
        done = min(first + args.batch, total)
        if done >= total // 2 and not checkpoint_sizes:
            ledger.checkpoint()
            checkpoint_sizes.append(done)
        elapsed = time.perf_counter() - start
        if elapsed >= next_report or done == total:
            rate = (done - single) / elapsed if elapsed else 0.0
            print(f"  bulk: {done:,}/{total:,} ({rate:,.0f}/s, {elapsed:,.0f}s)", flush=True)
            next_report = elapsed + 15
    bulk_seconds = time.perf_counter() - start
    if key is not None:
        ledger.checkpoint()
        checkpoint_sizes.append(total)
    appends_measured = not args.reuse

    rng = random.Random(7)
    inclusion: list[float] = []
    for _ in range(args.proofs):
        index = rng.randrange(total)
        t0 = time.perf_counter()
        proof = ledger.inclusion_proof(index, by="bench", justification="benchmark")
        inclusion.append(time.perf_counter() - t0)
        assert proof.verify()
    consistency: list[float] = []
    for _ in range(args.proofs):
        old = rng.randrange(1, total)
        t0 = time.perf_counter()
        cproof = ledger.consistency_proof(old)
        consistency.append(time.perf_counter() - t0)
        assert cproof.verify()
    print(f"  proofs: inclusion {timed(inclusion)}, consistency {timed(consistency)}", flush=True)

    phases: dict[str, float] = {}

    def progress(phase: str, done: int, all_: int) -> None:
        if phase not in phases:
            phases[phase] = time.perf_counter()
            print(f"  verify: {phase}", flush=True)
        elif phase == "entries" and done % 100_000 < 5_000:
            print(f"  verify: entries {done:,}/{all_:,}", flush=True)

    t0 = time.perf_counter()
    report = ledger.verify(progress=progress)
    verify_seconds = time.perf_counter() - t0
    assert report.ok, report.problems[:5]
    print(f"  verify: {verify_seconds:,.1f}s, ok={report.ok}", flush=True)

    db_file = Path(make_url(url).database or "") if url.startswith("sqlite") else Path("-")
    results: dict[str, Any] = {
        "command": "python tests/perf/bench_ledger.py " + " ".join(sys.argv[1:]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "database": "sqlite (WAL, synchronous=NORMAL)" if args.db_url is None else url,
        "entries": total,
        "single_appends": {
            "count": single,
            "seconds": round(single_seconds, 2),
            "per_second": round(single / single_seconds, 1) if single else None,
        }
        if appends_measured
        else "not measured (--reuse)",
        "bulk_appends": {
            "count": total - single,
            "batch": args.batch,
            "seconds": round(bulk_seconds, 2),
            "per_second": round((total - single) / bulk_seconds, 1) if total > single else None,
        }
        if appends_measured
        else "not measured (--reuse)",
        "inclusion_proof": timed(inclusion),
        "consistency_proof": timed(consistency),
        "verify_seconds": round(verify_seconds, 2),
        "checkpoints": checkpoint_sizes,
        "database_bytes": db_file.stat().st_size if db_file.exists() else None,
    }
    ledger.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

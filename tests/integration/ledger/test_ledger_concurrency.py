"""Two OS processes appending at once: both land, indices stay dense, the log verifies."""

from __future__ import annotations

import multiprocessing

from ledger_helpers import append_from_worker, open_ledger
from sqlalchemy import create_engine, text

PER_WORKER = 60


def test_two_processes_append_concurrently(db_url: str) -> None:
    open_ledger(db_url).close()  # create the schema before the race starts
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=append_from_worker, args=(db_url, force, PER_WORKER))
        for force in ("KENT", "ESSEX")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    assert [w.exitcode for w in workers] == [0, 0]

    engine = create_engine(db_url)
    with engine.connect() as conn:
        indices = [row[0] for row in conn.execute(text("SELECT idx FROM ledger_entries"))]
        forces = [row[0] for row in conn.execute(text("SELECT submitted_by FROM ledger_entries"))]
    engine.dispose()
    assert sorted(indices) == list(range(2 * PER_WORKER))
    assert forces.count("KENT") == forces.count("ESSEX") == PER_WORKER
    with open_ledger(db_url) as ledger:
        assert ledger.size == 2 * PER_WORKER
        report = ledger.verify()
        assert report.ok, report.problems

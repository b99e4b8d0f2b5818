"""An in-process hub per test, built as the running hub is: its own SQLite database, its
intelligence ledger beside it, and keys made for its fixed clock."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.schema import metadata
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.service.intelligence import IntelligenceLedger
from crossforce.contracts.pki import EphemeralPki
from crossforce.ledger import Ledger

# The scenario modules share their payloads, readers and checks by name
# (tests/support/scenario_support.py). The folder is not put on the path itself: its
# conftest.py would then shadow the one the hub tests on NATS import by name.
sys.path.insert(0, str(Path(__file__).parents[3] / "support"))

from scenario_support import NOW  # noqa: E402

FORCES = [
    "HUB",
    "KENT",
    "ESSEX",
    "SURREY",
    "PSOS",
    "PSOS_E",
    "METROPOLITAN",
    "SURREY_PSD",
    "ESSEX_PSD",
]


SUBJECT_KEY_SECRET = b"s" * 32


@pytest.fixture()
def hub(tmp_path: Path) -> Iterator[InProcessHub]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    metadata.create_all(engine)
    pki = EphemeralPki(FORCES, now=NOW)
    ledger = Ledger(
        f"sqlite:///{tmp_path / 'ledger.db'}",
        pki.key("HUB"),
        SUBJECT_KEY_SECRET,
        master_key=b"m" * 32,
    )
    try:
        yield InProcessHub(
            engine,
            pki,
            NOW,
            subject_key_secret=SUBJECT_KEY_SECRET,
            hooks=(IntelligenceLedger(ledger),),
        )
    finally:
        ledger.close()
        engine.dispose()

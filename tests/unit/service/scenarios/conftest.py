"""An in-process hub per test: its own SQLite database, keys made for its fixed clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.schema import metadata
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.contracts.pki import EphemeralPki

# The scenario modules share their readers and checks (scenario_support.py) by name.
sys.path.insert(0, str(Path(__file__).parent))

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


@pytest.fixture()
def hub(tmp_path: Path) -> InProcessHub:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    metadata.create_all(engine)
    return InProcessHub(engine, EphemeralPki(FORCES, now=NOW), NOW)

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Worker processes import the helpers by name, so keep this folder importable.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same ledger tests against SQLite (a file) and a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_url")

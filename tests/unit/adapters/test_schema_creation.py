"""Hub replicas starting together create the broker schema once, and neither fails; the
database files the broker and the ledger create are their owner's only."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.adapters.sql.schema import metadata
from crossforce.ledger.store import LedgerStore

REPLICAS = 4
ROUNDS = 5


def _create_together(url: str, *, upgrade: bool = False) -> None:
    """REPLICAS engines, as separate hub processes would have, create (or upgrade) the
    schema at once."""
    engines = [make_engine(url) for _ in range(REPLICAS)]
    start = threading.Barrier(REPLICAS)

    def replica(index: int) -> None:
        start.wait()
        prepare_engine(engines[index], BROKER_SCHEMA, upgrade=upgrade)

    try:
        with ThreadPoolExecutor(REPLICAS) as pool:
            for outcome in [pool.submit(replica, i) for i in range(REPLICAS)]:
                outcome.result()  # re-raises a replica's failure
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.postgres
def test_replicas_create_the_schema_on_postgresql_at_once(fresh_postgres_url: str) -> None:
    engine = make_engine(fresh_postgres_url)
    try:
        for _ in range(ROUNDS):
            _drop_everything(engine)
            _create_together(fresh_postgres_url)
            assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_replicas_upgrade_an_unversioned_schema_on_postgresql_at_once(
    fresh_postgres_url: str,
) -> None:
    engine = make_engine(fresh_postgres_url)
    try:
        for _ in range(ROUNDS):
            _drop_everything(engine)
            metadata.create_all(engine)  # as made before schema versions
            _create_together(fresh_postgres_url, upgrade=True)
            with engine.connect() as connection:
                version = connection.execute(
                    text(f"SELECT version_num FROM {BROKER_SCHEMA.version_table}")
                ).scalars()
                assert list(version) == [BROKER_SCHEMA.head()]
    finally:
        engine.dispose()


def _drop_everything(engine: Engine) -> None:
    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {BROKER_SCHEMA.version_table}"))


def test_replicas_create_the_schema_on_sqlite_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crossforce.db'}"
    _create_together(url)
    engine = make_engine(url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_ledger_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ledger.db"
    with _permissive_umask():
        store = LedgerStore(f"sqlite:///{path}")
        with store.writing():
            pass
    try:
        assert _mode(path) == 0o600
        # SQLite gives its side files the database file's mode.
        for side in path.parent.glob("ledger.db-*"):
            assert _mode(side) == 0o600, side
    finally:
        store.close()


def test_an_existing_ledger_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    LedgerStore(f"sqlite:///{path}").close()
    path.chmod(0o640)  # the operator's choice is not overridden
    LedgerStore(f"sqlite:///{path}").close()
    assert _mode(path) == 0o640


def test_the_broker_file_is_readable_by_its_owner_only_whatever_the_umask(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "crossforce.db"
    with _permissive_umask():
        make_engine(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600

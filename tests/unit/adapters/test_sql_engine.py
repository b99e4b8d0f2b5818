"""The SQLite engine queues a process's writers on one lock and always lets it go."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from crossforce.adapters.sql.engine import WalCheckpointer, make_engine


def _write_lock(engine: Engine) -> threading.Lock:
    with engine.connect() as connection:
        return connection.connection.dbapi_connection.write_lock  # type: ignore[union-attr]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    made = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))
    return made


def test_a_second_writer_waits_for_the_first_to_commit(engine: Engine) -> None:
    order: list[str] = []
    first_inside = threading.Event()

    def first() -> None:
        with engine.begin() as connection:
            first_inside.set()
            time.sleep(0.3)
            connection.execute(text("UPDATE counter SET n = n + 1"))
            order.append("first committed")

    def second() -> None:
        first_inside.wait()
        with engine.begin() as connection:
            order.append("second began")
            connection.execute(text("UPDATE counter SET n = n * 10"))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert order == ["first committed", "second began"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar() == 10


def test_commit_rollback_and_a_failed_statement_all_release_the_lock(engine: Engine) -> None:
    lock = _write_lock(engine)
    with engine.begin() as connection:
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(RuntimeError), engine.begin():
        raise RuntimeError("the unit of work failed")
    assert not lock.locked()
    with pytest.raises(Exception, match="no such table"), engine.begin() as connection:
        connection.execute(text("SELECT * FROM missing"))
    assert not lock.locked()


def test_engines_on_one_file_share_a_lock(tmp_path: Path, engine: Engine) -> None:
    other = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    assert _write_lock(other) is _write_lock(engine)
    elsewhere = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    assert _write_lock(elsewhere) is not _write_lock(engine)


def _rows_in_database_file(path: Path) -> int:
    """Rows the database file itself holds, ignoring its write-ahead log."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM notes").fetchone()[0])


def _write_pages(engine: Engine, path: Path, count: int) -> None:
    """About `count` pages of rows, ten a transaction, as the hub commits its batches."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS notes (body BLOB)"))
    with sqlite3.connect(path) as connection:  # the empty table into the file itself
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    for _ in range(count // 10):
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO notes VALUES (:body)"), [{"body": b"x" * 3000}] * 10
            )


@pytest.mark.parametrize("in_background", [False, True])
def test_the_hub_leaves_wal_checkpoints_to_its_checkpointer(
    tmp_path: Path, in_background: bool
) -> None:
    path = tmp_path / "hub.db"
    engine = make_engine(f"sqlite:///{path}", checkpoint_in_background=in_background)
    _write_pages(engine, path, 1500)  # past SQLite's own 1,000-page checkpoint
    if not in_background:
        # A commit copied the log back into the file itself, while holding the write lock.
        assert _rows_in_database_file(path) > 0
        return
    assert _rows_in_database_file(path) == 0  # no commit waited for a checkpoint
    checkpointer = WalCheckpointer.for_engine(engine)
    assert checkpointer is not None
    checkpointer.start()
    checkpointer.stop()  # a last round on the way out
    assert _rows_in_database_file(path) == 1500
    engine.dispose()


def test_no_checkpointer_for_postgresql_or_memory() -> None:
    assert WalCheckpointer.for_engine(make_engine("sqlite://")) is None
    assert WalCheckpointer.for_engine(make_engine("postgresql://hub@localhost/hub")) is None

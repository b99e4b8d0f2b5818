"""The SQLite engine queues a process's writers on one lock and always lets it go."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from crossforce.adapters.sql.engine import make_engine


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

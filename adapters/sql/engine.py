"""SQLAlchemy engines for the embedded default (SQLite) and production (PostgreSQL)."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from crossforce.contracts.errors import ContractError, ReasonCode

log = logging.getLogger(__name__)

DEFAULT_DB_URL = "sqlite:///.crossforce/crossforce.db"
WRITE_LOCK_WAIT_SECONDS = 60.0
BROKER_SCHEMA_LOCK = 0x43524F5353485542  # "CROSSHUB": serialises the hub's schema creation

_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock_for(database: str) -> threading.Lock:
    key = str(Path(database).resolve())
    with _write_locks_guard:
        return _write_locks.setdefault(key, threading.Lock())


class _QueuedWriterConnection(sqlite3.Connection):
    """Threads of one process queue on a lock for the write transaction.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so hub threads contending
    for `BEGIN IMMEDIATE` spent most of their time asleep. The lock hands the write
    transaction straight to the next thread; SQLite's lock still guards other processes.
    """

    write_lock: threading.Lock
    holding: bool = False

    def begin_immediate(self) -> None:
        # A bounded wait: past it, fall back to SQLite's own busy handling, never deadlock.
        self.holding = self.write_lock.acquire(timeout=WRITE_LOCK_WAIT_SECONDS)
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def _release(self) -> None:
        if self.holding:
            self.holding = False
            self.write_lock.release()


def create_private_file(path: Path) -> None:
    """Create `path` (and its folder) readable by its owner only, unless it exists already.

    For SQLite database files: case data and ledger entries are personal data, so only the
    broker's own user may read them. Created 0600 from the first byte, whatever the umask;
    SQLite gives the -wal and -shm files the mode of the database file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def lock_schema_creation(connection: Connection, key: int) -> None:
    """On PostgreSQL, hold the advisory lock `key` until the current transaction ends.

    Replicas starting together would otherwise race in CREATE TABLE and one would fail with
    a duplicate-object error; under the lock the second finds the first one's tables. Other
    databases need nothing here (SQLite's write transaction is already exclusive).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def make_engine(url: str = DEFAULT_DB_URL, *, checkpoint_in_background: bool = False) -> Engine:
    """An engine whose write transactions serialise safely across processes.

    SQLite: WAL, a generous busy timeout and `BEGIN IMMEDIATE`, so two hub processes queue
    for the write lock instead of failing half-way; threads of one process queue on an
    in-process lock first. PostgreSQL: READ COMMITTED plus row
    versions (optimistic concurrency) in the repositories.

    `checkpoint_in_background`: commits leave the write-ahead log to a `WalCheckpointer`
    (the hub's), instead of whichever commit crosses SQLite's 1,000-page mark copying it
    back and syncing the file while every message behind it waits.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)
    database = parsed.database or ":memory:"
    if database == ":memory:":
        write_lock = threading.Lock()
    else:
        create_private_file(Path(database))
        write_lock = _write_lock_for(database)
    engine = create_engine(
        url,
        connect_args={
            "timeout": 60,
            "check_same_thread": False,
            "factory": _QueuedWriterConnection,
        },
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        dbapi_connection.write_lock = write_lock
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=60000")
        with write_lock:
            _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpoint_in_background:
            # Commits still checkpoint if the background thread falls far behind.
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.connection.dbapi_connection.begin_immediate()

    return engine


# Switching a new file to WAL needs it to itself for a moment, and SQLite answers "locked" at
# once, without its busy handler, while another process opens it too.
_WAL_ATTEMPTS = 100
_WAL_PAUSE_SECONDS = 0.05


def _use_wal(cursor: sqlite3.Cursor) -> None:
    for attempt in range(_WAL_ATTEMPTS):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _WAL_ATTEMPTS - 1:
                raise
            time.sleep(_WAL_PAUSE_SECONDS)


# A commit checkpoints only past this many WAL pages (about 40 MB) when checkpoints run in
# the background: a backstop, never reached while the checkpointer runs.
BACKSTOP_CHECKPOINT_PAGES = 10_000
CHECKPOINT_SECONDS = 1.0


class WalCheckpointer:
    """Copies the write-ahead log back into an SQLite database file, once a second, from a
    thread and connection of its own. A PASSIVE checkpoint never blocks a writer or reader,
    so the hub's commits no longer wait for it (docs/performance.md)."""

    def __init__(self, database: str, interval: float = CHECKPOINT_SECONDS) -> None:
        self.database = database
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="crossforce-wal-checkpoint", daemon=True
        )

    @classmethod
    def for_engine(cls, engine: Engine) -> WalCheckpointer | None:
        """One for `engine`'s database file; None for PostgreSQL or an in-memory database."""
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return cls(url.database)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=WRITE_LOCK_WAIT_SECONDS)

    def _run(self) -> None:
        connection = sqlite3.connect(self.database, timeout=WRITE_LOCK_WAIT_SECONDS)
        try:
            while not self._stopped.wait(self.interval):
                self.checkpoint(connection)
            self.checkpoint(connection)
        finally:
            connection.close()

    @staticmethod
    def checkpoint(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # the next round tries again; commits are unaffected
            log.warning("WAL checkpoint skipped: %s", type(error).__name__)


def open_existing(url: str, *, expect_table: str = "cases") -> Engine:
    """An engine on a broker database that already exists, for commands that only read.

    A mistyped path must not quietly create an empty database and report that all is well.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    on_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if on_file and not Path(database).is_file():
        raise ContractError(
            ReasonCode.DATABASE_ERROR,
            f"no broker database at {database}: start the broker with `crossforce up`, "
            "or pass --db-url",
        )
    engine = make_engine(url)
    if not inspect(engine).has_table(expect_table):
        engine.dispose()
        raise ContractError(
            ReasonCode.DATABASE_ERROR,
            f"{parsed.render_as_string(hide_password=True)} is not a Crossforce broker database",
        )
    return engine


def open_read_only(url: str, *, expect_table: str = "cases") -> Engine:
    """An engine that cannot write a broker database, for readers such as the web app.

    SQLite: the file is opened with `mode=ro`, so the library itself refuses any write.
    PostgreSQL: give a role that holds only SELECT (docs/decisions/0020); every session is
    also started read-only, so a mistaken grant still cannot write.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise ContractError(
                ReasonCode.DATABASE_ERROR,
                f"no broker database at {database or ':memory:'}: start the broker with "
                "`crossforce up`, or pass --db-url",
            )
        uri = f"file:{Path(database).resolve()}?mode=ro"
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30),
            # "sqlite://" would get the in-memory pool, which shares connections between
            # threads; a file needs an ordinary pool.
            poolclass=QueuePool,
        )
    else:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": "-c default_transaction_read_only=on"},
        )
    if not inspect(engine).has_table(expect_table):
        engine.dispose()
        raise ContractError(
            ReasonCode.DATABASE_ERROR,
            f"{parsed.render_as_string(hide_password=True)} is not a Crossforce broker database",
        )
    return engine


def stored_utc(value: datetime) -> datetime:
    """A datetime read back from the database, as aware UTC. SQLite returns naive values;
    everything Crossforce stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as a dict with its times as aware UTC, whichever database returned it."""
    return {key: stored_utc(v) if isinstance(v, datetime) else v for key, v in row.items()}

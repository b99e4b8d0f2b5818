"""SQLAlchemy engines for the embedded default (SQLite) and production (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_DB_URL = "sqlite:///.crossforce/crossforce.db"


def make_engine(url: str = DEFAULT_DB_URL) -> Engine:
    """An engine whose write transactions serialise safely across processes.

    SQLite: WAL, a generous busy timeout and `BEGIN IMMEDIATE`, so two hub processes queue
    for the write lock instead of failing half-way. PostgreSQL: READ COMMITTED plus row
    versions (optimistic concurrency) in the repositories.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def stored_utc(value: datetime) -> datetime:
    """A datetime read back from the database, as aware UTC. SQLite returns naive values;
    everything Crossforce stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

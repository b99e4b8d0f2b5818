"""The one write a reader outside the hub may make to the hub's database: queue a read to
report to a Professional Standards Department (decisions 0020, 0051).

The web app reads the hub's tables through a connection that cannot write them
(`open_read_only`). A case page of a case with a police employee among its parties must also
queue an access report, which the hub signs and sends to the PSD. That insert goes through a
second engine that may add rows to `access_reports` and do nothing else:

- SQLite: an authorizer on every connection lets SQLite itself refuse, when a statement is
  prepared, anything but reading and an INSERT into `access_reports` (no UPDATE, DELETE, DDL,
  ATTACH or pragma that sets a value).
- PostgreSQL: the role's grants. The hub grants its app role INSERT on `access_reports` at
  start-up (`grant_report_queue`), beside the SELECT the role has on every table; the table
  has no sequence, so INSERT is all it needs.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from crossforce.adapters.sql.engine import BROKER_SCHEMA_LOCK, lock_schema_creation
from crossforce.contracts.errors import ContractError, ReasonCode

log = logging.getLogger("crossforce.sql")

QUEUE_TABLE = "access_reports"
# The web app's PostgreSQL role in the deployment files (deploy/postgres-init/10-web-role.sh).
DEFAULT_WEB_ROLE = "crossforce_web"

_READING = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        sqlite3.SQLITE_TRANSACTION,
        sqlite3.SQLITE_SAVEPOINT,
    }
)

# Pragmas SQLAlchemy reads: the isolation level (asked, never set) and a table's description.
# Any other pragma, which could set something or run work, is refused.
_ASKED = frozenset({"read_uncommitted"})
_DESCRIBING = frozenset({"table_info", "table_xinfo", "index_list"})


def insert_only_authorizer(table: str) -> Any:
    """A sqlite3 authorizer that allows reads and INSERT into `table`, and nothing else."""

    def authorise(action: int, arg1: str | None, arg2: str | None, *_: str | None) -> int:
        if action in _READING:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_INSERT and arg1 == table:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and (
            arg1 in _DESCRIBING or (arg1 in _ASKED and arg2 is None)
        ):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return authorise


def open_report_queue(url: str) -> Engine:
    """An engine on the hub's database that can only queue access reports."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise ContractError(
                ReasonCode.DATABASE_ERROR,
                f"no broker database at {database or ':memory:'}: start the broker with "
                "`crossforce up`, or pass --db-url",
            )
        path = str(Path(database).resolve())

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
            connection.set_authorizer(insert_only_authorizer(QUEUE_TABLE))
            return connection

        engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if not inspect(engine).has_table(QUEUE_TABLE):
        engine.dispose()
        raise ContractError(
            ReasonCode.DATABASE_ERROR,
            f"{parsed.render_as_string(hide_password=True)} has no {QUEUE_TABLE} table: "
            "upgrade it (`crossforce db upgrade`)",
        )
    return engine


def may_queue(engine: Engine) -> bool:
    """Whether this engine's PostgreSQL role holds INSERT on the queue (SQLite: always)."""
    if engine.dialect.name != "postgresql":
        return True
    with engine.connect() as connection:
        held = connection.execute(
            text("SELECT has_table_privilege(current_user, :table, 'INSERT')"),
            {"table": QUEUE_TABLE},
        ).scalar()
    return bool(held)


def grant_report_queue(engine: Engine, role: str | None) -> bool:
    """PostgreSQL: let `role` (the web app's) INSERT into the report queue, and nothing more
    than it had. Idempotent; under the schema lock, so replicas starting together take turns.
    Returns whether the role holds the grant; False on SQLite or when there is no such role."""
    if role is None or engine.dialect.name != "postgresql":
        return False
    with engine.begin() as connection:
        lock_schema_creation(connection, BROKER_SCHEMA_LOCK)
        if (
            connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
            ).first()
            is None
        ):
            log.info("no role %s: the web app cannot queue access reports here", role)
            return False
        held = connection.execute(
            text("SELECT has_table_privilege(:role, :table, 'INSERT')"),
            {"role": role, "table": QUEUE_TABLE},
        ).scalar()
        if not held:
            quoted = engine.dialect.identifier_preparer.quote(role)
            connection.execute(text(f"GRANT INSERT ON {QUEUE_TABLE} TO {quoted}"))
            log.info("granted %s INSERT on %s", role, QUEUE_TABLE)
    return True

"""Schema versions, through Alembic: the broker's tables and the ledger's each have a history
of revisions shipped inside the package, and a version table recording where a database is.

A database is never altered behind the operator's back. An empty database gets the current
schema (that alters nothing that exists). A database older than the code is refused until the
operator upgrades it (`crossforce db upgrade`, or `crossforce up --upgrade`); one newer than the
code is refused always. Every check and upgrade runs inside one transaction holding the same
schema lock as before, so replicas starting together take turns (see `lock_schema_creation`).

A database made before schemas had versions holds the baseline's tables and no version table.
The baseline revision creates only the tables that are missing, so upgrading such a database
keeps every row and records its version from then on.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, MetaData, inspect

from crossforce.adapters.sql.engine import BROKER_SCHEMA_LOCK, lock_schema_creation
from crossforce.adapters.sql.schema import metadata as broker_metadata
from crossforce.contracts.errors import ContractError, ReasonCode


@dataclass(frozen=True, slots=True)
class SchemaSpec:
    """One schema with a history of its own: its tables, revisions and version table."""

    name: str
    metadata: MetaData
    script_location: Path
    version_table: str
    lock_key: int

    def owns(self, table_name: str) -> bool:
        """The broker and the ledger may share a PostgreSQL database: each looks at its own."""
        return table_name in self.metadata.tables

    def script(self) -> ScriptDirectory:
        return _script(self.script_location)

    def head(self) -> str:
        head = self.script().get_current_head()
        assert head is not None, f"{self.name} has no migrations"
        return head


@functools.cache
def _script(location: Path) -> ScriptDirectory:
    """Revisions are package files: read once per process, not at every database opened."""
    return ScriptDirectory(str(location))


class SchemaState(StrEnum):
    EMPTY = "empty"  # none of the schema's tables: the current schema may be created
    CURRENT = "current"
    OLDER = "older"  # a known revision before the head, or tables made before versions
    NEWER = "newer"  # a revision this code does not know: made by a later Crossforce


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    spec: SchemaSpec
    state: SchemaState
    revision: str | None  # None: no version recorded
    head: str


BROKER_SCHEMA = SchemaSpec(
    name="broker",
    metadata=broker_metadata,
    script_location=Path(__file__).parent / "migrations",
    version_table="crossforce_schema_version",
    lock_key=BROKER_SCHEMA_LOCK,
)


def status(connection: Connection, spec: SchemaSpec) -> SchemaStatus:
    """Where the database on `connection` is, for `spec`; reads only."""
    head = spec.head()
    names = set(inspect(connection).get_table_names())
    revision: str | None = None
    if spec.version_table in names:
        context = MigrationContext.configure(connection, opts={"version_table": spec.version_table})
        revision = context.get_current_revision()
    if revision is None:
        owned = any(spec.owns(name) for name in names)
        state = SchemaState.OLDER if owned else SchemaState.EMPTY
    elif revision == head:
        state = SchemaState.CURRENT
    elif _known(spec, revision):
        state = SchemaState.OLDER
    else:
        state = SchemaState.NEWER
    return SchemaStatus(spec, state, revision, head)


def _known(spec: SchemaSpec, revision: str) -> bool:
    try:
        return spec.script().get_revision(revision) is not None
    except CommandError:
        return False


def prepare(connection: Connection, spec: SchemaSpec, *, upgrade: bool = False) -> SchemaStatus:
    """Make the schema on `connection` usable by this code, or refuse in one line.

    `connection` must be inside a write transaction; the schema lock is taken here and held
    until that transaction ends, so the check and any upgrade happen as one step.
    """
    lock_schema_creation(connection, spec.lock_key)
    found = status(connection, spec)
    if found.state is SchemaState.NEWER:
        raise ContractError(
            ReasonCode.DATABASE_ERROR,
            f"the {spec.name} database is at revision {found.revision}, which this Crossforce "
            f"does not know (its newest is {found.head}): run the Crossforce that upgraded it",
        )
    if found.state is SchemaState.OLDER and not upgrade:
        raise ContractError(
            ReasonCode.DATABASE_ERROR,
            f"the {spec.name} database is older than this Crossforce "
            f"({found.revision or 'no version recorded'}, needs {found.head}): back it up, "
            "then run `crossforce db upgrade` (or `crossforce up --upgrade`)",
        )
    if found.state in (SchemaState.EMPTY, SchemaState.OLDER):
        _upgrade_to_head(connection, spec)
        return status(connection, spec)
    return found


def prepare_engine(engine: Engine, spec: SchemaSpec, *, upgrade: bool = False) -> SchemaStatus:
    """`prepare` in a transaction of its own."""
    with engine.begin() as connection:
        return prepare(connection, spec, upgrade=upgrade)


def _config(connection: Connection, spec: SchemaSpec) -> Config:
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(spec.script_location))
    config.attributes["connection"] = connection
    config.attributes["spec"] = spec
    return config


def _upgrade_to_head(connection: Connection, spec: SchemaSpec) -> None:
    command.upgrade(_config(connection, spec), "head")


def run_environment(context: Any) -> None:
    """The body of each revision folder's env.py: migrate the connection it was handed.

    `context` is `alembic.context`, a module standing in for the running EnvironmentContext.
    """
    connection: Connection | None = context.config.attributes.get("connection")
    spec: SchemaSpec | None = context.config.attributes.get("spec")
    if connection is None or spec is None:
        raise SystemExit("run migrations with `crossforce db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=spec.metadata,
        version_table=spec.version_table,
        include_name=_include_name(spec),
        render_as_batch=True,  # SQLite alters a table by copying it
    )
    with context.begin_transaction():
        context.run_migrations()


def _include_name(spec: SchemaSpec) -> Any:
    def include(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or (name is not None and spec.owns(name))

    return include


def differences(connection: Connection, spec: SchemaSpec) -> list[Any]:
    """What separates the tables on `connection` from `spec`'s models: empty when the
    migrations build exactly what the code declares."""
    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": spec.version_table,
            "include_name": _include_name(spec),
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    return list(compare_metadata(context, spec.metadata))


def new_revision(spec: SchemaSpec, message: str, revision_id: str) -> None:
    """Write the next revision of `spec`: what separates the models from the head, worked
    out against a scratch SQLite database. For developers changing a model; review the file
    it writes (SQLite cannot show every difference PostgreSQL would)."""
    import tempfile

    from sqlalchemy import create_engine

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            with engine.begin() as connection:
                _upgrade_to_head(connection, spec)
                command.revision(
                    _config(connection, spec),
                    message=message,
                    autogenerate=True,
                    rev_id=revision_id,
                )
        finally:
            engine.dispose()

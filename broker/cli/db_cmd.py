"""`crossforce db`: where the broker's and the ledger's schemas are, and upgrading them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.migrate import (
    BROKER_SCHEMA,
    SchemaSpec,
    SchemaState,
    new_revision,
    prepare_engine,
    status,
)
from crossforce.broker.cli.common import (
    DEFAULT_DATA_DIR,
    DataDir,
    DbUrl,
    Json,
    LedgerDbUrl,
    database_urls,
)
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.ledger.store import LEDGER_SCHEMA, LedgerStore, safe_url
from crossforce.ledger.store import make_engine as ledger_engine

app = typer.Typer(help="Schema versions of the broker's and the ledger's databases.")
out = Console(soft_wrap=True)


@dataclass(frozen=True, slots=True)
class Found:
    spec: SchemaSpec
    url: str
    state: str  # a SchemaState, or "absent": no database file yet
    revision: str | None
    head: str

    def as_json(self) -> dict[str, str | None]:
        return {
            "schema": self.spec.name,
            "database": safe_url(self.url),
            "revision": self.revision,
            "head": self.head,
            "state": self.state,
        }

    def line(self) -> str:
        at = self.revision or "no version recorded"
        return f"{self.spec.name}: {at} ({self.state}; newest {self.head}) {safe_url(self.url)}"


def _absent(url: str) -> bool:
    """A SQLite file that does not exist yet: reading must not create it."""
    parsed = make_url(url)
    database = parsed.database or ""
    return (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not Path(database).is_file()
    )


def _engine(spec: SchemaSpec, url: str) -> Engine:
    return make_engine(url) if spec is BROKER_SCHEMA else ledger_engine(url, create=False)


def find(spec: SchemaSpec, url: str) -> Found:
    """Where the database at `url` is for `spec`; reads only."""
    head = spec.head()
    if _absent(url):
        return Found(spec, url, "absent", None, head)
    engine = _engine(spec, url)
    try:
        with engine.connect() as connection:
            found = status(connection, spec)
    finally:
        engine.dispose()
    return Found(spec, url, str(found.state), found.revision, head)


def schemas(data_dir: Path, db_url: str | None, ledger_db_url: str | None) -> list[Found]:
    broker_url, ledger_url = database_urls(data_dir, db_url, ledger_db_url)
    return [find(BROKER_SCHEMA, broker_url), find(LEDGER_SCHEMA, ledger_url)]


def refuse_out_of_date(found: list[Found]) -> None:
    """`up` without --upgrade: one line naming the first schema that is not current."""
    for each in found:
        if each.state in (SchemaState.OLDER, SchemaState.NEWER):
            hint = (
                "back it up, then run `crossforce db upgrade` or `crossforce up --upgrade`"
                if each.state == SchemaState.OLDER
                else "run the Crossforce that upgraded it"
            )
            raise ContractError(
                ReasonCode.DATABASE_ERROR,
                f"the {each.spec.name} database is {each.state} than this Crossforce "
                f"({each.revision or 'no version recorded'}, this Crossforce: {each.head}): "
                f"{hint}",
            )


def upgrade_all(found: list[Found]) -> list[Found]:
    """Upgrade every existing schema to the head, each under its schema lock."""
    upgraded = []
    for each in found:
        if each.state == "absent":
            upgraded.append(each)
            continue
        if each.spec is LEDGER_SCHEMA:
            LedgerStore(each.url, upgrade=True).close()  # also writes the ledger's head row
        else:
            engine = make_engine(each.url)
            try:
                prepare_engine(engine, each.spec, upgrade=True)
            finally:
                engine.dispose()
        upgraded.append(find(each.spec, each.url))
    return upgraded


@app.command("current")
def current(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    db_url: DbUrl = None,
    ledger_db_url: LedgerDbUrl = None,
    as_json: Json = False,
) -> None:
    """Each schema's revision, and whether it is current, older or newer than this code."""
    found = schemas(data_dir, db_url, ledger_db_url)
    if as_json:
        out.print_json(json.dumps([each.as_json() for each in found]))
        return
    for each in found:
        out.print(each.line(), highlight=False, markup=False)


@app.command("upgrade")
def upgrade(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    db_url: DbUrl = None,
    ledger_db_url: LedgerDbUrl = None,
    as_json: Json = False,
) -> None:
    """Upgrade the broker's and the ledger's schemas to this code's, keeping every row.

    Take a backup first. Safe to run from several replicas at once: each schema is upgraded
    under a lock, and whoever comes second finds it current.
    """
    before = schemas(data_dir, db_url, ledger_db_url)
    if all(each.state == "absent" for each in before):
        raise ContractError(
            ReasonCode.DATABASE_ERROR,
            f"no broker database in {data_dir}: nothing to upgrade (`crossforce up` creates "
            "one), or pass --db-url",
        )
    refuse_newer = [each for each in before if each.state == SchemaState.NEWER]
    refuse_out_of_date(refuse_newer)
    after = upgrade_all(before)
    if as_json:
        out.print_json(json.dumps([each.as_json() for each in after]))
        return
    for old, new in zip(before, after, strict=True):
        moved = f"{old.revision or 'no version recorded'} -> {new.revision or '-'}"
        out.print(
            f"{new.spec.name}: {moved} ({new.state}) {safe_url(new.url)}",
            highlight=False,
            markup=False,
        )


@app.command("revision", hidden=True)
def revision(
    schema: Annotated[str, typer.Argument(help="broker or ledger")],
    revision_id: Annotated[str, typer.Argument(help="The next number, e.g. 0002")],
    message: Annotated[str, typer.Argument(help="What now holds true")],
) -> None:
    """For developers: write the next revision after changing a model (review it)."""
    specs = {"broker": BROKER_SCHEMA, "ledger": LEDGER_SCHEMA}
    if schema not in specs:
        raise typer.BadParameter("broker or ledger", param_hint="SCHEMA")
    new_revision(specs[schema], message, revision_id)

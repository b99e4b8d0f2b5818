"""`crossforce overdue`: late and soon-due parts by owning force, in that owner's working days."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import inspect

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import open_existing
from crossforce.broker.cli.common import (
    DEFAULT_DATA_DIR,
    DataDir,
    DbUrl,
    Json,
    console,
    database_urls,
)
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.escalation.overdue import OverduePart, overdue_parts
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES

DEFAULT_WITHIN_DAYS = 2

app = typer.Typer(help="Late and soon-due parts, by owning force.")


def _table(parts: list[OverduePart], now: datetime) -> Table:
    table = Table(title=f"Late and soon-due parts at {now.astimezone(LONDON):%Y-%m-%d %H:%M} UK")
    table.add_column("Owner")
    table.add_column("Case")
    table.add_column("Part")
    table.add_column("Step", overflow="fold")
    table.add_column("Due (UK time)")
    table.add_column("Working days late", justify="right")
    table.add_column("Level fired")
    table.add_column("Red", justify="center")
    previous_owner = None
    for part in parts:
        if previous_owner is not None and part.owner_force != previous_owner:
            table.add_section()
        late = str(part.working_days_late)
        if part.late:
            late = f"[bold red]{late}[/]"
        elif part.working_days_late == 0:
            late = "0 (due today)"
        table.add_row(
            part.owner_force if part.owner_force != previous_owner else "",
            part.case_ref,
            part.part_id,
            part.step,
            f"{part.due_at.astimezone(LONDON):%a %d %b %Y %H:%M}",
            late,
            f"{part.level_fired} {part.level_name}" if part.level_fired else "-",
            "[bold red]RED[/]" if part.red else "",
        )
        previous_owner = part.owner_force
    return table


def _json(parts: list[OverduePart], now: datetime) -> dict[str, Any]:
    return {
        "at": now.isoformat(),
        "parts": [
            {
                "owner_force": part.owner_force,
                "case_ref": part.case_ref,
                "part_id": part.part_id,
                "step": part.step,
                "due_at": part.due_at.isoformat(),
                "working_days_late": part.working_days_late,
                "late": part.late,
                "level_fired": part.level_fired,
                "level_name": part.level_name or None,
                "red": part.red,
            }
            for part in parts
        ],
    }


def _as_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 date-time: {value}", param_hint="--at") from None
    # A wall-clock time without an offset is read as UK time, as the table shows it.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)


@app.command()
def overdue(
    force: Annotated[
        str | None, typer.Option("--force", help="Only parts owned by this force code")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    db_url: DbUrl = None,
    within_days: Annotated[
        int,
        typer.Option(
            "--within-days", min=0, help="Also list parts due within N of the owner's working days"
        ),
    ] = DEFAULT_WITHIN_DAYS,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Report as at this ISO 8601 time (default: now); levels and red are then "
            "what the escalation ladder had fired by that time",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """List late and soon-due parts by owning force, counted in that owner's working days
    (negative: working days left)."""
    # Consoles are made per run so they read the terminal width the command is run in.
    out = console()
    code = force.upper() if force else None
    if code is not None and code not in FORCES:
        raise ContractError(ReasonCode.UNKNOWN_FORCE, f"no force {code} in the force directory")
    now = _as_at(at)
    engine = open_existing(database_urls(data_dir, db_url)[0])
    try:
        if not inspect(engine).has_table(schema.deadlines.name):
            raise ContractError(
                ReasonCode.DATABASE_ERROR, "no deadlines in this database (has a hub run on it?)"
            )
        parts = overdue_parts(
            engine, now, force=code, within_days=within_days, replay=at is not None
        )
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(_json(parts, now), indent=2))
        return
    if not parts:
        who = f" for {code}" if code else ""
        out.print(f"Nothing late or due within {within_days} working days{who}.")
        return
    out.print(_table(parts, now))
    late = sum(1 for p in parts if p.late)
    out.print(f"{late} late, {len(parts) - late} due soon.")

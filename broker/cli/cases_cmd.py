"""`crossforce cases` and `crossforce case REF`: who owns what, and what happened."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from adapters.sql.engine import DEFAULT_DB_URL, open_existing
from broker.cli.common import DB_URL_ENV, FILE_SUFFIX, setting
from broker.domain.views import CaseView
from broker.service.queries import case_history, case_view, list_cases
from contracts.forces import get_force

console = Console()

DbUrl = Annotated[
    str | None,
    typer.Option(
        envvar=DB_URL_ENV, help=f"Database URL (or a file holding it: ${DB_URL_ENV}{FILE_SUFFIX})"
    ),
]


def _engine(db_url: str | None) -> Engine:
    return open_existing(setting(DB_URL_ENV, db_url) or DEFAULT_DB_URL)


def _known_force(code: str | None) -> str | None:
    return None if code is None else get_force(code.upper()).code


ForceOpt = Annotated[
    str | None, typer.Option("--force", help="View as this force", callback=_known_force)
]


def cases(force: ForceOpt = None, db_url: DbUrl = None) -> None:
    """List cases, or only those a force takes part in."""
    table = Table("case", "status", "receiving", "co-ordinating", "red", "updated", title="Cases")
    for case in list_cases(_engine(db_url), force):
        table.add_row(
            case.case_ref,
            case.status,
            case.receiving_force,
            case.coordinating_force,
            "[red]RED[/]" if case.red else "",
            f"{case.updated_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


def case(
    case_ref: Annotated[str, typer.Argument(help="Case reference")],
    force: ForceOpt = None,
    db_url: DbUrl = None,
) -> None:
    """Who owns each part of a case, its status and due time, and the history."""
    engine = _engine(db_url)
    view = case_view(engine, case_ref, force)
    print_case_view(view)
    if force is None or force == view.coordinating_force:
        history = Table("at", "by", "event", "details", title="History")
        for line in case_history(engine, case_ref):
            history.add_row(f"{line.at:%Y-%m-%d %H:%M}", line.actor, line.event, line.summary)
        console.print(history)


def print_case_view(view: CaseView, target: Console = console) -> None:
    target.print(
        f"[bold]{view.case_ref}[/] {view.status.value} · receiving {view.receiving_force} · "
        f"co-ordinating {view.coordinating_force} · viewed as {view.viewer}"
        + (" · [red]IMMEDIATE RISK[/]" if view.priority else "")
        + (
            " · [yellow]former participant: read-only record as it handed over[/]"
            if view.former
            else ""
        ),
        highlight=False,
    )
    table = Table("part", "kind", "owner", "status", "party", "due", "owners so far")
    for part in view.parts:
        owners = " → ".join(entry.to_owner for entry in part.ownership_history())
        due = f"{part.due_at:%Y-%m-%d %H:%M}" if part.due_at else ""
        table.add_row(
            part.part_id,
            part.kind.value,
            part.owner,
            part.status.value,
            part.party_id or "",
            due,
            owners,
        )
    target.print(table)

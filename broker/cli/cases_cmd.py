"""`crossforce cases` and `crossforce case REF`: who owns what, and what happened."""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

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
from crossforce.broker.domain.views import CaseView
from crossforce.broker.escalation.overdue import CaseDeadline, case_deadlines
from crossforce.broker.service.case_reads import CLI_JUSTIFICATION, consult_case
from crossforce.broker.service.queries import HistoryLine, case_history, list_cases
from crossforce.contracts.forces import get_force


def _engine(data_dir: Path, db_url: str | None) -> Engine:
    return open_existing(database_urls(data_dir, db_url)[0])


def login_name() -> str:
    """Who runs the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name, and no password entry for the uid
        return f"uid {os.getuid()}"


def _known_force(code: str | None) -> str | None:
    return None if code is None else get_force(code.upper()).code


ForceOpt = Annotated[
    str | None, typer.Option("--force", help="View as this force", callback=_known_force)
]


def cases(
    force: ForceOpt = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    db_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """List cases, or only those a force takes part in."""
    engine = _engine(data_dir, db_url)
    try:
        found = list_cases(engine, force)
    finally:
        engine.dispose()
    if as_json:
        rows = [
            {
                "case_ref": case.case_ref,
                "status": case.status,
                "receiving_force": case.receiving_force,
                "coordinating_force": case.coordinating_force,
                "red": case.red,
                "updated_at": case.updated_at.isoformat(),
            }
            for case in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("case", "status", "receiving", "co-ordinating", "red", "updated", title="Cases")
    for case in found:
        table.add_row(
            case.case_ref,
            case.status,
            case.receiving_force,
            case.coordinating_force,
            "[red]RED[/]" if case.red else "",
            f"{case.updated_at:%Y-%m-%d %H:%M}",
        )
    console().print(table)


def case(
    case_ref: Annotated[str, typer.Argument(help="Case reference")],
    force: ForceOpt = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who is reading (DPA 2018 s.62) [default: your login name]"),
    ] = None,
    justification: Annotated[
        str, typer.Option("--justification", help="Why the case is read (DPA 2018 s.62)")
    ] = CLI_JUSTIFICATION,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    db_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """Who owns each part of a case, its status and due time, and the history.

    Every read, shown or refused, is logged as a DPA 2018 s.62 consultation; a read of a case
    with a police employee among its parties is also reported to that force's PSD."""
    engine = _engine(data_dir, db_url)
    try:
        view = consult_case(
            engine,
            case_ref,
            force,
            reader=by or login_name(),
            justification=justification,
            now=datetime.now(UTC),
        )
        # The history and the clocks are the co-ordinating force's (and an administrator's).
        show_history = force is None or force == view.coordinating_force
        history = case_history(engine, case_ref) if show_history else None
        deadlines = case_deadlines(engine, case_ref) if show_history else None
    finally:
        engine.dispose()
    if as_json:
        body = case_json(view, history)
        if deadlines is not None:
            body["deadlines"] = [deadline_json(deadline) for deadline in deadlines]
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    out = console()
    print_case_view(view, out)
    if deadlines is not None:
        print_deadlines(deadlines, out)
    if history is not None:
        table = Table("at", "by", "event", "details", title="History")
        for line in history:
            by = f"{line.actor} ({line.acted_by})" if line.acted_by else line.actor
            table.add_row(f"{line.at:%Y-%m-%d %H:%M}", by, line.event, line.summary)
        out.print(table)


def case_json(view: CaseView, history: list[HistoryLine] | None) -> dict[str, Any]:
    """What `case` prints, as data: the same need-to-know view, no personal details."""
    document: dict[str, Any] = {
        "case_ref": view.case_ref,
        "status": view.status.value,
        "receiving_force": view.receiving_force,
        "coordinating_force": view.coordinating_force,
        "viewed_as": view.viewer,
        "immediate_risk": view.priority,
        "parts": [
            {
                "part_id": part.part_id,
                "kind": part.kind.value,
                "owner": part.owner,
                "status": part.status.value,
                "party_id": part.party_id,
                "due_at": part.due_at.isoformat() if part.due_at else None,
                "owners": [entry.to_owner for entry in part.ownership_history()],
            }
            for part in view.parts
        ],
    }
    if history is not None:
        document["history"] = [
            {
                "at": line.at.isoformat(),
                "by": line.actor,
                # The person at that force, where its signed envelope named one.
                "acted_by": line.acted_by,
                "event": line.event,
                "details": line.summary,
            }
            for line in history
        ]
    return document


def print_case_view(view: CaseView, target: Console | None = None) -> None:
    target = target or console()
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


def deadline_json(deadline: CaseDeadline) -> dict[str, Any]:
    return {
        "step": deadline.step,
        "part_id": deadline.part_id,
        "owner_force": deadline.owner_force,
        "due_at": deadline.due_at.isoformat(),
        "open": deadline.open,
        "red": deadline.red,
        "level_fired": deadline.level_fired,
        "closed_at": deadline.closed_at.isoformat() if deadline.closed_at else None,
    }


def print_deadlines(deadlines: list[CaseDeadline], target: Console | None = None) -> None:
    """The case's timed parts and statutory step clocks (domain.md §3), in UK time."""
    target = target or console()
    table = Table(
        "step",
        "part",
        "owner",
        "due (UK time)",
        "state",
        "level fired",
        title="Deadlines and step clocks",
    )
    for deadline in deadlines:
        if deadline.open:
            state = "[bold red]RED[/]" if deadline.red else "running"
        else:
            stopped = deadline.closed_at.astimezone(LONDON) if deadline.closed_at else None
            state = f"stopped {stopped:%Y-%m-%d %H:%M}" if stopped else "stopped"
        table.add_row(
            deadline.step,
            deadline.part_id,
            deadline.owner_force,
            f"{deadline.due_at.astimezone(LONDON):%a %d %b %Y %H:%M}",
            state,
            str(deadline.level_fired or "-"),
        )
    target.print(table)

"""`crossforce dashboard`: a supervisor's read-only view in the browser."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from adapters.sql.engine import DEFAULT_DB_URL, open_existing
from adapters.web.dashboard import Dashboard
from broker.cli.common import DB_URL_ENV, FILE_SUFFIX, setting
from contracts.forces import get_force

console = Console(stderr=True)


def dashboard(
    force: Annotated[str, typer.Option(help="The supervisor's force code")],
    db_url: Annotated[
        str | None,
        typer.Option(
            envvar=DB_URL_ENV,
            help=f"Database URL (or a file holding it: ${DB_URL_ENV}{FILE_SUFFIX}) "
            f"[default: {DEFAULT_DB_URL}]",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Bind address (keep it local)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8400,
) -> None:
    """Serve late and soon-due parts and the force's cases, refreshing every 30 seconds."""
    code = get_force(force).code
    engine = open_existing(setting(DB_URL_ENV, db_url) or DEFAULT_DB_URL)
    server = Dashboard(engine, code).serve(host, port)
    console.print(f"dashboard for {code} on http://{host}:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

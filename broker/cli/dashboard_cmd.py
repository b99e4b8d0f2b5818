"""`crossforce dashboard`: a supervisor's read-only view in the browser."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from adapters.sql.engine import open_existing
from adapters.web.dashboard import Dashboard
from broker.cli.common import DEFAULT_DATA_DIR, DataDir, DbUrl, database_urls
from contracts.forces import get_force

console = Console(stderr=True)


def dashboard(
    force: Annotated[str, typer.Option(help="The supervisor's force code")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    db_url: DbUrl = None,
    host: Annotated[str, typer.Option(help="Bind address (keep it local)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8400,
) -> None:
    """Serve late and soon-due parts and the force's cases, refreshing every 30 seconds."""
    code = get_force(force).code
    engine = open_existing(database_urls(data_dir, db_url)[0])
    server = Dashboard(engine, code).serve(host, port)
    console.print(f"dashboard for {code} on http://{host}:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

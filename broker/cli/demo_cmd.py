"""`crossforce demo`: a real multi-force case through the embedded broker, narrated.

The demo keeps its data (default `.crossforce/demo`) so the supervisors' web app can browse
it afterwards, and makes one web account per demo force, printing how to sign in.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crossforce.adapters.web.store import Role, WebStore
from crossforce.broker.cli.logs import LogFormat, LogLevel, configure_logging
from crossforce.broker.demo import run_demo
from crossforce.contracts.errors import ContractError, ReasonCode

# Wide enough for the timeline table even when output is piped.
console = Console(width=160) if not Console().is_terminal else Console()

DEFAULT_DEMO_DIR = Path(".crossforce/demo")
MARKER = ".crossforce-demo"  # only a folder carrying this is ever cleared by a new demo
DEMO_ACCOUNTS = {"demo.essex": "ESSEX", "demo.met": "METROPOLITAN", "demo.psos": "PSOS"}


def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Keep the broker's data here (cleared at the start of a demo)")
    ] = DEFAULT_DEMO_DIR,
    log_level: Annotated[
        LogLevel, typer.Option(envvar="CROSSFORCE_LOG_LEVEL", help="The hub's log, on stderr")
    ] = LogLevel.WARNING,
    log_format: Annotated[
        LogFormat, typer.Option(envvar="CROSSFORCE_LOG_FORMAT", help="text, or json")
    ] = LogFormat.TEXT,
) -> None:
    """Run a cross-force case on the embedded broker, print its timeline, and leave the data
    for `crossforce web serve`."""
    configure_logging(log_level, log_format)
    _fresh(data_dir)
    simulated = asyncio.run(run_demo(data_dir, console))
    password = secrets.token_urlsafe(12)
    store = WebStore.open(f"sqlite:///{data_dir / 'web.db'}")
    for username, force in DEMO_ACCOUNTS.items():
        store.add_account(username, force, Role.SUPERVISOR, password, datetime.now(UTC))
    store.engine.dispose()
    at = simulated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    console.rule("Browse the demo in the supervisors' web app")
    console.print(
        f"crossforce web serve --data-dir {data_dir} --at {at}\n"
        f"then open http://127.0.0.1:8400/ and sign in as "
        f"{', '.join(DEMO_ACCOUNTS)} with the password {password}\n"
        f"(--at shows the views as at the demo's simulated clock, when Police Scotland's "
        f"part is late)",
        highlight=False,
        soft_wrap=True,
    )


def _fresh(data_dir: Path) -> None:
    """A clean folder for this run: the case references are fixed, so a previous demo's data
    would collide. Only a folder a demo made is cleared."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise ContractError(
                ReasonCode.FILE_ERROR,
                f"{data_dir} holds data that is not a previous demo's; choose --data-dir",
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("made by crossforce demo; cleared by the next one\n")

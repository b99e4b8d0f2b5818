"""`crossforce demo`: a real multi-force case through the embedded broker, narrated."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from broker.demo import run_demo

# Wide enough for the timeline table even when output is piped.
console = Console(width=160) if not Console().is_terminal else Console()


def demo(
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the broker's data here (default: a temp dir)")
    ] = None,
) -> None:
    """Run a cross-force case on the embedded broker and print its timeline."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("faststream").setLevel(logging.WARNING)
    if data_dir is not None:
        asyncio.run(run_demo(data_dir, console))
        return
    with tempfile.TemporaryDirectory(prefix="crossforce-demo-") as tmp:
        asyncio.run(run_demo(Path(tmp), console))

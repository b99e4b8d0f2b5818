"""`crossforce docs`: generated interface documents (the force interface's AsyncAPI document)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Generated interface documents.", no_args_is_help=True)
err = Console(stderr=True)


@app.command("asyncapi")
def asyncapi(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or yaml")] = "json",
) -> None:
    """The AsyncAPI 3.0 document of what a force system publishes and reads."""
    from crossforce.broker.asyncapi import asyncapi_document, render

    if fmt not in ("json", "yaml"):
        raise typer.BadParameter("use json or yaml", param_hint="--format")
    text = render(asyncapi_document(), "yaml" if fmt == "yaml" else "json")
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err.print(f"wrote {out}")

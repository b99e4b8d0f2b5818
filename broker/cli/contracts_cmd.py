"""`crossforce contracts`: list the message catalogue and export its JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crossforce.contracts.envelope_schema import write_envelope_schema
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.schema_export import IncompatibleSchemaError, write_schemas

app = typer.Typer(help="The message catalogue and its JSON Schemas.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _summary(doc: str | None) -> str:
    # The docstring's first sentence-line; the citations that follow are for readers of the code.
    return " ".join((doc or "").strip().split("\n\n")[0].split()).split(" (domain.md")[0]


@app.command("list")
def list_types(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array")] = False,
) -> None:
    """Every message type and version the hub accepts."""
    models = REGISTRY.catalogue()
    if as_json:
        rows = [
            {
                "type": m.type_uri(),
                "name": m.NAME,
                "version": m.VERSION,
                "dataschema": m.dataschema(),
            }
            for m in models
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Crossforce message catalogue")
    table.add_column("type")
    table.add_column("name")
    table.add_column("version", justify="right")
    table.add_column("latest")
    table.add_column("description")
    for m in models:
        latest = REGISTRY.latest(m.NAME) is m
        table.add_row(
            m.type_uri(), m.NAME, str(m.VERSION), "yes" if latest else "", _summary(m.__doc__)
        )
    out.print(table)


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Where to write the .json files")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files even if the change is incompatible")
    ] = False,
) -> None:
    """Write one JSON Schema file per type and version (uk.police.dvds.NAME.vN.json), and the
    signed envelope's schema with all of them (envelope.schema.json)."""
    try:
        written = [*write_schemas(directory, force=force), write_envelope_schema(directory)]
    except IncompatibleSchemaError as exc:
        err.print(f"[bold red]error[/] {exc}", highlight=False)
        err.print("Publish a new version with an upcaster instead, or pass --force.")
        raise typer.Exit(1) from None
    err.print(f"wrote {len(written)} schemas to {directory}")


@app.command("vectors")
def vectors(
    directory: Annotated[Path, typer.Argument(help="Where to write the vector files")],
) -> None:
    """Write the conformance vectors (canonical JSON, keys, signatures, receipts)."""
    from crossforce.contracts.vectors import write_vectors

    written = write_vectors(directory)
    err.print(f"wrote {len(written)} vector files to {directory}")

"""`crossforce contracts list` and `export`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crossforce.broker.cli import contracts_cmd
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.schema_export import all_schemas

runner = CliRunner()


def test_list_json() -> None:
    result = runner.invoke(contracts_cmd.app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == len(REGISTRY.catalogue())
    row = next(r for r in rows if r["type"] == "uk.police.dvds.enquiry-result.v2")
    assert row == {
        "type": "uk.police.dvds.enquiry-result.v2",
        "name": "enquiry-result",
        "version": 2,
        "dataschema": "urn:crossforce:schema:uk.police.dvds.enquiry-result.v2",
    }


def test_list_table_marks_the_latest_version() -> None:
    result = runner.invoke(contracts_cmd.app, ["list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "enquiry-result.v" in line]
    v1 = next(line for line in lines if "enquiry-result.v1" in line)
    v2 = next(line for line in lines if "enquiry-result.v2" in line)
    assert "yes" in v2 and "yes" not in v1
    assert "Structured results" in v2


def test_export_writes_every_schema(tmp_path: Path) -> None:
    result = runner.invoke(contracts_cmd.app, ["export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted([*all_schemas(), "envelope.schema.json"])


def test_export_refuses_an_incompatible_overwrite(tmp_path: Path) -> None:
    runner.invoke(contracts_cmd.app, ["export", str(tmp_path)])
    target = tmp_path / "uk.police.dvds.receipt.v1.json"
    old = json.loads(target.read_text())
    old["required"] = []
    old["properties"]["gone"] = {"type": "string"}
    target.write_text(json.dumps(old))
    result = runner.invoke(contracts_cmd.app, ["export", str(tmp_path)])
    assert result.exit_code == 1
    assert "gone" in result.output
    assert runner.invoke(contracts_cmd.app, ["export", str(tmp_path), "--force"]).exit_code == 0


def test_registered_under_the_crossforce_command(tmp_path: Path) -> None:
    from crossforce.broker.cli import main

    main._register()
    result = runner.invoke(main.app, ["contracts", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert {r["name"] for r in json.loads(result.stdout)} == set(REGISTRY.names())

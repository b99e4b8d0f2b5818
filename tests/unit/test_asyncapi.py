"""The hub's AsyncAPI document is valid AsyncAPI 3.0.0 and covers every message version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer import Typer
from typer.testing import CliRunner

from broker.asyncapi import asyncapi_document
from broker.cli.docs_cmd import app as docs_app
from contracts.registry import REGISTRY
from contracts.schema_export import all_schemas

SPEC = Path(__file__).parents[1] / "data" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document(partitions=4)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SPEC.read_text(encoding="utf-8")))


def test_the_document_is_valid_asyncapi_3(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    assert document["asyncapi"] == "3.0.0"
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_the_validator_catches_a_broken_document(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    broken = json.loads(json.dumps(document))
    broken["channels"]["hub-delivery"]["address"] = 42
    del broken["info"]
    assert len(list(validator.iter_errors(broken))) >= 2


def test_every_subject_the_hub_speaks_is_a_channel(document: dict[str, Any]) -> None:
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {f"cf.in.{p}.>" for p in range(4)} <= addresses
    assert {"cf.out.{force}.msg", "cf.out.{force}.receipt", "cf.dlq.{force}"} <= addresses
    assert "cf.log.{case_ref}" in addresses
    delivery = document["channels"]["hub-delivery"]
    assert set(delivery["parameters"]) == {"force"}
    actions = {name: op["action"] for name, op in document["operations"].items()}
    assert actions["hub-inbound-p0"] == "receive"
    assert actions["hub-delivery"] == actions["hub-receipt"] == "send"


def test_every_message_version_has_its_contract_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for schema in all_schemas().values():
        assert schemas[schema["title"]] == schema
        jsonschema.Draft202012Validator.check_schema(schema)

    def payload_refs(channel: str) -> set[str]:
        ref = document["channels"][channel]["messages"]
        message_ref = next(iter(ref.values()))["$ref"].removeprefix("#/components/messages/")
        payload = document["components"]["messages"][message_ref]["payload"]
        return {item["$ref"].rsplit("/", 1)[1] for item in payload["oneOf"]}

    uris = {m.type_uri() for m in REGISTRY.catalogue()}
    receipt_uris = {m.type_uri() for m in REGISTRY.catalogue() if m.NAME == "receipt"}
    assert payload_refs("hub-delivery") == uris - receipt_uris
    assert payload_refs("hub-inbound-p0") == uris - receipt_uris
    assert payload_refs("hub-receipt") == receipt_uris
    # Both versions of a message with two versions are documented.
    assert {"uk.police.dvds.enquiry-result.v1", "uk.police.dvds.enquiry-result.v2"} <= uris


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for key, v in node.items() if key != "$defs" for r in refs(v)]
        if isinstance(node, list):
            return [r for item in node for r in refs(item)]
        return []

    outside_schemas = {k: v for k, v in document.items() if k != "components"}
    outside_schemas["messages"] = document["components"].get("messages", {})
    for ref in refs(outside_schemas):
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert target is not None


def test_the_cli_writes_json_and_yaml(tmp_path: Path) -> None:
    cli = Typer()
    cli.add_typer(docs_app, name="docs")
    runner = CliRunner()
    out = tmp_path / "asyncapi.yaml"
    result = runner.invoke(cli, ["docs", "asyncapi", "--out", str(out), "--format", "yaml"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["asyncapi"] == "3.0.0"
    result = runner.invoke(cli, ["docs", "asyncapi", "--partitions", "2"])
    assert result.exit_code == 0, result.output
    assert "hub-inbound-p1" in json.loads(result.stdout)["channels"]
    bad = runner.invoke(cli, ["docs", "asyncapi", "--format", "xml"])
    assert bad.exit_code != 0

"""The force interface's AsyncAPI document: the official parser reports no errors, it is valid
AsyncAPI 3.0.0, it describes what a force actually publishes and reads, and the published
copy in contracts/ is current."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer import Typer
from typer.testing import CliRunner

from crossforce.adapters.nats import subjects
from crossforce.broker.asyncapi import asyncapi_document, render
from crossforce.broker.cli.docs_cmd import app as docs_app
from crossforce.broker.service.case_handlers import HUB_ONLY
from crossforce.contracts.registry import REGISTRY

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))

from node import REPO, node_project, run_node  # noqa: E402

SPEC = Path(__file__).parents[1] / "data" / "asyncapi-3.0.0.schema.json"
PUBLISHED = REPO / "contracts" / "asyncapi.json"
PARSER = REPO / "tools" / "asyncapi-check"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SPEC.read_text(encoding="utf-8")))


def _parse(tmp_path: Path, document: dict[str, Any]) -> dict[str, Any]:
    node = node_project(PARSER)
    path = tmp_path / "asyncapi.json"
    path.write_text(render(document), encoding="utf-8")
    result = run_node(node, PARSER / "check.mjs", str(path))
    assert result.stdout, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_the_official_parser_reports_no_errors(tmp_path: Path, document: dict[str, Any]) -> None:
    report = _parse(tmp_path, document)
    assert report["parsed"] is True
    assert report["errors"] == []


def test_the_official_parser_catches_a_dangling_reference(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(document))
    broken["components"]["schemas"].pop("Jurisdiction")
    report = _parse(tmp_path, broken)
    assert "invalid-ref" in {error["code"] for error in report["errors"]}


def test_the_document_is_valid_against_the_asyncapi_json_schema(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    assert document["asyncapi"] == "3.0.0"
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    broken = json.loads(json.dumps(document))
    broken["channels"]["deliveries"]["address"] = 42
    del broken["info"]
    assert len(list(validator.iter_errors(broken))) >= 2


def test_the_channels_are_the_subjects_a_force_uses(document: dict[str, Any]) -> None:
    channels = document["channels"]
    assert channels["inbound"]["address"] == subjects.inbound_subject("{force}", "{caseRef}")
    assert channels["deliveries"]["address"] == subjects.delivery_subject("{force}")
    assert channels["priorityDeliveries"]["address"] == subjects.priority_subject("{force}")
    assert channels["receipts"]["address"] == subjects.receipt_subject("{force}")
    assert "KENT" in channels["receipts"]["parameters"]["force"]["enum"]
    # Nothing of the hub's inside: partitions, case log, dead letters, timers.
    addresses = " ".join(channel["address"] for channel in channels.values())
    assert "cf.log" not in addresses and "cf.dlq" not in addresses and "timer" not in addresses
    actions = {name: op["action"] for name, op in document["operations"].items()}
    assert actions == {
        "sendEnvelope": "send",
        "receivePriorityDelivery": "receive",
        "receiveDelivery": "receive",
        "receiveReceipt": "receive",
    }
    reply = document["operations"]["sendEnvelope"]["reply"]
    assert reply["channel"] == {"$ref": "#/channels/receipts"}


def test_every_message_is_the_whole_signed_envelope(document: dict[str, Any]) -> None:
    components = document["components"]
    envelope = components["schemas"]["Envelope"]
    assert "signature" in envelope["required"] and "data" in envelope["required"]
    messages = components["messages"]
    sent = {m["name"] for key, m in messages.items() if not key.endswith(".delivered")}
    every = {m.type_uri() for m in REGISTRY.catalogue()}
    hub_only = {m.type_uri() for m in REGISTRY.catalogue() if m.NAME in HUB_ONLY}
    receipts = {m.type_uri() for m in REGISTRY.catalogue() if m.NAME == "receipt"}
    assert sent == (every - hub_only) | receipts
    for message in components["messages"].values():
        payload = components["schemas"][message["payload"]["$ref"].rsplit("/", 1)[1]]
        envelope_ref, typed = payload["allOf"]
        assert envelope_ref == {"$ref": "#/components/schemas/Envelope"}
        assert typed["properties"]["type"] == {"const": message["name"]}
        headers = components["schemas"][message["headers"]["$ref"].rsplit("/", 1)[1]]
        assert "Nats-Msg-Id" in headers["required"]
    delivery_headers = components["schemas"]["DeliveryHeaders"]["properties"]
    assert {"Crossforce-Priority", "Crossforce-Applicant-Channel"} <= set(delivery_headers)
    assert "Crossforce-In-Reply-To" in components["schemas"]["ReceiptHeaders"]["properties"]
    # Both versions of a message with two versions are documented.
    assert {"enquiry-result.v1", "enquiry-result.v2"} <= set(components["messages"])


def test_servers_carry_nkey_and_tls_security(document: dict[str, Any]) -> None:
    production = document["servers"]["production"]
    assert production["host"] != "localhost:4222"
    schemes = {ref["$ref"].rsplit("/", 1)[1] for ref in production["security"]}
    assert schemes == set(document["components"]["securitySchemes"]) == {"nkey", "tls"}


def test_the_published_document_is_current(document: dict[str, Any]) -> None:
    assert PUBLISHED.read_text(encoding="utf-8") == render(document), (
        "refresh it with `crossforce docs asyncapi --out contracts/asyncapi.json`"
    )


def test_the_cli_writes_json_and_yaml(tmp_path: Path) -> None:
    cli = Typer()
    cli.add_typer(docs_app, name="docs")
    runner = CliRunner()
    out = tmp_path / "asyncapi.yaml"
    result = runner.invoke(cli, ["docs", "asyncapi", "--out", str(out), "--format", "yaml"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["asyncapi"] == "3.0.0"
    result = runner.invoke(cli, ["docs", "asyncapi"])
    assert result.exit_code == 0, result.output
    assert "inbound" in json.loads(result.stdout)["channels"]
    bad = runner.invoke(cli, ["docs", "asyncapi", "--format", "xml"])
    assert bad.exit_code != 0


def test_the_examples_are_real_envelopes_that_fit_their_schemas(document: dict[str, Any]) -> None:
    components = document["components"]
    with_examples = {k: m for k, m in components["messages"].items() if m.get("examples")}
    assert {"enquiry-requested.v1", "enquiry-requested.v1.delivered", "receipt.v1"} <= set(
        with_examples
    )

    def errors(ref: str, value: Any) -> list[str]:
        validator = jsonschema.Draft7Validator(
            {"$ref": ref, "components": components},
            format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
        )
        return [e.message for e in validator.iter_errors(value)]

    for message in with_examples.values():
        for example in message["examples"]:
            assert errors(message["payload"]["$ref"], example["payload"]) == []
            assert errors(message["headers"]["$ref"], example["headers"]) == []
            unsigned = {k: v for k, v in example["payload"].items() if k != "signature"}
            assert errors(message["payload"]["$ref"], unsigned)  # the check can fail

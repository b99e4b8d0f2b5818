"""The published JSON Schema of the envelope accepts every real signed envelope, refuses the
shapes the hub refuses, and is current with the code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from crossforce.broker.scenario import case_steps
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.envelope_schema import ENVELOPE_SCHEMA_FILE, envelope_json_schema, main
from crossforce.contracts.examples import example
from crossforce.contracts.forces import FORCES
from crossforce.contracts.messages.receipt import Receipt, ReceiptStatus
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.schema_export import SNAPSHOT_DIR, dumps
from crossforce.contracts.signing import sign_envelope

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
CASE = "CF-2026-000123"
PKI = EphemeralPki(["HUB", "KENT", "ESSEX", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"], now=NOW)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SNAPSHOT_DIR / ENVELOPE_SCHEMA_FILE).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _signed(step_sender: str, message: Any, recipients: tuple[str, ...]) -> dict[str, Any]:
    envelope = compose(
        message,
        sender=step_sender,
        case_ref=CASE,
        recipients=recipients,
        jurisdiction=FORCES[recipients[0]].jurisdiction if recipients else Jurisdiction.SCOTLAND,
        time=NOW,
    )
    body: dict[str, Any] = json.loads(sign_envelope(envelope, PKI.key(step_sender)).to_bytes())
    return body


def _errors(validator: jsonschema.Draft202012Validator, body: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def test_the_published_schema_is_current() -> None:
    published = (SNAPSHOT_DIR / ENVELOPE_SCHEMA_FILE).read_text(encoding="utf-8")
    assert published == dumps(envelope_json_schema()), (
        "refresh it with `crossforce contracts export contracts/schemas`"
    )


def test_every_envelope_of_a_whole_case_is_valid(
    validator: jsonschema.Draft202012Validator,
) -> None:
    steps = case_steps(CASE, NOW)
    assert len(steps) > 10
    for step in steps:
        body = _signed(step.sender, step.message, step.recipients)
        assert _errors(validator, body) == [], step.note


def test_every_example_message_and_a_hub_receipt_are_valid(
    validator: jsonschema.Draft202012Validator,
) -> None:
    for model in REGISTRY.catalogue():
        if model.NAME == "receipt":
            continue
        message = example(model.NAME, "ESSEX", "KENT", model.VERSION)
        assert _errors(validator, _signed("ESSEX", message, ("KENT",))) == [], model.type_uri()
    rejected = Receipt(
        status=ReceiptStatus.REJECTED,
        in_reply_to="0190f1c2-7a3b-7c4d-8e5f-0123456789ab",
        reason_code="BAD_SIGNATURE",
        message="signature does not verify: content altered",
        received_at=NOW,
    )
    assert _errors(validator, _signed("HUB", rejected, ("KENT",))) == []


def test_shapes_the_hub_refuses_are_invalid(validator: jsonschema.Draft202012Validator) -> None:
    good = _signed("KENT", case_steps(CASE, NOW)[0].message, ("ESSEX",))
    unsigned = {k: v for k, v in good.items() if k != "signature"}
    assert _errors(validator, unsigned)
    wrong_data = {**good, "data": {"unexpected": True}}
    assert _errors(validator, wrong_data)
    unknown_type = {**good, "type": "uk.police.dvds.no-such-thing.v1"}
    assert _errors(validator, unknown_type)
    bad_case = {**good, "caseref": "CF 2026/1"}
    assert _errors(validator, bad_case)
    extra = {**good, "routing": "everyone"}
    assert _errors(validator, extra)
    # The schema is about shape; the signature itself is checked against the trust store.
    assert _errors(validator, {**good, "signature": "not a jws"})


def test_the_schema_is_written_where_it_is_published(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    written = json.loads((tmp_path / ENVELOPE_SCHEMA_FILE).read_text(encoding="utf-8"))
    assert written["$schema"] == "https://json-schema.org/draft/2020-12/schema"

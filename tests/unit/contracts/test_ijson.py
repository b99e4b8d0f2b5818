"""Bytes from outside are read as I-JSON with limits: every bad input is MALFORMED_JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Jurisdiction, parse_envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.examples import example_data
from crossforce.contracts.ijson import MAX_DEPTH, read_json
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.signing import sign_envelope

BAD_INPUTS = {
    "deep nesting": b"[" * 10_000 + b"]" * 10_000,
    "deep nesting in data": b'{"data":' + b'{"a":' * 5_000 + b"1" + b"}" * 5_001,
    "just past the depth limit": b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    "5,000-digit integer": b'{"n":' + b"9" * 5_000 + b"}",
    "integer past 2**53": b'{"n":9007199254740993}',
    "NaN": b'{"n":NaN}',
    "Infinity": b'{"n":-Infinity}',
    "1e400": b'{"n":1e400}',
    "long float": b'{"n":1.' + b"0" * 500 + b"}",
    "lone high surrogate": b'{"s":"\\ud800"}',
    "lone low surrogate in a key": b'{"\\udfff":1}',
    "lone surrogate in an array": b'{"a":["ok","\\udbff"]}',
    "duplicate keys": b'{"a":1,"a":2}',
    "duplicate keys deep down": b'{"data":{"x":{"k":1,"k":1}}}',
    "invalid UTF-8": b'{"s":"\xff"}',
    "encoded surrogate": b'{"s":"\xed\xa0\x80"}',
    "byte-order mark": b'\xef\xbb\xbf{"a":1}',
    "truncated": b'{"a":[1,2',
    "trailing garbage": b'{"a":1} x',
}


@pytest.mark.parametrize("raw", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_malformed_json(raw: bytes) -> None:
    with pytest.raises(ContractError) as refused:
        read_json(raw)
    assert refused.value.code == ReasonCode.MALFORMED_JSON
    assert "\n" not in refused.value.message


@pytest.mark.parametrize("raw", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_envelope_bytes_are_malformed_json(raw: bytes) -> None:
    with pytest.raises(ContractError) as refused:
        parse_envelope(raw)
    assert refused.value.code == ReasonCode.MALFORMED_JSON


GOOD_INPUTS = {
    "nesting at the limit": (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, None),
    "brackets inside strings": (b'{"s":"' + b"[" * 100 + b'"}', {"s": "[" * 100}),
    "largest safe integer": (b'{"n":-9007199254740991}', {"n": -(2**53 - 1)}),
    "surrogate pair": (b'{"s":"\\ud83d\\ude00"}', {"s": "\U0001f600"}),
    "escaped quote then bracket": (b'{"s":"\\"[[["}', {"s": '"[[['}),
}


@pytest.mark.parametrize(("raw", "expected"), GOOD_INPUTS.values(), ids=GOOD_INPUTS.keys())
def test_good_input_reads(raw: bytes, expected: object) -> None:
    value = read_json(raw)
    if expected is not None:
        assert value == expected


def _signed_case_opening(**data_changes: object) -> bytes:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    pki = EphemeralPki(["KENT"], now=now)
    body = example_data("case-opened", "KENT", "ESSEX")
    envelope = compose(
        REGISTRY.latest("case-opened").model_validate(body),
        sender="KENT",
        case_ref="CF-2026-000001",
        jurisdiction=Jurisdiction.ENGLAND_WALES,
        time=now,
    )
    raw = json.loads(sign_envelope(envelope, pki.key("KENT")).to_bytes())
    raw["data"].update(data_changes)
    return json.dumps(raw).encode()


def test_a_number_is_not_taken_for_a_time_in_data() -> None:
    envelope = parse_envelope(_signed_case_opening(initial_contact_at=12345))
    with pytest.raises(ContractError) as refused:
        REGISTRY.open(envelope)
    assert refused.value.code == ReasonCode.SCHEMA_INVALID
    assert "initial_contact_at" in refused.value.message


def test_a_number_is_not_taken_for_the_envelope_time() -> None:
    raw = json.loads(_signed_case_opening())
    raw["time"] = 12345
    with pytest.raises(ContractError) as refused:
        parse_envelope(json.dumps(raw).encode())
    assert refused.value.code == ReasonCode.INVALID_ENVELOPE

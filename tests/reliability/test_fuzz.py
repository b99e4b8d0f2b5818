"""Hostile input through the hub pipeline, in process (SQLite, a fixed clock).

Every input must come to a typed refusal at once: a ReasonCode, a `rejections` row, a
rejection receipt and a dead letter in the outbox. Nothing escapes as an exception, nothing
hangs (pytest-timeout), and handling one input stays within a memory bound (tracemalloc).
The number of inputs tried is printed in the terminal summary.
"""

from __future__ import annotations

import itertools
import json
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.schema import metadata
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.scenario import FORCES, case_steps
from crossforce.broker.service.pipeline import Inbound, PipelineResult
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.compose import compose
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.forces import FORCES as DIRECTORY
from crossforce.contracts.jws import sign_detached
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "CF-FUZZ-000001"
# Handling one input may not take more than this (the envelope limit is 256 KiB).
PEAK_BYTES = 48 * 1024 * 1024
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a CI failure can be replayed
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
pytestmark = pytest.mark.timeout(240)


class Hub:
    """One in-process pipeline and the refusals it gave, counted by reason."""

    def __init__(self, root: Path) -> None:
        self.engine: Engine = make_engine(f"sqlite:///{root / 'hub.db'}")
        metadata.create_all(self.engine)
        self.pki = EphemeralPki(FORCES, now=NOW)
        self.pipeline = InProcessHub(self.engine, self.pki, NOW).core.pipeline
        self.sequence = itertools.count(1)
        self.reasons: Counter[str] = Counter()
        self.peak = 0

    def refuse(self, data: bytes, *, force: str = "KENT", case_ref: str = CASE) -> PipelineResult:
        """Feed one input; assert it came to a complete typed refusal."""
        sequence = next(self.sequence)
        inbound = Inbound(data, f"cf.in.0.{force}.{case_ref}", sequence, NOW, f"fuzz-{sequence}")
        tracemalloc.start()
        try:
            result = self.pipeline.process(inbound)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.peak = max(self.peak, peak)
        assert peak < PEAK_BYTES, f"{peak} bytes to handle a {len(data)}-byte input"
        assert not result.accepted, data[:200]
        assert isinstance(result.reason, ReasonCode)
        key = f"seq{sequence}"
        with self.engine.connect() as db:
            [row] = db.execute(
                select(schema.rejections).where(schema.rejections.c.inbound_key == key)
            ).all()
            sent = set(
                db.execute(
                    select(schema.outbox.c.msg_id).where(schema.outbox.c.msg_id.like(f"{key}/%"))
                ).scalars()
            )
        assert row.reason_code == result.reason.value
        assert sent == {f"{key}/receipt", f"{key}/dlq"}
        self.reasons[result.reason.value] += 1
        return result

    def valid(self, index: int = 0, case_ref: str = CASE) -> dict[str, Any]:
        """A validly signed envelope (as a JSON object) from the scripted case."""
        step = case_steps(case_ref, NOW)[index]
        envelope = sign_envelope(
            compose(
                step.message,
                sender=step.sender,
                case_ref=case_ref,
                recipients=step.recipients,
                jurisdiction=DIRECTORY[step.sender].jurisdiction,
                time=NOW,
            ),
            self.pki.key(step.sender),
        )
        body: dict[str, Any] = json.loads(envelope.to_bytes())
        return body

    def sender(self, index: int) -> str:
        return case_steps(CASE, NOW)[index].sender

    def resign(self, body: dict[str, Any]) -> bytes:
        """Sign an edited envelope again, so only its content can be the reason it fails."""
        unsigned = {k: v for k, v in body.items() if k != "signature"}
        signed = {
            **unsigned,
            "signature": sign_detached(canonical_json(unsigned), self.pki.key(body["senderforce"])),
        }
        return json.dumps(signed, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    hub = Hub(tmp_path_factory.mktemp("fuzz"))
    yield hub
    hub.engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def _report(hub: Hub, figures: Counter[str], notes: dict[str, str]) -> Iterator[None]:
    yield
    figures["fuzz inputs tried"] += next(hub.sequence) - 1
    notes["fuzz refusals by reason"] = json.dumps(dict(sorted(hub.reasons.items())))
    notes["fuzz peak memory per input"] = f"{hub.peak / 1024 / 1024:.1f} MiB"


def _text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


# -- bytes and structure ------------------------------------------------------------------------

# A case reference as NATS carries it: one subject token, anything but separators and wildcards.
subject_tokens = st.text(
    st.characters(blacklist_characters=".*> \t\r\n", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=80,
)


@FUZZ
@given(data=st.binary(max_size=4096), case_ref=subject_tokens)
def test_random_bytes_are_refused(hub: Hub, data: bytes, case_ref: str) -> None:
    hub.refuse(data, case_ref=case_ref)


@FUZZ
@given(index=st.integers(0, 5), cut=st.floats(0.0, 0.999))
def test_truncated_envelopes_are_refused_malformed(hub: Hub, index: int, cut: float) -> None:
    raw = _text(hub.valid(index)).encode()
    result = hub.refuse(raw[: int(len(raw) * cut)], force=hub.sender(index))
    assert result.reason == ReasonCode.MALFORMED_JSON


@FUZZ
@given(
    depth=st.integers(33, 20_000),
    opener=st.sampled_from(["[", '{"a":', '{"data":{"x":']),
    closed=st.booleans(),
)
def test_deep_nesting_is_refused_malformed(hub: Hub, depth: int, opener: str, closed: bool) -> None:
    closer = {"[": "]", '{"a":': "}", '{"data":{"x":': "}}"}[opener]
    text = opener * depth + "1" + (closer * depth if closed else "")
    result = hub.refuse(text.encode())
    assert result.reason in (ReasonCode.MALFORMED_JSON, ReasonCode.OVERSIZE)


# -- numbers, strings, keys and unicode inside an otherwise valid envelope ----------------------

hostile_numbers = st.one_of(
    st.sampled_from(["NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E+999"]),
    st.integers(33, 6_000).map(lambda n: "9" * n),
    st.integers(2**53, 2**70).map(str),
    st.integers(1, 400).map(lambda n: "0." + "1" * 40 + f"e-{n}"),
)


@FUZZ
@given(number=hostile_numbers, index=st.integers(0, 5), where=st.sampled_from(["data", "top"]))
def test_numbers_no_double_holds_are_refused_malformed(
    hub: Hub, number: str, index: int, where: str
) -> None:
    text = _text(hub.valid(index))
    if where == "data":
        text = text.replace('"data":{', f'"data":{{"n":{number},', 1).replace(
            '"data": {', f'"data": {{"n": {number}, ', 1
        )
    else:
        text = "{" + f'"n":{number},' + text[1:]
    assert number in text
    result = hub.refuse(text.encode(), force=hub.sender(index))
    assert result.reason == ReasonCode.MALFORMED_JSON


@FUZZ
@given(size=st.integers(1, 400_000), index=st.integers(0, 5), char=st.sampled_from("a€\U0001f600"))
def test_huge_strings_are_refused(hub: Hub, size: int, index: int, char: str) -> None:
    body = hub.valid(index)
    body["data"] = {**body["data"], "notes": char * size}
    raw = hub.resign(body) if size < 200_000 else _text(body).encode()
    hub.refuse(raw, force=hub.sender(index))


@FUZZ
@given(index=st.integers(0, 5), data=st.data())
def test_duplicate_keys_are_refused_malformed(hub: Hub, index: int, data: st.DataObject) -> None:
    body = hub.valid(index)
    top = data.draw(st.booleans())
    target = body if top else body["data"]
    key = data.draw(st.sampled_from(sorted(target)))
    text = _text(body)
    duplicate = json.dumps(key) + ": " + json.dumps(target[key], ensure_ascii=False) + ", "
    if top:
        text = "{" + duplicate + text[1:]
    else:
        text = text.replace('"data": {', '"data": {' + duplicate, 1)
    assert text.count(json.dumps(key) + ":") >= 2
    result = hub.refuse(text.encode(), force=hub.sender(index))
    assert result.reason == ReasonCode.MALFORMED_JSON


unicode_tricks = st.sampled_from(
    [
        ("escape", "\\ud800"),
        ("escape", "\\udfff"),
        ("escape", "x\\udc00y"),
        ("escape", "\\ud83d"),  # the high half of an emoji, alone
        ("bytes", b"\xed\xa0\x80"),  # a surrogate encoded in UTF-8
        ("bytes", b"\xc0\xaf"),  # overlong '/'
        ("bytes", b"\xe0\x80\xaf"),  # overlong '/', three bytes
        ("bytes", b"\xff"),
        ("bytes", b"\x80"),
        ("bytes", b"\xf4\x90\x80\x80"),  # beyond U+10FFFF
        ("bom", b"\xef\xbb\xbf"),
        ("bom", b"\xfe\xff"),
    ]
)


@FUZZ
@given(trick=unicode_tricks, index=st.integers(0, 5), field=st.sampled_from(["purpose", "caseref"]))
def test_unicode_tricks_are_refused_malformed(
    hub: Hub, trick: tuple[str, Any], index: int, field: str
) -> None:
    kind, value = trick
    raw = _text(hub.valid(index)).encode()
    if kind == "bom":
        raw = value + raw
    else:
        marker = f'"{field}": "'.encode()
        inserted = value.encode() if kind == "escape" else value
        assert marker in raw
        raw = raw.replace(marker, marker + inserted, 1)
    result = hub.refuse(raw, force=hub.sender(index))
    assert result.reason == ReasonCode.MALFORMED_JSON


# -- wrong types in a validly signed envelope ------------------------------------------------------


def _wrong(value: Any) -> st.SearchStrategy[Any]:
    """Values of a JSON type other than `value`'s (and never null, which some fields allow)."""
    choices: list[Any] = [12345, 1.5, True, [], {}, "12345", [value]]
    if isinstance(value, bool):
        choices = [1, "true", [], {}]
    elif isinstance(value, int | float):
        choices = [str(value), True, [value], {}]
    elif isinstance(value, str):
        choices = [12345, 0, True, [value], {"value": value}]
    elif isinstance(value, list):
        choices = [{}, "x", 1, True]
    elif isinstance(value, dict):
        choices = [[], "x", 1, True]
    return st.sampled_from(choices)


ENVELOPE_FIELDS = [
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "dataschema",
    "datacontenttype",
    "caseref",
    "senderforce",
    "recipients",
    "jurisdiction",
    "securitymarking",
    "purpose",
    "lawfulbasis",
    "data",
]


@FUZZ
@given(index=st.integers(0, 5), field=st.sampled_from(ENVELOPE_FIELDS), data=st.data())
def test_wrong_types_in_a_signed_envelope_are_refused(
    hub: Hub, index: int, field: str, data: st.DataObject
) -> None:
    body = hub.valid(index)
    body[field] = data.draw(_wrong(body[field]), label=field)
    signer = hub.sender(index)
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    body["signature"] = sign_detached(canonical_json(unsigned), hub.pki.key(signer))
    result = hub.refuse(_text(body).encode(), force=hub.sender(index))
    assert result.reason == ReasonCode.INVALID_ENVELOPE, (field, body[field], result.detail)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, leaf or container) in a message's data, except nulls."""
    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                yield (*prefix, key), item
                yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            if item is not None:
                yield (*prefix, number), item
                yield from _paths(item, (*prefix, number))


def _set(body: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        body = body[step]
    body[path[-1]] = value


@FUZZ
@given(index=st.integers(0, 5), data=st.data())
def test_wrong_types_in_signed_message_data_are_refused(
    hub: Hub, index: int, data: st.DataObject
) -> None:
    body = hub.valid(index)
    path, value = data.draw(st.sampled_from(sorted(_paths(body["data"]), key=repr)), label="path")
    _set(body["data"], path, data.draw(_wrong(value), label="value"))
    result = hub.refuse(hub.resign(body), force=hub.sender(index))
    assert result.reason == ReasonCode.SCHEMA_INVALID, (path, result.detail)


def test_a_number_for_a_time_is_not_taken_as_one(hub: Hub) -> None:
    """The issue's example: `initial_contact_at: 12345` became 1970-01-01T03:25:45Z."""
    body = hub.valid(0)
    assert "initial_contact_at" in json.dumps(body["data"])
    text = json.dumps(body["data"])
    start = text.index('"initial_contact_at": "')
    end = text.index('"', start + len('"initial_contact_at": "'))
    body["data"] = json.loads(text[:start] + '"initial_contact_at": 12345' + text[end + 1 :])
    result = hub.refuse(hub.resign(body))
    assert result.reason == ReasonCode.SCHEMA_INVALID


@pytest.mark.parametrize("case_ref", ["¹", "é", "-CF-1", "_CF", "٣٣", "a" * 65, "CF\u200b1"])
def test_a_case_reference_outside_the_envelope_pattern_still_gets_a_receipt(
    hub: Hub, case_ref: str
) -> None:
    """A force may publish on any token NATS allows; the receipt names the case UNKNOWN then.
    (Letters and digits outside ASCII once broke the receipt itself, and held the partition.)"""
    hub.refuse(b"{}", case_ref=case_ref)
    hub.refuse(_text(hub.valid(0)).encode(), force=hub.sender(0), case_ref=case_ref)

"""Registry parsing and the enquiry-result v1 -> v2 upcaster."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages.enquiry import (
    CheckResult,
    CheckType,
    EnquiryResult,
    EnquiryResultV1,
    check_result_from_text,
    check_type_from_text,
)
from crossforce.contracts.registry import REGISTRY

V1 = "uk.police.dvds.enquiry-result.v1"
V2 = "uk.police.dvds.enquiry-result.v2"


def v1(*checks: tuple[str, str]) -> dict:
    return {"enquiry_id": "ENQ-1", "checks": [{"check": c, "outcome": o} for c, o in checks]}


def test_v1_payload_is_upcast_to_v2() -> None:
    result = REGISTRY.parse(
        V1,
        v1(
            ("PNC", "Trace: two DA convictions"),
            ("ViSOR", "No trace"),
            ("local intelligence", "Trace - no concerns"),
            ("DASH", "High risk"),
            ("Partner agencies", "not done"),
        ),
    )
    assert isinstance(result, EnquiryResult)
    assert result.jurisdiction == "england-wales"
    got = [(c.check, c.result, c.risk_level) for c in result.checks]
    assert got == [
        (CheckType.PNC, CheckResult.TRACE_CONCERN, None),
        (CheckType.VISOR, CheckResult.NO_TRACE, None),
        (CheckType.LOCAL_INTELLIGENCE, CheckResult.TRACE_NO_CONCERN, None),
        (CheckType.DASH, CheckResult.TRACE_CONCERN, "high"),
        (CheckType.PARTNER_AGENCY, CheckResult.NOT_DONE, None),
    ]
    assert result.checks[0].note == "Trace: two DA convictions"
    assert all(c.party_id is None for c in result.checks)


def test_scottish_checks_make_a_scottish_result() -> None:
    result = REGISTRY.parse(V1, v1(("iVPD", "no trace"), ("DAQ", "standard risk")))
    assert result.jurisdiction == "scotland"
    daq = result.checks[1]
    assert (daq.check, daq.risk_level, daq.result) == ("DAQ", "standard", "trace-no-concern")


def test_unrecognised_v1_check_becomes_named_other() -> None:
    result = REGISTRY.parse(V1, v1(("Housing register", "nothing known")))
    assert (result.checks[0].check, result.checks[0].check_name) == ("OTHER", "Housing register")
    assert result.checks[0].result is CheckResult.NO_TRACE


def test_v2_payload_parses_as_is() -> None:
    body = {
        "enquiry_id": "E1",
        "jurisdiction": "scotland",
        "checks": [{"check": "CHS", "result": "no-trace"}],
    }
    assert REGISTRY.parse(V2, body) == EnquiryResult.model_validate(body)


def test_invalid_v1_is_refused_before_upcasting() -> None:
    with pytest.raises(ContractError) as caught:
        REGISTRY.parse(V1, {"enquiry_id": "E1", "checks": []})
    assert caught.value.code is ReasonCode.SCHEMA_INVALID
    assert "enquiry-result.v1" in caught.value.message


def test_unknown_type_and_version() -> None:
    with pytest.raises(ContractError) as caught:
        REGISTRY.parse("uk.police.dvds.enquiry-result.v9", {})
    assert caught.value.code is ReasonCode.UNKNOWN_VERSION
    with pytest.raises(ContractError) as caught:
        REGISTRY.parse("uk.police.dvds.no-such-thing.v1", {})
    assert caught.value.code is ReasonCode.UNKNOWN_TYPE


def test_check_names_are_read_loosely() -> None:
    assert check_type_from_text("ViSOR") is CheckType.VISOR
    assert check_type_from_text("Local Intelligence") is CheckType.LOCAL_INTELLIGENCE
    assert check_type_from_text("S-DASH") is CheckType.DASH
    assert check_type_from_text("i-VPD") is CheckType.IVPD
    assert check_type_from_text("Social care") is CheckType.OTHER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No trace", CheckResult.NO_TRACE),
        ("Nil", CheckResult.NO_TRACE),
        ("No trace, no concerns", CheckResult.NO_TRACE),
        ("Trace - no concerns", CheckResult.TRACE_NO_CONCERN),
        ("No trace on PNC but intelligence shows concern", CheckResult.TRACE_CONCERN),
        ("Unable to complete", CheckResult.NOT_DONE),
        ("???", CheckResult.TRACE_CONCERN),
    ],
)
def test_outcome_text(text: str, expected: CheckResult) -> None:
    assert check_result_from_text(text) is expected


_words = st.sampled_from(
    [
        "no",
        "trace",
        "nil",
        "concern",
        "concerns",
        "risk",
        "high",
        "record",
        "found",
        "assault",
        "2019",
        "DA",
        "none",
        "intel",
        "ok",
        "-",
        ",",
        "not",
        "done",
    ]
)
_text = st.lists(_words, min_size=1, max_size=8).map(" ".join)
_checks = st.sampled_from(
    ["PNC", "PND", "ViSOR", "CHS", "DAQ", "DASH", "Local intel", "Other thing"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_checks, _text), min_size=1, max_size=8))
def test_every_valid_v1_result_upcasts_and_keeps_its_text(pairs: list[tuple[str, str]]) -> None:
    raw = v1(*pairs)
    EnquiryResultV1.model_validate(raw)
    result = REGISTRY.parse(V1, raw)
    assert isinstance(result, EnquiryResult)
    assert [c.note for c in result.checks] == [o.strip() for _, o in pairs]


@settings(max_examples=300, deadline=None)
@given(_text)
def test_concern_is_never_read_as_no_trace(text: str) -> None:
    # Risk is never downgraded by translation: text that reports a concern, without saying
    # "no concern", must not come out as no-trace or trace-no-concern.
    lowered = text.lower()
    stripped = lowered.replace("no concerns", "").replace("no concern", "")
    if "concern" in stripped and "not done" not in lowered:
        assert check_result_from_text(text) is CheckResult.TRACE_CONCERN


def test_mixed_catalogues_in_v1_keep_the_foreign_check_as_other() -> None:
    result = REGISTRY.parse(V1, v1(("CHS", "no trace"), ("DASH", "high risk")))
    assert result.jurisdiction == "scotland"
    dash = result.checks[1]
    assert (dash.check, dash.check_name, dash.risk_level) == ("OTHER", "DASH", None)
    assert dash.result is CheckResult.TRACE_CONCERN and dash.note == "high risk"

"""The published conformance vectors are current, the Python verifier agrees with every
expected result, and independent JOSE libraries verify the valid signatures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crossforce.broker.cli import contracts_cmd
from crossforce.contracts.b64 import b64url_decode, b64url_encode
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.envelope import parse_envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages.receipt import Receipt
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.signing import verify_envelope
from crossforce.contracts.trust import TrustStore
from crossforce.contracts.vectors import VECTOR_DIR, all_vectors, render


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTOR_DIR / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    store = TrustStore.model_validate(_load("keys.json")["trust_store"])
    store.verify()  # the anchor's signature over the published store holds
    return store


def _verdict(envelope: dict[str, Any], trust: TrustStore) -> dict[str, Any]:
    try:
        record = verify_envelope(parse_envelope(json.dumps(envelope).encode()), trust)
    except ContractError as refusal:
        return {"valid": False, "reason_code": refusal.code.value}
    return {"valid": True, "kid": record.kid}


def test_the_published_vectors_are_current() -> None:
    for name, vector in all_vectors().items():
        assert (VECTOR_DIR / name).read_text(encoding="utf-8") == render(vector), (
            f"{name} is stale: refresh with `crossforce contracts vectors contracts/vectors/v1`"
        )


def test_canonical_cases_agree_with_the_python_canonicaliser() -> None:
    cases = {case["name"]: case for case in _load("canonical.json")["cases"]}
    for case in cases.values():
        produced = canonical_json(json.loads(case["input"]))
        assert produced.decode("utf-8") == case["expected"]
        assert produced.hex() == case["expected_utf8_hex"]
    # Independently of the code that wrote them: RFC 8785 §3.2.2.3 and §3.2.3.
    numbers = "[333333333.3333333,1e+30,4.5,0.002,1e-27,1e+21,100000000000000000000,0,"
    assert cases["numbers-as-ecmascript-prints-them"]["expected"].startswith(numbers)
    ordered = json.loads(cases["property-order-by-utf16-code-units"]["expected"])
    assert list(ordered) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_every_signature_case_gets_its_expected_result(trust: TrustStore) -> None:
    vectors = _load("signatures.json")
    results = {case["name"]: case["expected"] for case in vectors["cases"]}
    assert {"valid", "valid-alg-eddsa", "valid-as-written", "tampered-data"} <= set(results)
    for case in vectors["cases"]:
        assert _verdict(case["envelope"], trust) == case["expected"], case["name"]
    codes = {e["reason_code"] for e in results.values() if not e["valid"]}
    assert codes == {
        "BAD_SIGNATURE",
        "MISSING_SIGNATURE",
        "UNKNOWN_KEY",
        "SENDER_MISMATCH",
        "EXPIRED_KEY",
        "REVOKED_KEY",
        "KEY_NOT_YET_VALID",
    }


def test_the_signing_steps_are_spelled_out_consistently() -> None:
    for case in _load("signatures.json")["cases"]:
        if not case["expected"]["valid"]:
            continue
        envelope = case["envelope"]
        body = {k: v for k, v in envelope.items() if k != "signature"}
        payload = canonical_json(body)
        assert payload.decode("utf-8") == case["signing_payload"]
        assert case["signing_input"] == f"{case['protected_header']}.{b64url_encode(payload)}"
        assert envelope["signature"] == f"{case['protected_header']}..{case['signature_value']}"


def _public_jwk(kid: str, trust: TrustStore) -> dict[str, str]:
    record = next(k for ks in trust.forces.values() for k in ks.keys if k.kid == kid)
    return record.jwk()


def test_joserfc_verifies_every_valid_signature(trust: TrustStore) -> None:
    from joserfc import jws
    from joserfc.errors import BadSignatureError
    from joserfc.jwk import OKPKey

    for case in _load("signatures.json")["cases"]:
        expected = case["expected"]
        if not expected["valid"]:
            continue
        key = OKPKey.import_key(_public_jwk(expected["kid"], trust))
        alg = json.loads(b64url_decode(case["protected_header"]))["alg"]
        compact = f"{case['signing_input']}.{case['signature_value']}"
        result = jws.deserialize_compact(compact, key, algorithms=[alg])
        assert result.payload == case["signing_payload"].encode("utf-8"), case["name"]
        altered = compact.replace(case["signing_input"].split(".")[1], b64url_encode(b"{}"))
        with pytest.raises(BadSignatureError):
            jws.deserialize_compact(altered, key, algorithms=[alg])


def test_jwcrypto_verifies_the_valid_receipts_and_refuses_a_tampered_envelope(
    trust: TrustStore,
) -> None:
    from jwcrypto import jwk, jws

    def verifies(envelope: dict[str, Any], kid: str) -> bool:
        body = {k: v for k, v in envelope.items() if k != "signature"}
        header, _, signature = envelope["signature"].split(".")
        token = jws.JWS()
        token.deserialize(f"{header}.{b64url_encode(canonical_json(body))}.{signature}")
        token.allowed_algs = ["Ed25519", "EdDSA"]
        try:
            token.verify(jwk.JWK(**_public_jwk(kid, trust)))
        except jws.InvalidJWSSignature:
            return False
        return True

    receipts = _load("receipts.json")["cases"]
    assert all(verifies(case["envelope"], case["expected"]["kid"]) for case in receipts)
    tampered = next(c for c in _load("signatures.json")["cases"] if c["name"] == "tampered-data")
    valid_kid = _load("signatures.json")["cases"][0]["expected"]["kid"]
    assert not verifies(tampered["envelope"], valid_kid)


def test_there_is_a_receipt_for_every_reason_code_and_each_reads_as_expected(
    trust: TrustStore,
) -> None:
    vectors = _load("receipts.json")
    rejected = {c["expected"]["reason_code"] for c in vectors["cases"]} - {None}
    assert rejected == {code.value for code in ReasonCode}
    assert vectors["reason_codes"] == [code.value for code in ReasonCode]
    for case in vectors["cases"]:
        envelope = parse_envelope(json.dumps(case["envelope"]).encode())
        record = verify_envelope(envelope, trust)
        receipt = REGISTRY.open(envelope)
        assert isinstance(receipt, Receipt)
        expected = case["expected"]
        assert record.kid == expected["kid"]
        assert receipt.status.value == expected["status"]
        assert (receipt.reason_code.value if receipt.reason_code else None) == (
            expected["reason_code"]
        )
        assert receipt.in_reply_to == expected["in_reply_to"]


def test_the_cli_writes_the_same_vectors(tmp_path: Path) -> None:
    result = CliRunner().invoke(contracts_cmd.app, ["vectors", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in all_vectors():
        assert (tmp_path / name).read_text() == (VECTOR_DIR / name).read_text()

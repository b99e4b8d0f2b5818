"""Signatures are decoded strictly: one text form per signature, an algorithm allow-list,
and critical header parameters refused (RFC 7515, RFC 4648 §3.5, RFC 8725 §3.1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from crossforce.contracts.b64 import b64url_decode, b64url_encode
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.envelope import Envelope, force_urn
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope, verify_envelope

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PKI = EphemeralPki(["ESSEX", "KENT"], now=NOW)
TRUST = PKI.trust_store()
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _signed() -> Envelope:
    envelope = Envelope(
        id="0192f5a0-0000-7000-8000-000000000777",
        source=force_urn("ESSEX"),
        type="uk.police.dvds.enquiry-requested.v1",
        time=NOW,
        subject="CF-2026-000777",
        dataschema="urn:crossforce:schema:uk.police.dvds.enquiry-requested.v1",
        caseref="CF-2026-000777",
        senderforce="ESSEX",
        recipients="KENT",
        jurisdiction="england-wales",
        purpose="DVDS enquiry",
        lawfulbasis="DPA 2018 s.35",
        data={"enquiry_id": "E1", "party_ids": ["B"]},
    )
    return sign_envelope(envelope, PKI.key("ESSEX"))


def _with_signature(signature: str) -> Envelope:
    return _signed().model_copy(update={"signature": signature})


def _refused(envelope: Envelope) -> ContractError:
    with pytest.raises(ContractError) as refused:
        verify_envelope(envelope, TRUST)
    return refused.value


def _resigned_with_header(header: dict[str, Any]) -> Envelope:
    """A genuine signature by ESSEX's key over a header of the test's choosing: only the
    header's content can be the reason for a refusal."""
    return _resigned_with_header_text(json.dumps(header))


def _resigned_with_header_text(text: str) -> Envelope:
    signed = _signed()
    encoded = b64url_encode(text.encode())
    payload = b64url_encode(canonical_json(signed.signing_dict()))
    signature = PKI.key("ESSEX").sign(f"{encoded}.{payload}".encode("ascii"))
    return signed.model_copy(update={"signature": f"{encoded}..{b64url_encode(signature)}"})


def test_the_untouched_signature_verifies() -> None:
    assert verify_envelope(_signed(), TRUST).kid == PKI.key("ESSEX").kid


def test_characters_outside_the_alphabet_are_refused() -> None:
    # Python's base64 decoder skips them, so before strict decoding this still verified.
    header, _, signature = _signed().signature.split(".")
    for tampered in (
        f"{header}..{signature[:10]}!!**{signature[10:]}",
        f"{header}..{signature[:10]} {signature[10:]}",
        f"{header[:4]}!!**{header[4:]}..{signature}",
    ):
        refused = _refused(_with_signature(tampered))
        assert refused.code is ReasonCode.BAD_SIGNATURE
        assert "not base64url" in refused.message


def test_padding_is_refused() -> None:
    header, _, signature = _signed().signature.split(".")
    refused = _refused(_with_signature(f"{header}..{signature}=="))
    assert refused.code is ReasonCode.BAD_SIGNATURE


def test_changed_unused_bits_in_the_final_character_are_refused() -> None:
    # 64 signature bytes take 86 characters: the last carries 2 bits and 4 unused ones.
    header, _, signature = _signed().signature.split(".")
    last = ALPHABET.index(signature[-1])
    for unused in range(1, 16):
        variant = signature[:-1] + ALPHABET[last ^ unused]
        assert b64url_decode_lenient(variant) == b64url_decode(signature)  # same bytes...
        refused = _refused(_with_signature(f"{header}..{variant}"))  # ...one text form
        assert refused.code is ReasonCode.BAD_SIGNATURE
        assert "unused bits" in refused.message


def b64url_decode_lenient(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", "ed25519", None])
def test_only_ed25519_is_accepted(alg: str | None) -> None:
    header: dict[str, Any] = {"kid": PKI.key("ESSEX").kid}
    if alg is not None:
        header["alg"] = alg
    refused = _refused(_resigned_with_header(header))
    assert refused.code is ReasonCode.BAD_SIGNATURE
    assert "alg" in refused.message


@pytest.mark.parametrize(
    "extra",
    [{"crit": ["exp"], "exp": 1}, {"crit": []}, {"b64": False, "crit": ["b64"]}, {"b64": True}],
)
def test_critical_parameters_are_refused(extra: dict[str, Any]) -> None:
    header = {"alg": "Ed25519", "kid": PKI.key("ESSEX").kid, **extra}
    refused = _refused(_resigned_with_header(header))
    assert refused.code is ReasonCode.BAD_SIGNATURE
    assert "crit" in refused.message


def test_a_header_naming_a_parameter_twice_is_refused() -> None:
    kid = PKI.key("ESSEX").kid
    refused = _refused(
        _resigned_with_header_text(f'{{"alg":"Ed25519","kid":"{kid}","alg":"Ed25519"}}')
    )
    assert refused.code is ReasonCode.BAD_SIGNATURE
    assert "twice" in refused.message


def test_the_allowed_header_with_a_genuine_signature_verifies() -> None:
    """The refusals above are about the header, not about re-signing by hand."""
    envelope = _resigned_with_header({"alg": "Ed25519", "kid": PKI.key("ESSEX").kid})
    assert verify_envelope(envelope, TRUST).kid == PKI.key("ESSEX").kid


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("AQ==", "padding"),
        ("AQ=", "padding"),
        ("A!Q", "alphabet"),
        ("A+/Q", "alphabet"),  # the standard alphabet's characters
        ("AQ\n", "alphabet"),
        ("A", "length"),
        ("AR", "unused bits"),
        ("AAB", "unused bits"),
    ],
)
def test_base64url_decoding_is_canonical(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        b64url_decode(text)


def test_every_byte_string_round_trips() -> None:
    for length in range(0, 70):
        data = bytes((i * 37 + length) % 256 for i in range(length))
        assert b64url_decode(b64url_encode(data)) == data

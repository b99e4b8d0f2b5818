"""Envelope signing and verification, including by independent JOSE libraries."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossforce.contracts.b64 import b64url_encode
from crossforce.contracts.envelope import Envelope, force_urn, parse_envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope, verify_envelope

PKI = EphemeralPki(["ESSEX", "KENT"])
TRUST = PKI.trust_store()


def make_envelope(**changes: Any) -> Envelope:
    fields: dict[str, Any] = {
        "id": "0192f5a0-0000-7000-8000-000000000001",
        "source": force_urn("ESSEX"),
        "type": "uk.police.dvds.enquiry-requested.v1",
        "time": PKI.now,
        "subject": "CF-2026-000123",
        "dataschema": "urn:crossforce:schema:uk.police.dvds.enquiry-requested.v1",
        "caseref": "CF-2026-000123",
        "senderforce": "ESSEX",
        "recipients": "KENT",
        "jurisdiction": "england-wales",
        "purpose": "DVDS enquiry",
        "lawfulbasis": "DPA 2018 s.35",
        "data": {"enquiry_id": "E1", "party_ids": ["B"], "note": "Größe — ü", "n": 3},
    }
    fields.update(changes)
    return Envelope(**fields)


def test_signed_envelope_verifies_after_a_round_trip_through_bytes() -> None:
    signed = sign_envelope(make_envelope(), PKI.key("ESSEX"))
    record = verify_envelope(parse_envelope(signed.to_bytes()), TRUST)
    assert record.kid == PKI.key("ESSEX").kid


def _independent_signing_input(signed: dict[str, Any]) -> tuple[str, str]:
    """Re-derive what was signed without any Crossforce code: RFC 8785 for this data is
    sorted keys, no whitespace, UTF-8 (no floats in the envelope)."""
    body = {k: v for k, v in signed.items() if k != "signature"}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    header, _, signature = signed["signature"].split(".")
    return f"{header}.{b64url_encode(payload.encode())}.{signature}", signed["senderforce"]


def test_joserfc_verifies_a_crossforce_signature() -> None:
    from joserfc import jws
    from joserfc.jwk import OKPKey

    signed = json.loads(sign_envelope(make_envelope(), PKI.key("ESSEX")).to_bytes())
    compact, sender = _independent_signing_input(signed)
    trust = json.loads(TRUST.to_json())
    [jwk] = [{k: key[k] for k in ("kty", "crv", "x")} for key in trust["forces"][sender]["keys"]]
    result = jws.deserialize_compact(compact, OKPKey.import_key(jwk), algorithms=["Ed25519"])
    assert result.headers()["alg"] == "Ed25519"
    assert json.loads(result.payload)["id"] == signed["id"]


def test_jwcrypto_verifies_a_crossforce_signature_and_rejects_an_edit() -> None:
    from jwcrypto import jwk, jws

    signed = json.loads(sign_envelope(make_envelope(), PKI.key("ESSEX")).to_bytes())
    key = jwk.JWK(**PKI.key("ESSEX").jwk)
    compact, _ = _independent_signing_input(signed)
    token = jws.JWS()
    token.deserialize(compact)
    token.verify(key, alg="Ed25519")
    signed["recipients"] = "KENT,SURREY"
    tampered, _ = _independent_signing_input(signed)
    token = jws.JWS()
    token.deserialize(tampered)
    with pytest.raises(jws.InvalidJWSSignature):
        token.verify(key, alg="Ed25519")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, (*prefix, k))] or [prefix]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _paths(v, (*prefix, i))] or [prefix]
    return [prefix]


def _mutate(value: Any, replacement: str) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + replacement if replacement else value[:-1] + "~"
    return replacement


SIGNED_BODY = json.loads(sign_envelope(make_envelope(), PKI.key("ESSEX")).to_bytes())
FIELD_PATHS = [p for p in _paths(SIGNED_BODY) if p and p[0] != "signature"]


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(path=st.sampled_from(FIELD_PATHS), replacement=st.text(min_size=0, max_size=3))
def test_any_change_to_any_field_fails_verification(
    path: tuple[Any, ...], replacement: str
) -> None:
    body = json.loads(json.dumps(SIGNED_BODY))
    holder = body
    for step in path[:-1]:
        holder = holder[step]
    original = holder[path[-1]]
    holder[path[-1]] = _mutate(original, replacement)
    if holder[path[-1]] == original:
        holder[path[-1]] = f"{original}!"
    with pytest.raises(ContractError) as refused:
        verify_envelope(parse_envelope(json.dumps(body).encode()), TRUST)
    assert refused.value.code in {
        ReasonCode.BAD_SIGNATURE,
        ReasonCode.INVALID_ENVELOPE,
        ReasonCode.SENDER_MISMATCH,
        ReasonCode.UNKNOWN_KEY,
        ReasonCode.UNKNOWN_TYPE,
    }


TOP_LEVEL = [k for k in SIGNED_BODY if k != "signature"]


@given(field=st.sampled_from(TOP_LEVEL))
def test_deleting_any_field_fails_verification(field: str) -> None:
    # Deleting a field the model would default (specversion, securitymarking, ...) changes
    # what was signed just as much as editing it.
    body = {k: v for k, v in SIGNED_BODY.items() if k != field}
    with pytest.raises(ContractError) as refused:
        verify_envelope(parse_envelope(json.dumps(body).encode()), TRUST)
    assert refused.value.code in {ReasonCode.BAD_SIGNATURE, ReasonCode.INVALID_ENVELOPE}


@pytest.mark.parametrize(
    "edit",
    [
        {"causationid": None},
        {"time": SIGNED_BODY["time"].replace("Z", "+00:00")},
    ],
    ids=["explicit-null", "same-instant-other-offset"],
)
def test_an_edit_that_means_the_same_still_fails_verification(edit: dict[str, Any]) -> None:
    body = {**SIGNED_BODY, **edit}
    with pytest.raises(ContractError) as refused:
        verify_envelope(parse_envelope(json.dumps(body).encode()), TRUST)
    assert refused.value.code == ReasonCode.BAD_SIGNATURE


def test_an_envelope_signed_by_another_jose_library_verifies_as_written() -> None:
    """A force's own adapter signs its own JSON: defaults omitted, time with an offset."""
    from joserfc import jws
    from joserfc.jwk import OKPKey

    key = PKI.key("ESSEX")
    body = {k: v for k, v in SIGNED_BODY.items() if k not in {"signature", "specversion"}}
    body["time"] = PKI.now.astimezone(timezone(timedelta(hours=1))).isoformat()
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # The adapter holds the same private key; export it as a JWK the other library reads.
    d = b64url_encode(key._private_key.private_bytes_raw())
    private = OKPKey.import_key({**key.jwk, "d": d})
    compact = jws.serialize_compact(
        {"alg": "Ed25519", "kid": key.kid}, payload, private, algorithms=["Ed25519"]
    )
    header, _, signature = compact.split(".")
    body["signature"] = f"{header}..{signature}"
    received = parse_envelope(json.dumps(body).encode())
    assert verify_envelope(received, TRUST).kid == key.kid
    # Forwarded as written, so the recipient can verify it too.
    assert verify_envelope(parse_envelope(received.to_bytes()), TRUST).kid == key.kid


def test_an_envelope_written_by_hand_is_signed_in_the_form_it_is_printed() -> None:
    # No specversion, a time without microseconds: `message sign` on a hand-written file.
    body = {k: v for k, v in make_envelope().to_json_dict().items() if k != "specversion"}
    body["time"] = PKI.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    signed = sign_envelope(parse_envelope(json.dumps(body).encode()), PKI.key("ESSEX"))
    printed = json.dumps(signed.to_json_dict()).encode()
    assert verify_envelope(parse_envelope(printed), TRUST).kid == PKI.key("ESSEX").kid


def test_adding_a_field_fails_verification() -> None:
    body = dict(SIGNED_BODY)
    body["data"] = {**body["data"], "extra": 1}
    with pytest.raises(ContractError) as refused:
        verify_envelope(parse_envelope(json.dumps(body).encode()), TRUST)
    assert refused.value.code == ReasonCode.BAD_SIGNATURE


def test_the_actor_is_signed_with_the_rest() -> None:
    """The `actor` extension is a member of the envelope, so the signature covers it: naming
    someone else, removing it, or adding one to an envelope signed without it all fail."""
    signed = json.loads(
        sign_envelope(make_envelope(actor="essex.sup"), PKI.key("ESSEX")).to_bytes()
    )
    assert signed["actor"] == "essex.sup"
    assert verify_envelope(parse_envelope(json.dumps(signed).encode()), TRUST).kid
    without = {k: v for k, v in signed.items() if k != "actor"}
    for body in ({**signed, "actor": "essex.other"}, without, {**SIGNED_BODY, "actor": "a.b"}):
        with pytest.raises(ContractError) as refused:
            verify_envelope(parse_envelope(json.dumps(body).encode()), TRUST)
        assert refused.value.code == ReasonCode.BAD_SIGNATURE


@pytest.mark.parametrize("actor", ["", "two words", "x" * 65, "-leading", "a/b", "é"])
def test_the_actor_is_a_short_opaque_id_not_free_text(actor: str) -> None:
    with pytest.raises(ValueError):
        make_envelope(actor=actor)


def test_sender_cannot_sign_as_another_force() -> None:
    with pytest.raises(ContractError) as refused:
        sign_envelope(make_envelope(), PKI.key("KENT"))
    assert refused.value.code == ReasonCode.SENDER_MISMATCH


def test_spoofed_sender_with_own_key_is_a_sender_mismatch() -> None:
    # Kent signs a message but claims Essex sent it: the key belongs to Kent.
    envelope = make_envelope()
    forged = sign_envelope(
        envelope.model_copy(update={"senderforce": "KENT", "source": force_urn("KENT")}),
        PKI.key("KENT"),
    )
    claimed = forged.model_copy(update={"senderforce": "ESSEX", "source": force_urn("ESSEX")})
    with pytest.raises(ContractError) as refused:
        verify_envelope(claimed, TRUST)
    assert refused.value.code == ReasonCode.SENDER_MISMATCH


def test_unsigned_and_unknown_key_are_refused() -> None:
    with pytest.raises(ContractError) as refused:
        verify_envelope(make_envelope(), TRUST)
    assert refused.value.code == ReasonCode.MISSING_SIGNATURE
    stranger = EphemeralPki(["ESSEX"])
    signed = sign_envelope(make_envelope(), stranger.key("ESSEX"))
    with pytest.raises(ContractError) as refused:
        verify_envelope(signed, TRUST)
    assert refused.value.code == ReasonCode.UNKNOWN_KEY


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", ReasonCode.MALFORMED_JSON),
        (b"[1,2]", ReasonCode.MALFORMED_JSON),
        (b'{"id": "x"}', ReasonCode.INVALID_ENVELOPE),
        (b" " * (256 * 1024 + 1), ReasonCode.OVERSIZE),
    ],
)
def test_bad_bytes_get_typed_errors(raw: bytes, code: ReasonCode) -> None:
    with pytest.raises(ContractError) as refused:
        parse_envelope(raw)
    assert refused.value.code == code


def test_time_before_key_life_is_not_yet_valid() -> None:
    # A sender whose clock or key is ahead of the hub's is told so, not that its key expired.
    early = make_envelope(time=PKI.not_before - timedelta(seconds=1))
    with pytest.raises(ContractError) as refused:
        verify_envelope(sign_envelope(early, PKI.key("ESSEX")), TRUST)
    assert refused.value.code == ReasonCode.KEY_NOT_YET_VALID


def test_time_after_key_life_is_expired() -> None:
    late = make_envelope(time=PKI.not_after + timedelta(seconds=1))
    with pytest.raises(ContractError) as refused:
        verify_envelope(sign_envelope(late, PKI.key("ESSEX")), TRUST)
    assert refused.value.code == ReasonCode.EXPIRED_KEY


def _signed_by_joserfc(alg: str, key_force: str = "ESSEX") -> dict[str, Any]:
    """An envelope signed by another JOSE library that names the algorithm `alg`."""
    from joserfc import jws
    from joserfc.jwk import OKPKey

    key = PKI.key(key_force)
    body = {k: v for k, v in SIGNED_BODY.items() if k != "signature"}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    private = OKPKey.import_key(
        {**key.jwk, "d": b64url_encode(key._private_key.private_bytes_raw())}
    )
    compact = jws.serialize_compact({"alg": alg, "kid": key.kid}, payload, private, [alg])
    header, _, signature = compact.split(".")
    return {**body, "signature": f"{header}..{signature}"}


def test_an_envelope_signed_as_eddsa_with_an_ed25519_key_verifies() -> None:
    # Many JOSE libraries still know Ed25519 only as the polymorphic EdDSA (RFC 8037).
    body = _signed_by_joserfc("EdDSA")
    assert verify_envelope(parse_envelope(json.dumps(body).encode()), TRUST).kid == (
        PKI.key("ESSEX").kid
    )
    tampered = {**body, "recipients": "KENT,SURREY"}
    with pytest.raises(ContractError) as refused:
        verify_envelope(parse_envelope(json.dumps(tampered).encode()), TRUST)
    assert refused.value.code == ReasonCode.BAD_SIGNATURE


@pytest.mark.parametrize("alg", ["ES256", "HS256", "none", "ed25519"])
def test_any_other_algorithm_name_is_refused(alg: str) -> None:
    header = b64url_encode(json.dumps({"alg": alg, "kid": PKI.key("ESSEX").kid}).encode())
    good = sign_envelope(make_envelope(), PKI.key("ESSEX"))
    signature = good.signature.split(".")[2] if good.signature else ""
    body = {**json.loads(good.to_bytes()), "signature": f"{header}..{signature}"}
    with pytest.raises(ContractError) as refused:
        verify_envelope(parse_envelope(json.dumps(body).encode()), TRUST)
    assert refused.value.code == ReasonCode.BAD_SIGNATURE

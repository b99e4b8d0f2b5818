"""Conformance vectors: what a Crossforce implementation in any language must agree with.

Version 1 (`contracts/vectors/v1/`) holds four files:

- `canonical.json`: RFC 8785 canonical JSON cases: input JSON text, the expected canonical
  text and its UTF-8 bytes in hex.
- `keys.json`: the published test keys (public and private JWKs, fixed so signatures are
  reproducible: Ed25519 is deterministic), with the signed trust store holding their public
  key sets. Never trust these keys anywhere else.
- `signatures.json`: signed envelopes with every step of signing spelled out (canonical
  payload, protected header, signing input, signature), valid ones and tampered ones, each
  with the expected result: valid, or the reason code a verifier gives.
- `receipts.json`: one signed hub receipt for every reason code, and an acceptance, each with
  what a force must read from it.

Everything is computed here from the contracts code with fixed keys, times and ids, so the
files are the same on every run; a test checks the published files are current and that the
Python verifier agrees with every expected result.

    python -m crossforce.contracts.vectors  # or: crossforce contracts vectors contracts/vectors/v1
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crossforce.contracts.b64 import b64url_encode
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.compose import DEFAULT_LAWFUL_BASIS, DEFAULT_PURPOSE, compose
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope, Jurisdiction, force_urn
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.jws import ACCEPTED_ALGORITHMS, ALGORITHM, sign_detached
from crossforce.contracts.keys import ANCHOR, ForceKeySet, PublicKeyRecord, SigningKey
from crossforce.contracts.messages.receipt import Receipt, ReceiptStatus
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.trust import TrustStore

VERSION = "v1"
VECTOR_DIR = Path(__file__).parent / "vectors" / VERSION
# Every envelope in the vectors is signed at this time; key validity is judged at it.
SIGNED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
CASE_REF = "CF-2026-000123"
WARNING = "Published test keys: never trust them outside conformance tests."

Vector = dict[str, Any]

# Key name -> (force, not before, expires, revoked at).
_KEYS: dict[str, tuple[str, datetime, datetime, datetime | None]] = {
    "essex": ("ESSEX", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), None),
    "kent": ("KENT", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), None),
    "hub": (
        HUB_FORCE_CODE,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
        None,
    ),
    "essex-expired": (
        "ESSEX",
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
    ),
    "essex-revoked": (
        "ESSEX",
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2026, 6, 1, tzinfo=UTC),
    ),
    "essex-future": (
        "ESSEX",
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2028, 1, 1, tzinfo=UTC),
        None,
    ),
    "anchor": (ANCHOR, datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC), None),
}
# Signs correctly but is in no trust store.
_UNTRUSTED = "essex-untrusted"

_ENQUIRY = {
    "enquiry_id": "ENQ-0001",
    "responding_force": "KENT",
    "jurisdiction": "england-wales",
    "party_ids": ["P2"],
    "parties": [
        {
            "party_id": "P2",
            "role": "B",
            "home_force": "KENT",
            "person": {
                "given_names": "Barry",
                "family_name": "Sample",
                "date_of_birth": "1986-11-02",
            },
        }
    ],
    "requested_checks": ["PNC", "PND", "VISOR", "LOCAL_INTELLIGENCE"],
    "due_at": "2026-11-30T17:00:00+00:00",
}

# (name, input JSON text). Expected output is computed by contracts.canonical.
_CANONICAL_CASES: list[tuple[str, str]] = [
    ("literals-and-whitespace", ' { "b" : [ true , false , null ] , "a" : { } , "c" : [ ] } '),
    (
        "property-order-by-utf16-code-units",
        '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With '
        'Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control",'
        '"\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ),
    ("nested-objects-sorted-at-every-level", '{"z":{"b":1,"a":2},"a":[{"y":1,"x":2}]}'),
    (
        "numbers-as-ecmascript-prints-them",
        "[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, 1e21, 1e20,"
        " -0, 0.1, 1e-7, 1e-6, 100, -1.5, 9007199254740991, 5e-324, 1.7976931348623157e308]",
    ),
    (
        "string-escapes",
        '"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\\\/ \\u007f \\u00e9 \\u20ac \\ud834\\udd1e"',
    ),
    ("non-ascii-is-not-escaped", '{"note":"Größe — ü","name":"Siân Llŷr"}'),
]


def _private_key(name: str) -> Ed25519PrivateKey:
    # A fixed seed per name: the vectors (and their signatures) are the same on every run.
    seed = hashlib.sha256(f"crossforce conformance vectors {VERSION} {name}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def _signing_key(name: str) -> SigningKey:
    force = _KEYS[name][0] if name in _KEYS else "ESSEX"
    return SigningKey(force, _private_key(name))


def _record(name: str) -> PublicKeyRecord:
    _, nbf, exp, revoked = _KEYS[name]
    record = _signing_key(name).public_record(nbf, exp)
    return record.model_copy(update={"revoked_at": revoked})


def trust_store() -> TrustStore:
    """The vectors' trust store, signed by the vectors' anchor."""
    key_sets: dict[str, ForceKeySet] = {}
    for name, (force, *_) in _KEYS.items():
        if force == ANCHOR:
            continue
        key_sets.setdefault(force, ForceKeySet(force=force)).keys.append(_record(name))
    store = TrustStore(issued_at=SIGNED_AT - timedelta(days=30), anchor=_record("anchor"))
    store = store.model_copy(update={"forces": key_sets})
    signature = sign_detached(store._signed_bytes(), _signing_key("anchor"))
    return store.model_copy(update={"signature": signature})


def _jwk_private(name: str) -> dict[str, str]:
    key = _signing_key(name)
    return {**key.jwk, "d": b64url_encode(_private_key(name).private_bytes_raw()), "kid": key.kid}


def keys_vectors() -> Vector:
    names = [*_KEYS, _UNTRUSTED]
    return {
        "version": VERSION,
        "warning": WARNING,
        "description": (
            "Ed25519 test keys as JWKs (kid = RFC 7638 thumbprint), and the trust store that "
            "holds their public key sets, signed by the anchor key (a detached JWS over the "
            "RFC 8785 canonical JSON of the store without `signature`). "
            f"`{_UNTRUSTED}` is in no key set."
        ),
        "keys": {
            name: {"force": _signing_key(name).force, "private_jwk": _jwk_private(name)}
            for name in names
        },
        "trust_store": json.loads(trust_store().to_json()),
    }


def canonical_vectors() -> Vector:
    cases = []
    for name, text in _CANONICAL_CASES:
        expected = canonical_json(json.loads(text))
        cases.append(
            {
                "name": name,
                "input": text,
                "expected": expected.decode("utf-8"),
                "expected_utf8_hex": expected.hex(),
            }
        )
    return {
        "version": VERSION,
        "description": (
            "RFC 8785 JSON Canonicalization Scheme. Parse `input` as JSON, canonicalise it, "
            "and compare with `expected` (the UTF-8 bytes are `expected_utf8_hex`)."
        ),
        "cases": cases,
    }


def _enquiry(envelope_id: str, *, sender: str = "ESSEX") -> Envelope:
    message = REGISTRY.parse("uk.police.dvds.enquiry-requested.v1", _ENQUIRY)
    return compose(
        message,
        sender=sender,
        case_ref=CASE_REF,
        recipients=["KENT"],
        jurisdiction=Jurisdiction.ENGLAND_WALES,
        envelope_id=envelope_id,
        time=SIGNED_AT,
    )


def _vector_id(number: int) -> str:
    return f"019ab0c0-0000-7000-8000-{number:012d}"


def _sign_body(body: dict[str, Any], key_name: str, alg: str = ALGORITHM) -> Vector:
    """Every step of signing `body` (the envelope without signature) with one test key."""
    key = _signing_key(key_name)
    payload = canonical_json(body)
    header = b64url_encode(canonical_json({"alg": alg, "kid": key.kid}))
    signing_input = f"{header}.{b64url_encode(payload)}"
    signature = b64url_encode(key.sign(signing_input.encode("ascii")))
    return {
        "key": key_name,
        "signing_payload": payload.decode("utf-8"),
        "protected_header": header,
        "signing_input": signing_input,
        "signature_value": signature,
        "envelope": {**body, "signature": f"{header}..{signature}"},
    }


def _valid(kid: str) -> Vector:
    return {"valid": True, "kid": kid}


def _invalid(code: ReasonCode) -> Vector:
    return {"valid": False, "reason_code": code.value}


def signature_vectors() -> Vector:
    body = _enquiry(_vector_id(1)).signing_dict()
    essex = _signing_key("essex").kid
    cases: list[Vector] = []

    def case(name: str, description: str, signed: Vector, expected: Vector) -> None:
        cases.append({"name": name, "description": description, **signed, "expected": expected})

    good = _sign_body(body, "essex")
    case("valid", "An envelope as Crossforce writes and signs it.", good, _valid(essex))
    case(
        "valid-alg-eddsa",
        "The same, signed by a library that names Ed25519 `EdDSA` (accepted on verify).",
        _sign_body(body, "essex", "EdDSA"),
        _valid(essex),
    )
    as_written = {k: v for k, v in body.items() if k not in ("specversion", "datacontenttype")}
    as_written["time"] = "2026-11-23T10:30:00+01:00"
    case(
        "valid-as-written",
        "Written by another system: defaults left out, time with an offset. The signature "
        "covers the members exactly as written.",
        _sign_body(as_written, "essex"),
        _valid(essex),
    )

    acting = _enquiry(_vector_id(2)).model_copy(update={"actor": "essex.sup"}).signing_dict()
    with_actor = _sign_body(acting, "essex")
    case(
        "valid-with-actor",
        "Naming the person who acted at the sending force in the `actor` extension: an "
        "ordinary member of the envelope, so the signature covers it.",
        with_actor,
        _valid(essex),
    )
    for name, description, edit in (
        ("tampered-actor", "`actor` changed after signing.", {"actor": "essex.other"}),
        ("actor-added", "`actor` added to an envelope signed without one.", {"actor": "a.b"}),
    ):
        source = with_actor if name == "tampered-actor" else good
        case(
            name,
            description,
            {**source, "envelope": {**source["envelope"], **edit}},
            _invalid(ReasonCode.BAD_SIGNATURE),
        )

    def tampered(name: str, description: str, edit: dict[str, Any], code: ReasonCode) -> None:
        changed = {**good, "envelope": {**good["envelope"], **edit}}
        case(name, description, changed, _invalid(code))

    tampered(
        "tampered-data",
        "A value inside `data` changed after signing.",
        {"data": {**body["data"], "requested_checks": ["PNC"]}},
        ReasonCode.BAD_SIGNATURE,
    )
    tampered(
        "tampered-recipients",
        "A force added to `recipients` after signing.",
        {"recipients": "KENT,SURREY"},
        ReasonCode.BAD_SIGNATURE,
    )
    tampered(
        "tampered-time-same-instant",
        "`time` rewritten as the same instant in another form: still an edit.",
        {"time": "2026-11-23T09:30:00Z"},
        ReasonCode.BAD_SIGNATURE,
    )
    header, _, signature = good["envelope"]["signature"].split(".")
    flipped = ("B" if signature[0] != "B" else "C") + signature[1:]
    tampered(
        "tampered-signature",
        "One character of the signature changed.",
        {"signature": f"{header}..{flipped}"},
        ReasonCode.BAD_SIGNATURE,
    )
    tampered(
        "not-detached",
        "The payload placed between the dots: the signature must be detached.",
        {"signature": f"{header}.{b64url_encode(canonical_json(body))}.{signature}"},
        ReasonCode.BAD_SIGNATURE,
    )
    for alg in ("none", "ES256"):
        forged = _sign_body(body, "essex", alg)
        case(
            f"alg-{alg.lower()}",
            f"A protected header naming alg {alg}.",
            forged,
            _invalid(ReasonCode.BAD_SIGNATURE),
        )
    unsigned = {**good, "envelope": body}
    case(
        "missing-signature",
        "No `signature` member.",
        unsigned,
        _invalid(ReasonCode.MISSING_SIGNATURE),
    )
    case(
        "unknown-key",
        "Signed with a key that is in no trust store.",
        _sign_body(body, _UNTRUSTED),
        _invalid(ReasonCode.UNKNOWN_KEY),
    )
    case(
        "another-forces-key",
        "Claims to be from ESSEX, signed with KENT's key.",
        _sign_body(body, "kent"),
        _invalid(ReasonCode.SENDER_MISMATCH),
    )
    for name, code, what in (
        ("essex-expired", ReasonCode.EXPIRED_KEY, "a key that expired before `time`"),
        ("essex-revoked", ReasonCode.REVOKED_KEY, "a key revoked before `time`"),
        ("essex-future", ReasonCode.KEY_NOT_YET_VALID, "a key not yet valid at `time`"),
    ):
        case(
            name.removeprefix("essex-") + "-key",
            f"Signed with {what}.",
            _sign_body(body, name),
            _invalid(code),
        )
    return {
        "version": VERSION,
        "description": (
            "Detached JWS signatures over envelopes. signing_payload = RFC 8785 canonical JSON "
            "of the envelope without `signature`; signing_input = protected_header + '.' + "
            "base64url(signing_payload); the envelope's `signature` is protected_header + '..' "
            "+ signature_value. Verify with the key whose kid is in the header, looked up in "
            "keys.json's trust_store under the envelope's `senderforce`, usable at the "
            "envelope's `time` (nbf <= time < exp, and time < revoked_at)."
        ),
        "accepted_algorithms": list(ACCEPTED_ALGORITHMS),
        "cases": cases,
    }


def _receipt(
    number: int, code: ReasonCode | None, answered: str, answered_type: str | None
) -> Envelope:
    receipt = Receipt(
        status=ReceiptStatus.REJECTED if code else ReceiptStatus.ACCEPTED,
        in_reply_to=answered,
        answered_type=answered_type,
        reason_code=code,
        message=f"example refusal with {code.value}" if code else None,
        received_at=SIGNED_AT,
    )
    envelope = compose(
        receipt,
        sender=HUB_FORCE_CODE,
        case_ref=CASE_REF,
        recipients=["ESSEX"],
        jurisdiction=Jurisdiction.ENGLAND_WALES,
        causation_id=answered,
        envelope_id=_vector_id(number),
        time=SIGNED_AT,
    )
    signed = envelope.model_copy(
        update={"signature": sign_detached(canonical_json(envelope.signing_dict()), _hub())}
    )
    return signed


def _hub() -> SigningKey:
    return _signing_key("hub")


def receipt_vectors() -> Vector:
    answered = _vector_id(1)
    enquiry_type = "uk.police.dvds.enquiry-requested.v1"
    receipts: list[Vector] = []
    accepted = _receipt(100, None, answered, enquiry_type)
    receipts.append(
        {
            "name": "accepted",
            "envelope": accepted.to_json_dict(),
            "expected": {
                "valid": True,
                "kid": _hub().kid,
                "status": "accepted",
                "reason_code": None,
                "in_reply_to": answered,
            },
        }
    )
    for number, code in enumerate(ReasonCode, start=101):
        signed = _receipt(number, code, answered, enquiry_type)
        receipts.append(
            {
                "name": f"rejected-{code.value}",
                "envelope": signed.to_json_dict(),
                "expected": {
                    "valid": True,
                    "kid": _hub().kid,
                    "status": "rejected",
                    "reason_code": code.value,
                    "in_reply_to": answered,
                },
            }
        )
    return {
        "version": VERSION,
        "description": (
            "Signed hub receipts: one acceptance and one rejection for every reason code. "
            "Verify each as an envelope from HUB (keys.json), then read `data.status`, "
            "`data.reason_code` and `data.in_reply_to` (the id of the envelope answered)."
        ),
        "sender": force_urn(HUB_FORCE_CODE),
        "reason_codes": [code.value for code in ReasonCode],
        "defaults": {"purpose": DEFAULT_PURPOSE, "lawfulbasis": DEFAULT_LAWFUL_BASIS},
        "cases": receipts,
    }


def all_vectors() -> dict[str, Vector]:
    """File name -> content of every vector file."""
    return {
        "canonical.json": canonical_vectors(),
        "keys.json": keys_vectors(),
        "signatures.json": signature_vectors(),
        "receipts.json": receipt_vectors(),
    }


def render(vector: Vector) -> str:
    return json.dumps(vector, indent=2, ensure_ascii=False) + "\n"


def write_vectors(directory: Path = VECTOR_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, vector in all_vectors().items():
        path = directory / name
        path.write_text(render(vector), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the conformance vectors.")
    parser.add_argument("directory", nargs="?", type=Path, default=VECTOR_DIR)
    args = parser.parse_args(argv)
    written = write_vectors(args.directory)
    print(f"wrote {len(written)} vector files to {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

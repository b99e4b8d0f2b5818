"""Compact detached JWS (RFC 7515 Appendix F) with alg Ed25519 (RFC 8037, RFC 9864).

The token is `header..signature`: the payload (canonical JSON) is carried beside it, so any
JOSE library verifies by putting base64url(payload) back between the two dots.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.b64 import b64url_decode, b64url_encode
from contracts.canonical import canonical_json
from contracts.errors import ContractError, ReasonCode
from contracts.keys import SigningKey

ALGORITHM = "Ed25519"
# Verifiers also take the older, polymorphic name RFC 9864 deprecates, because many JOSE
# libraries still sign only as EdDSA. Every trusted key is an Ed25519 key (keys.py refuses any
# other), so EdDSA here can only mean Ed25519. Crossforce itself always signs as Ed25519.
# See docs/decisions/0030-eddsa-accepted-on-verify.md.
ACCEPTED_ALGORITHMS = (ALGORITHM, "EdDSA")


def sign_detached(payload: bytes, key: SigningKey) -> str:
    header = b64url_encode(canonical_json({"alg": ALGORITHM, "kid": key.kid}))
    signing_input = f"{header}.{b64url_encode(payload)}".encode("ascii")
    return f"{header}..{b64url_encode(key.sign(signing_input))}"


def read_header(token: str) -> dict[str, Any]:
    """Parse and check the protected header of a detached token."""
    parts = token.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise ContractError(ReasonCode.BAD_SIGNATURE, "signature is not a compact detached JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
    except ValueError:
        raise ContractError(ReasonCode.BAD_SIGNATURE, "JWS header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("alg") not in ACCEPTED_ALGORITHMS:
        raise ContractError(
            ReasonCode.BAD_SIGNATURE, f"JWS alg must be {ALGORITHM} (or EdDSA with an Ed25519 key)"
        )
    if not isinstance(header.get("kid"), str):
        raise ContractError(ReasonCode.UNKNOWN_KEY, "JWS header has no kid")
    if "crit" in header:
        raise ContractError(ReasonCode.BAD_SIGNATURE, "JWS crit parameters are not supported")
    return header


def signing_input(token: str, payload: bytes) -> tuple[bytes, bytes]:
    """(bytes that were signed, signature bytes) for a detached token and its payload."""
    header, _, signature = token.split(".")
    try:
        raw_signature = b64url_decode(signature)
    except ValueError:
        raise ContractError(ReasonCode.BAD_SIGNATURE, "JWS signature is not base64url") from None
    return f"{header}.{b64url_encode(payload)}".encode("ascii"), raw_signature


def attach_payload(token: str, payload: bytes) -> str:
    """The ordinary compact JWS, for a verifier that does not take detached content."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url_encode(payload)}.{signature}"

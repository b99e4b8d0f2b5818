"""Compact detached JWS (RFC 7515 Appendix F) with alg Ed25519 (RFC 8037, RFC 9864).

The token is `header..signature`: the payload (canonical JSON) is carried beside it, so any
JOSE library verifies by putting base64url(payload) back between the two dots.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from crossforce.contracts.b64 import b64url_decode, b64url_encode
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import Signer

ALGORITHM = "Ed25519"
# The only algorithms a Crossforce signature may name (RFC 8725 §3.1: an allow-list, never
# "whatever the token says"). `alg: none` and every other value are refused. Verifiers also
# take the older, polymorphic name RFC 9864 deprecates, because many JOSE libraries still
# sign only as EdDSA. Every trusted key is an Ed25519 key (keys.py refuses any other), so
# EdDSA here can only mean Ed25519. Crossforce itself always signs as Ed25519.
# See docs/decisions/0030-eddsa-accepted-on-verify.md.
ACCEPTED_ALGORITHMS = (ALGORITHM, "EdDSA")


def sign_detached(payload: bytes, key: Signer) -> str:
    header = _protected_header(key.kid)
    signing_input = f"{header}.{b64url_encode(payload)}".encode("ascii")
    return f"{header}..{b64url_encode(key.sign(signing_input))}"


@lru_cache(maxsize=1024)
def _protected_header(kid: str) -> str:
    # The same for every signature a key makes.
    return b64url_encode(canonical_json({"alg": ALGORITHM, "kid": kid}))


def read_header(token: str) -> dict[str, Any]:
    """Parse and check the protected header of a detached token."""
    parts = token.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise ContractError(ReasonCode.BAD_SIGNATURE, "signature is not a compact detached JWS")
    try:
        encoded = b64url_decode(parts[0])
    except ValueError as exc:
        raise ContractError(ReasonCode.BAD_SIGNATURE, f"JWS header is {exc}") from None
    try:
        header = json.loads(encoded, object_pairs_hook=_unique_members)
    except ValueError as exc:
        raise ContractError(ReasonCode.BAD_SIGNATURE, f"JWS header: {exc}") from None
    if not isinstance(header, dict):
        raise ContractError(ReasonCode.BAD_SIGNATURE, "JWS header is not a JSON object")
    if header.get("alg") not in ACCEPTED_ALGORITHMS:
        raise ContractError(
            ReasonCode.BAD_SIGNATURE, f"JWS alg must be {ALGORITHM} (or EdDSA with an Ed25519 key)"
        )
    # RFC 7515 §4.1.11: a verifier must refuse critical parameters it does not process, and
    # Crossforce processes none (an unencoded payload, RFC 7797 `b64`, would need `crit`).
    if "crit" in header or "b64" in header:
        raise ContractError(ReasonCode.BAD_SIGNATURE, "JWS crit parameters are not supported")
    if not isinstance(header.get("kid"), str):
        raise ContractError(ReasonCode.UNKNOWN_KEY, "JWS header has no kid")
    return header


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """RFC 7515 §4: a header naming one parameter twice is refused, not read one way."""
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a parameter is named twice")
    return members


def signing_input(token: str, payload: bytes) -> tuple[bytes, bytes]:
    """(bytes that were signed, signature bytes) for a detached token and its payload."""
    header, _, signature = token.split(".")
    try:
        raw_signature = b64url_decode(signature)
    except ValueError as exc:
        raise ContractError(ReasonCode.BAD_SIGNATURE, f"JWS signature is {exc}") from None
    return f"{header}.{b64url_encode(payload)}".encode("ascii"), raw_signature


def attach_payload(token: str, payload: bytes) -> str:
    """The ordinary compact JWS, for a verifier that does not take detached content."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url_encode(payload)}.{signature}"

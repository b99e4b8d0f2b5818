"""Names and dates of birth in a case row, sealed.

The domain needs no personal details: its rules run on party ids, roles, home forces and the
keyed subject key. The hub keeps the wire persons only to name them in the messages it must
originate (a PSD notice, a disclosure hand-off), so they are stored sealed with AES-256-GCM
under a key derived from the hub's subject-key secret and bound to the case reference, as the
ledger seals its personal fields. A copy of the database alone does not reveal them.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crossforce.ledger.sealing import NONCE_SIZE, seal, unseal

_INFO = b"crossforce-case-persons-v1"


def persons_key(subject_key_secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        subject_key_secret
    )


def seal_persons(key: bytes, case_ref: str, persons: dict[str, Any]) -> str | None:
    if not persons:
        return None
    plaintext = json.dumps(persons, separators=(",", ":"), sort_keys=True).encode()
    nonce, ciphertext = seal(key, plaintext, case_ref.encode())
    return base64.b64encode(nonce + ciphertext).decode()


def unseal_persons(key: bytes, case_ref: str, sealed: str | None) -> dict[str, Any]:
    if not sealed:
        return {}
    raw = base64.b64decode(sealed)
    plaintext = unseal(key, raw[:NONCE_SIZE], raw[NONCE_SIZE:], case_ref.encode())
    persons: dict[str, Any] = json.loads(plaintext)
    return persons

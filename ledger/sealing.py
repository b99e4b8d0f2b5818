"""Per-entry data keys: AES-256-GCM for personal fields, wrapped by the ledger master key.

Crypto-shredding: an entry's personal fields are readable only with its own data key, so
destroying that one key disposes of them while the ciphertext, and every hash over it, stays.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crossforce.ledger.errors import LedgerError

NONCE_SIZE = 12


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Encrypt; returns (nonce, ciphertext with tag). Random nonces are safe: few uses per key."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise LedgerError("cannot decrypt: wrong key or altered ciphertext") from None


def _wrap_aad(index: int) -> bytes:
    # Binding the wrapped key to its entry stops a key row being moved to another entry.
    return f"crossforce-ledger-data-key:{index}".encode()


def wrap_data_key(master_key: bytes, data_key: bytes, index: int) -> bytes:
    nonce, wrapped = seal(master_key, data_key, _wrap_aad(index))
    return nonce + wrapped


def unwrap_data_key(master_key: bytes, wrapped: bytes, index: int) -> bytes:
    return unseal(master_key, wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], _wrap_aad(index))

"""Where the ledger's two secrets come from.

* The **master key** wraps each entry's data key. Keeping it outside the database means a
  copy of the database alone reveals no personal fields.
* The **subject key** is the HMAC secret behind subject keys. Every force's submissions must
  use the same one, or repeat requests about the same person would not line up.

Both are 32 random bytes, base64url, given in an environment variable or in a file named by
one (the file form suits container secrets).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from crossforce.contracts.b64 import b64url_decode, b64url_encode
from crossforce.ledger.errors import LedgerError

MASTER_KEY_ENV = "CROSSFORCE_LEDGER_MASTER_KEY"
MASTER_KEY_FILE_ENV = "CROSSFORCE_LEDGER_MASTER_KEY_FILE"
SUBJECT_KEY_ENV = "CROSSFORCE_LEDGER_SUBJECT_KEY"
SUBJECT_KEY_FILE_ENV = "CROSSFORCE_LEDGER_SUBJECT_KEY_FILE"
SECRET_SIZE = 32


def generate_secret() -> str:
    """A fresh 32-byte secret in the base64url form the environment variables take."""
    return b64url_encode(secrets.token_bytes(SECRET_SIZE))


def decode_secret(text: str, what: str) -> bytes:
    try:
        # Secrets made by other tools often carry base64 padding: it is harmless here.
        value = b64url_decode(text.strip().rstrip("="))
    except ValueError:
        raise LedgerError(f"{what} is not base64url") from None
    if len(value) != SECRET_SIZE:
        raise LedgerError(f"{what} must be {SECRET_SIZE} bytes, not {len(value)}")
    return value


def secret_from_env(env: str, file_env: str) -> bytes | None:
    """The secret from `env`, else from the file named by `file_env`, else None."""
    if text := os.environ.get(env):
        return decode_secret(text, env)
    if path := os.environ.get(file_env):
        return decode_secret(Path(path).read_text(), f"{file_env} ({path})")
    return None


def master_key_from_env() -> bytes | None:
    return secret_from_env(MASTER_KEY_ENV, MASTER_KEY_FILE_ENV)


def subject_key_from_env() -> bytes | None:
    return secret_from_env(SUBJECT_KEY_ENV, SUBJECT_KEY_FILE_ENV)

"""Keyed, privacy-preserving subject keys (001 ¶93: repeat requests about the same B).

A subject key is HMAC-SHA256 over the normalised surname, forenames and date of birth.
Without the secret it cannot be recomputed from a guessed identity, yet every force that
submits about the same person produces the same key, so the pattern shows up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from contracts.canonical import canonical_json
from ledger.errors import LedgerError

_VERSION = b"crossforce-subject-key-v1\n"
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.,]+")
_DROPPED = re.compile(r"['\u2018\u2019`\"]")


def normalise_name(name: str) -> str:
    """Case, diacritics, apostrophes, hyphens and spacing stop mattering: O'Brien = obrien."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = _DROPPED.sub("", stripped.casefold())
    return " ".join(part for part in _SEPARATORS.split(folded) if part)


def normalise_dob(value: date | str) -> str:
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise LedgerError(f"date of birth {value!r} is not an ISO date") from None


def normalise_identity(identity: Mapping[str, Any]) -> dict[str, str]:
    """The fields that identify a subject, in one canonical spelling."""
    try:
        surname = str(identity["surname"])
        forenames = identity["forenames"]
        dob = identity["date_of_birth"]
    except KeyError as missing:
        raise LedgerError(f"subject identity needs {missing.args[0]!r}") from None
    if not isinstance(forenames, str):
        forenames = " ".join(str(name) for name in forenames)
    normalised = {
        "surname": normalise_name(surname),
        "forenames": normalise_name(forenames),
        "date_of_birth": normalise_dob(dob),
    }
    if not normalised["surname"]:
        raise LedgerError("subject identity has an empty surname")
    return normalised


def subject_key(secret: bytes, identity: Mapping[str, Any]) -> str:
    """Hex HMAC-SHA256 of the normalised identity under the ledger's subject secret."""
    message = _VERSION + canonical_json(normalise_identity(identity))
    return hmac.new(secret, message, hashlib.sha256).hexdigest()

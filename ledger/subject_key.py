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
from datetime import date, datetime
from typing import Any

from crossforce.contracts.canonical import canonical_json
from crossforce.ledger.errors import LedgerError

_VERSION = b"crossforce-subject-key-v1\n"
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.,]+")
_DROPPED = re.compile(r"['\u2018\u2019`\"]")


def normalise_name(name: str) -> str:
    """Case, diacritics, apostrophes, hyphens and spacing stop mattering: O'Brien = obrien."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = _DROPPED.sub("", stripped.casefold())
    return " ".join(part for part in _SEPARATORS.split(folded) if part)


IDENTITY_FIELDS = ("surname", "forenames", "date_of_birth")


def normalise_dob(value: object) -> str:
    """A date of birth as YYYY-MM-DD; anything else is a LedgerError, never a crash."""
    if isinstance(value, datetime):
        raise LedgerError(f"date of birth {value!r} is a date and time, not a date")
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise LedgerError(f"date of birth {value!r} is not an ISO date")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise LedgerError(f"date of birth {value!r} is not an ISO date") from None


def _names(value: object, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(name, str) for name in value):
        return " ".join(value)
    raise LedgerError(f"subject identity field {field!r} is not a name")


def normalise_identity(identity: Mapping[str, Any]) -> dict[str, str]:
    """The fields that identify a subject, in one canonical spelling."""
    if not isinstance(identity, Mapping):
        raise LedgerError("a subject identity is a mapping of surname, forenames, date_of_birth")
    for name in IDENTITY_FIELDS:
        if identity.get(name) is None:
            raise LedgerError(f"subject identity needs {name!r}")
    normalised = {
        "surname": normalise_name(_names(identity["surname"], "surname")),
        "forenames": normalise_name(_names(identity["forenames"], "forenames")),
        "date_of_birth": normalise_dob(identity["date_of_birth"]),
    }
    for name in ("surname", "forenames"):
        if not normalised[name]:
            raise LedgerError(f"subject identity has an empty {name}")
    return normalised


def is_complete(identity: Mapping[str, Any]) -> bool:
    """Whether every identity field is present and not blank (a subject key can be made).

    A party may lawfully be known by name alone (the contract allows a missing date of
    birth); such a party gets no subject key rather than a key of a partial identity,
    which would link different people who share a name.
    """
    for name in IDENTITY_FIELDS:
        value = identity.get(name)
        if value is None:
            return False
        if isinstance(value, str) and not normalise_name(value):
            return False
        if isinstance(value, list | tuple) and not any(
            isinstance(part, str) and normalise_name(part) for part in value
        ):
            return False
    return True


def subject_key(secret: bytes, identity: Mapping[str, Any]) -> str:
    """Hex HMAC-SHA256 of the normalised identity under the ledger's subject secret."""
    message = _VERSION + canonical_json(normalise_identity(identity))
    return hmac.new(secret, message, hashlib.sha256).hexdigest()

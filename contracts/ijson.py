"""The one reader for JSON that arrives from outside: I-JSON (RFC 7493), with limits.

Signatures cover RFC 8785 canonical JSON, and RFC 8785 assumes I-JSON. So the bytes a force
sends must be I-JSON too, or two systems could disagree about what was signed:

- UTF-8 only, no byte-order mark;
- no duplicate member names (Python's `json` keeps the last one silently);
- numbers an IEEE 754 double holds exactly: no NaN or Infinity, no `1e400`, and integers
  within +/-(2**53 - 1);
- no lone surrogates, even written as `\\ud800` escapes.

Limits are checked before the parser runs where they could exhaust it: nesting depth and
the length of any one number. Every refusal is `MALFORMED_JSON` with a one-line reason, so
the hub answers a hostile input at once instead of mistaking a parser crash for a fault.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from crossforce.contracts.errors import ContractError, ReasonCode

# An envelope is an object holding `data`; the deepest message payload is a few levels down.
MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1
# Longer than any number a double can hold exactly; refused before `int()` ever runs on it.
MAX_NUMBER_CHARS = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Refused(ValueError):
    """Raised inside the parser's hooks; turned into MALFORMED_JSON by `read_json`."""


def read_json(raw: bytes) -> Any:
    """Parse bytes from outside as I-JSON, or raise ContractError(MALFORMED_JSON)."""
    try:
        text = raw.decode("utf-8")  # strict: invalid sequences and encoded surrogates fail
    except UnicodeDecodeError as exc:
        raise _malformed(f"not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise _malformed("a byte-order mark is not allowed")
    depth = _nesting_depth(text)
    if depth > MAX_DEPTH:
        raise _malformed(f"nested {depth} deep; the limit is {MAX_DEPTH}")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except _Refused as refused:
        raise _malformed(str(refused)) from None
    except (ValueError, RecursionError) as exc:
        raise _malformed(f"not valid JSON: {_first_line(exc)}") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise _malformed("a string holds a lone surrogate")
    return value


def _malformed(reason: str) -> ContractError:
    return ContractError(ReasonCode.MALFORMED_JSON, reason)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, found without recursion."""
    openers = text.count("[") + text.count("{")
    if openers <= MAX_DEPTH:  # the common case: cannot be deeper than it has openers
        return openers
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    steps = (1 if char in "[{" else -1 for char in brackets)
    return max(accumulate(steps, initial=0))


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"member {key[:40]!r} appears twice")
            seen.add(key)
    return result


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(literal)} characters is out of range")
    value = int(literal)
    if abs(value) > MAX_SAFE_INTEGER:
        raise _Refused(f"integer {literal} is outside +/-(2**53 - 1)")
    return value


def _float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(literal)} characters is out of range")
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused(f"number {literal} is out of range")
    return value


def _constant(literal: str) -> Any:
    raise _Refused(f"{literal} is not a JSON number")


def _has_lone_surrogate(value: Any) -> bool:
    # Surrogates can only come from escapes: the text itself was strict UTF-8.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False

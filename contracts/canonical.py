"""RFC 8785 JSON Canonicalization Scheme (JCS).

Signatures cover canonical bytes, so two systems that agree on the data agree on the bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from crossforce.contracts.errors import ContractError, ReasonCode

# Integers outside this range cannot round-trip through an IEEE 754 double (RFC 8785 §3.2.2.3).
_MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON-compatible value.

    A value with no canonical form (NaN, an unsafe integer, a lone surrogate, a non-JSON
    type, nesting past the interpreter's limit) is refused with MALFORMED_JSON."""
    parts: list[str] = []
    try:
        _write(value, parts)
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates are not valid I-JSON
        raise ContractError(ReasonCode.MALFORMED_JSON, "a string holds a lone surrogate") from None
    except (ValueError, TypeError) as exc:
        raise ContractError(ReasonCode.MALFORMED_JSON, str(exc)) from None
    except RecursionError:
        raise ContractError(ReasonCode.MALFORMED_JSON, "nested too deep to canonicalise") from None


def _write(value: Any, out: list[str]) -> None:
    # Exact types first: every envelope is dicts, lists and strings, and signing and
    # verifying canonicalise several a message, so the common case is kept short.
    kind = type(value)
    if kind is str:
        out.append(_string(value))
    elif kind is dict:
        _write_object(value, out)
    elif kind is list:
        _write_array(value, out)
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside the I-JSON safe range")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(serialize_number(value))
    elif isinstance(value, Mapping):
        _write_object(value, out)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        _write_array(value, out)
    else:
        raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _write_object(value: Mapping[Any, Any], out: list[str]) -> None:
    keys = list(value)
    try:
        ascii_keys = "".join(keys).isascii()
    except TypeError:
        odd = next(key for key in keys if not isinstance(key, str))
        raise TypeError(f"object keys must be strings, not {type(odd).__name__}") from None
    # ASCII keys sort the same by code point as by UTF-16 code unit, so only other keys
    # need the slower key.
    keys.sort(key=None if ascii_keys else _utf16_key)
    out.append("{")
    first = True
    for key in keys:
        if first:
            first = False
        else:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _write_array(value: Sequence[Any], out: list[str]) -> None:
    out.append("[")
    first = True
    for item in value:
        if first:
            first = False
        else:
            out.append(",")
        _write(item, out)
    out.append("]")


def _utf16_key(key: str) -> bytes:
    # RFC 8785 §3.2.3: properties sort by their UTF-16 code units, not code points; big-endian
    # UTF-16 bytes compare in exactly that order.
    return key.encode("utf-16-be", "surrogatepass")


def _string(value: str) -> str:
    # RFC 8785 §3.2.2.2 is ECMAScript's JSON.stringify: only '"', '\\' and controls below
    # U+0020 are escaped (\b \f \n \r \t short, the rest as lowercase \u00xx), everything
    # else is written as itself. The json module's own string encoder does exactly that.
    return encode_basestring(value)


def serialize_number(value: float) -> str:
    """Serialise a double exactly as ECMAScript's Number.prototype.toString does."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and Infinity are not valid JSON numbers")
    if value == 0:
        return "0"
    if value < 0:
        return "-" + serialize_number(-value)
    # repr gives the shortest round-tripping digits; re-lay them out per ECMA-262 §7.1.12.1.
    mantissa, _, exp_text = f"{value!r}".partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n is the position of the decimal point relative to the first significant digit.
    leading_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    n = len(int_part) - leading_zeros + exponent
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{sign}{abs(n - 1)}"

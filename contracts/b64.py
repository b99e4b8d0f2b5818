"""base64url without padding (RFC 7515 §2), decoded strictly.

A signature or key has exactly one text form. Decoding refuses padding, any character
outside the base64url alphabet (Python's decoder skips them), a length no encoding has, and
a final character whose unused low bits are not zero (RFC 4648 §3.5: "canonical
encoding"); otherwise many texts would decode to one value and an altered signature would
still verify.
"""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes `text` encodes; ValueError unless `text` is their one canonical form."""
    if not _ALPHABET.fullmatch(text):
        raise ValueError("not base64url: a character outside the alphabet, or padding")
    if len(text) % 4 == 1:
        raise ValueError("not base64url: no encoding has this length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not base64url: {exc}") from None
    if b64url_encode(data) != text:
        raise ValueError("not base64url: the last character's unused bits are not zero")
    return data

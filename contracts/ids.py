"""Identifiers: UUIDv7 envelope ids, which sort by creation time."""

from __future__ import annotations

import os
import time
import uuid


def new_envelope_id(now_ms: int | None = None) -> str:
    """A fresh RFC 9562 UUIDv7 as a string."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 9562 variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return str(uuid.UUID(int=value))

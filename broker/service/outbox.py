"""Outbound messages recorded in the same transaction as the state change that caused them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One publish the hub owes NATS. `msg_id` is the Nats-Msg-Id (JetStream dedupe key)."""

    msg_id: str
    subject: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)
    row_id: int | None = None
    created_at: datetime | None = None

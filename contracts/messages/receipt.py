"""The hub's answer to every envelope it receives (architecture decision 3)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, model_validator

from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import Identifier, OneLine
from crossforce.contracts.registry import REGISTRY


class ReceiptStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@REGISTRY.register
class Receipt(Message):
    """Accepted or rejected, with a stable reason code: nothing is dropped silently
    (domain.md §6; architecture decision 3)."""

    NAME = "receipt"
    VERSION = 1

    status: ReceiptStatus
    # The envelope id this receipt answers.
    in_reply_to: Identifier
    # The type URI of the answered envelope, when it could be read.
    answered_type: OneLine | None = None
    reason_code: ReasonCode | None = None
    message: OneLine | None = None
    received_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _reason(self) -> Receipt:
        if self.status is ReceiptStatus.REJECTED and self.reason_code is None:
            raise ValueError("a rejection carries a reason_code")
        if self.status is ReceiptStatus.ACCEPTED and self.reason_code is not None:
            raise ValueError("an acceptance carries no reason_code")
        return self

"""The message catalogue. Importing this package registers every message type in
`contracts.registry.REGISTRY`."""

from contracts.messages import (  # noqa: F401  (imported for registration)
    case,
    closure,
    coordination,
    decision,
    disclosure,
    dmf,
    enquiry,
    escalation,
    receipt,
    risk,
)
from contracts.messages.base import Message

__all__ = ["Message"]

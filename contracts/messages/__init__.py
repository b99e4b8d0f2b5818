"""The message catalogue. Importing this package registers every message type in
`crossforce.contracts.registry.REGISTRY`."""

from crossforce.contracts.messages import (  # noqa: F401  (imported for registration)
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
    supervision,
)
from crossforce.contracts.messages.base import Message

__all__ = ["Message"]

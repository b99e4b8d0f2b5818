"""The force-side SDK's stable home: `from crossforce.client import ForceClient`.

The code lives in `crossforce.adapters.client.force_client`; integrators import it from here
so that the layout behind it can change without breaking them
(docs/decisions/0033-one-crossforce-namespace.md).
"""

from crossforce.adapters.client.force_client import (
    Delivery,
    ForceClient,
    HubUnavailable,
    NatsUnreachable,
    NoReceipt,
    SignedReceipt,
)

__all__ = [
    "Delivery",
    "ForceClient",
    "HubUnavailable",
    "NatsUnreachable",
    "NoReceipt",
    "SignedReceipt",
]

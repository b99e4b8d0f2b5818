"""Test helpers for force integration teams: `from crossforce.testing import expect_receipt`.

The pytest plugin (`crossforce.adapters.testing.plugin`, registered through the `pytest11`
entry point) provides the fixtures; these are the helpers a test calls, and
`CrossforceBroker`, the whole broker in containers for teams in any language. Installed with
`crossforce[test]` (docs/decisions/0033-one-crossforce-namespace.md).
"""

from crossforce.adapters.testing.broker import (
    DEFAULT_FORCES,
    FORCES_MARKER,
    ForceClientFactory,
    expect_delivery,
    expect_receipt,
    make_pki,
    running_hub,
)
from crossforce.adapters.testing.crossforce_broker import CrossforceBroker

__all__ = [
    "DEFAULT_FORCES",
    "FORCES_MARKER",
    "CrossforceBroker",
    "ForceClientFactory",
    "expect_delivery",
    "expect_receipt",
    "make_pki",
    "running_hub",
]

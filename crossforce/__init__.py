"""Crossforce: the message broker for cross-boundary domestic-abuse disclosure work.

One installed package (docs/decisions/0033-one-crossforce-namespace.md). The stable homes of
the public API are `crossforce.client` (the force-side SDK) and `crossforce.testing` (helpers
for integration tests). `crossforce.contracts`, `crossforce.broker`, `crossforce.adapters`
and `crossforce.ledger` are the repository's root folders of the same names, mapped here by
setuptools (pyproject.toml); the links in this folder let a checkout import them the same way.
"""

__all__: list[str] = []

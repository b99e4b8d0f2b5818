"""Crossforce: the message broker for cross-boundary domestic-abuse disclosure work.

One installed package. `crossforce.contracts`, `crossforce.broker`, `crossforce.adapters` and
`crossforce.ledger` are the repository's root folders of the same names, mapped here by
setuptools (see pyproject.toml).
"""

"""Proof bundles: everything an outside verifier needs, as plain data and JSON."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from crossforce.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True)
class InclusionProof:
    """Entry `index` is in the tree of `tree_size` leaves whose root is `root_hash`.

    For an outside verifier: `entry` is the leaf's input (its hash is SHA-256(0x00 ||
    entry)), `checkpoint` the signed note of `tree_size` and `root_hash`, and
    `verifier_key` the signed-note key it is signed with (to be checked against the key
    the hub publishes, not taken on trust from the proof).
    """

    index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]
    root_hash: bytes
    checkpoint: str | None = None
    entry: bytes | None = None
    verifier_key: str | None = None

    def verify(self) -> bool:
        if self.entry is not None and leaf_hash(self.entry) != self.leaf_hash:
            return False
        return verify_inclusion(
            self.index, self.tree_size, self.leaf_hash, self.audit_path, self.root_hash
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "entry": None if self.entry is None else _b64(self.entry),
            "leaf_hash": _b64(self.leaf_hash),
            "audit_path": [_b64(h) for h in self.audit_path],
            "root_hash": _b64(self.root_hash),
            "checkpoint": self.checkpoint,
            "verifier_key": self.verifier_key,
            "hash": "RFC 9162 SHA-256: leaf_hash = SHA-256(0x00 || entry); base64",
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of `new_size` leaves extends the tree of `old_size` leaves unchanged."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: list[bytes]

    def verify(self) -> bool:
        return verify_consistency(
            self.old_size, self.new_size, self.old_root, self.new_root, self.path
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": _b64(self.old_root),
            "new_root": _b64(self.new_root),
            "path": [_b64(h) for h in self.path],
        }

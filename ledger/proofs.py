"""Proof bundles: everything an outside verifier needs, as plain data and JSON."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ledger.merkle import verify_consistency, verify_inclusion


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True)
class InclusionProof:
    """Entry `index` is in the tree of `tree_size` leaves whose root is `root_hash`."""

    index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]
    root_hash: bytes
    checkpoint: str | None = None

    def verify(self) -> bool:
        return verify_inclusion(
            self.index, self.tree_size, self.leaf_hash, self.audit_path, self.root_hash
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": _b64(self.leaf_hash),
            "audit_path": [_b64(h) for h in self.audit_path],
            "root_hash": _b64(self.root_hash),
            "checkpoint": self.checkpoint,
            "hash": "RFC 9162 SHA-256; base64",
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

"""RFC 9162 Merkle tree hashing, audit paths and consistency proofs.

A tree over n leaves is only ever read through its *perfect subtrees*: the node at
`(level, index)` is the hash of leaves `[index << level, (index + 1) << level)`. Those nodes
never change once their last leaf is appended, so they can be stored and a root or proof at
any tree size costs O(log n) look-ups instead of rehashing every entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""(level, index) of a perfect subtree; level 0 is a leaf."""

Range = tuple[int, int]
"""Half-open leaf range [lo, hi)."""


def leaf_hash(entry: bytes) -> bytes:
    """MTH of a single entry: SHA-256(0x00 || entry) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2): where MTH splits."""
    if n < 2:
        raise ValueError("a tree of fewer than two leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(lo: int, hi: int) -> list[Node]:
    """Perfect subtrees, left to right, whose right fold is MTH(D[lo:hi]).

    Only ranges that appear in the RFC's recursion are accepted: their start is aligned to
    the largest perfect subtree they contain, which is what makes the decomposition exact.
    """
    if not 0 <= lo < hi:
        raise ValueError(f"empty or negative range [{lo}, {hi})")
    nodes: list[Node] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo & ((1 << level) - 1):
            raise ValueError(f"range starting at {lo} is not a subtree of an RFC 9162 tree")
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree hashes (largest first) the way MTH does on the right edge."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose hashes form PATH(index, D[0:size]), bottom first (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"entry {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges whose hashes form PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[Range] = []
    lo, hi, m = 0, new_size, old_size
    complete = True  # SUBPROOF's b: whether D[lo:lo+m] is the whole old tree
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                ranges.append((lo, hi))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    return ranges[::-1]


class NodeReader(Protocol):
    """Anything that can return stored perfect-subtree hashes in one round trip."""

    def read_nodes(self, nodes: Iterable[Node]) -> Mapping[Node, bytes]: ...


def range_hashes(ranges: Sequence[Range], reader: NodeReader) -> list[bytes]:
    """MTH of each range, fetching every needed node in a single batch."""
    covers = [range_nodes(lo, hi) for lo, hi in ranges]
    found = reader.read_nodes({node for cover in covers for node in cover})
    try:
        return [fold_right([found[node] for node in cover]) for cover in covers]
    except KeyError as missing:
        raise LookupError(f"tree node {missing.args[0]} is not stored") from None


def root_hash(size: int, reader: NodeReader) -> bytes:
    """MTH(D[0:size]); the empty tree hashes to SHA-256 of nothing."""
    if size == 0:
        return EMPTY_ROOT
    return range_hashes([(0, size)], reader)[0]


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    return range_hashes(inclusion_ranges(index, size), reader)


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    return range_hashes(consistency_ranges(old_size, new_size), reader)


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2, step by step."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in path):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, with the trivial sizes the algorithm leaves to the caller."""
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        # Every tree extends the empty one; there is nothing to prove.
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """The right edge of a tree: one perfect-subtree hash per set bit of the size.

    Appending needs only this (O(log n) hashes), and reports the perfect subtrees each new
    leaf completes so that a store can keep them for later proofs.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a frontier of size {size} has {bin(size).count('1')} hashes")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add a leaf hash; return the interior nodes it completes, lowest first."""
        created: list[tuple[Node, bytes]] = []
        index, level, current = self.size, 0, leaf
        while (self.size >> level) & 1:
            current = node_hash(self.hashes.pop(), current)
            level += 1
            created.append(((level, index >> level), current))
        self.hashes.append(current)
        self.size += 1
        return created

    def root(self) -> bytes:
        return fold_right(self.hashes) if self.hashes else EMPTY_ROOT

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        hashes = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return cls(size, hashes)


class MemoryTree:
    """An in-memory tree keeping every perfect subtree: for tests and outside verifiers."""

    def __init__(self) -> None:
        self.frontier = Frontier()
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, entry: bytes) -> bytes:
        leaf = leaf_hash(entry)
        self.append_leaf(leaf)
        return leaf

    def append_leaf(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        for (level, _index), value in self.frontier.append(leaf):
            if level == len(self.levels):
                self.levels.append([])
            self.levels[level].append(value)

    def read_nodes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        return {(lvl, i): self.levels[lvl][i] for lvl, i in nodes}

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self.size if size is None else size, self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(old_size, self.size if new_size is None else new_size, self)

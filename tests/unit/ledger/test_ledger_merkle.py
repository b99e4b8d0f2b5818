"""RFC 6962 / 9162 known answers and properties of proofs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossforce.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

# The certificate-transparency reference test data (merkle_tree_test.cc, also used by
# transparency-dev/merkle): eight leaves and the roots of every prefix.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path)
INCLUSION = [
    (0, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (5, 8, [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]),
    (0, 1, []),
]  # fmt: skip
# (old size, new size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (1, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (6, 8, [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (2, 5, [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]),
]  # fmt: skip


@pytest.fixture(scope="module")
def reference_tree() -> MemoryTree:
    tree = MemoryTree()
    for leaf in LEAVES:
        tree.append(leaf)
    return tree


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert MemoryTree().root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert MemoryTree().root() == EMPTY_ROOT


def test_roots_of_every_prefix(reference_tree: MemoryTree) -> None:
    for size, expected in enumerate(ROOTS, start=1):
        assert reference_tree.root(size).hex() == expected


def test_eight_leaf_root(reference_tree: MemoryTree) -> None:
    assert reference_tree.root().hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(
    reference_tree: MemoryTree, index: int, size: int, path: list[str]
) -> None:
    proof = reference_tree.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == path
    root = bytes.fromhex(ROOTS[size - 1])
    assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof, root)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_vectors(
    reference_tree: MemoryTree, old: int, new: int, path: list[str]
) -> None:
    proof = reference_tree.consistency_proof(old, new)
    assert [p.hex() for p in proof] == path
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)


def test_out_of_range_requests_are_refused() -> None:
    with pytest.raises(ValueError):
        inclusion_ranges(3, 3)
    with pytest.raises(ValueError):
        consistency_ranges(4, 3)
    assert not verify_inclusion(3, 3, bytes(32), [], bytes(32))
    assert not verify_consistency(4, 3, bytes(32), bytes(32), [])


_TREE = MemoryTree()
for _i in range(300):
    _TREE.append(_i.to_bytes(4, "big"))


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    size, index = case
    proof = _TREE.inclusion_proof(index, size)
    assert verify_inclusion(index, size, _TREE.levels[0][index], proof, _TREE.root(size))


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_every_consistency_proof_verifies(case: tuple[int, int]) -> None:
    old, new = case
    proof = _TREE.consistency_proof(old, new)
    assert verify_consistency(old, new, _TREE.root(old), _TREE.root(new), proof)


def test_all_sizes_exhaustively_for_small_trees() -> None:
    for new in range(1, 65):
        root = _TREE.root(new)
        for index in range(new):
            path = _TREE.inclusion_proof(index, new)
            assert verify_inclusion(index, new, _TREE.levels[0][index], path, root)
        for old in range(0, new + 1):
            path = _TREE.consistency_proof(old, new)
            assert verify_consistency(old, new, _TREE.root(old), root, path)


def _flip(data: bytes, position: int, bit: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes([data[position] ^ (1 << bit)]) + data[position + 1 :]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))),
    st.integers(0, 10_000),
    st.integers(0, 7),
    st.sampled_from(["leaf", "root", "path"]),
)
def test_any_tampered_byte_breaks_inclusion(
    case: tuple[int, int], position: int, bit: int, target: str
) -> None:
    size, index = case
    leaf, root = _TREE.levels[0][index], _TREE.root(size)
    path = _TREE.inclusion_proof(index, size)
    if target == "leaf":
        leaf = _flip(leaf, position, bit)
    elif target == "root":
        root = _flip(root, position, bit)
    else:
        which = position % len(path)
        path = [*path[:which], _flip(path[which], position // 7, bit), *path[which + 1 :]]
    assert not verify_inclusion(index, size, leaf, path, root)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 300).flatmap(lambda n: st.tuples(st.integers(1, n - 1), st.just(n))),
    st.integers(0, 10_000),
    st.integers(0, 7),
    st.sampled_from(["old_root", "new_root", "path"]),
)
def test_any_tampered_byte_breaks_consistency(
    case: tuple[int, int], position: int, bit: int, target: str
) -> None:
    old, new = case
    old_root, new_root = _TREE.root(old), _TREE.root(new)
    path = _TREE.consistency_proof(old, new)
    if target == "old_root":
        old_root = _flip(old_root, position, bit)
    elif target == "new_root":
        new_root = _flip(new_root, position, bit)
    else:
        which = position % len(path)
        path = [*path[:which], _flip(path[which], position // 7, bit), *path[which + 1 :]]
    assert not verify_consistency(old, new, old_root, new_root, path)


def test_wrong_index_or_size_fails() -> None:
    path = _TREE.inclusion_proof(5, 100)
    root = _TREE.root(100)
    assert not verify_inclusion(6, 100, _TREE.levels[0][5], path, root)
    assert not verify_inclusion(5, 200, _TREE.levels[0][5], path, root)
    proof = _TREE.consistency_proof(37, 100)
    assert not verify_consistency(38, 100, _TREE.root(37), root, proof)
    assert not verify_consistency(37, 100, _TREE.root(37), root, proof[:-1])

"""Property tests: every proof the builder makes verifies, and every tampered one fails.

The builder is checked against a direct transcription of RFC 9162's recursive
definitions (MTH, PATH, PROOF) over random trees of up to ~300 leaves, so the two
implementations must agree on every root and every proof hash.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedui.audit.errors import LogRangeError, ProofError
from hedui.audit.hashing import EMPTY_ROOT, leaf_hash, node_hash
from hedui.audit.proof_build import (
    CompactRange,
    consistency_proof,
    inclusion_plan,
    inclusion_proof,
    plans_hashes,
    plans_node_ids,
    range_nodes,
    root_hash,
)
from hedui.audit.proof_verify import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 300


def _k(n: int) -> int:
    """Largest power of two strictly less than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class ReferenceTree:
    """RFC 9162 §2.1 definitions, recursively and literally."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.hashes = [leaf_hash(x) for x in leaves]

    @functools.cache  # noqa: B019 - tiny, test-only objects
    def mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.hashes[lo]
        k = _k(n)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _k(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def get_node(self, level: int, index: int) -> bytes:
        return self.mth(index << level, (index + 1) << level)


@st.composite
def trees(draw: st.DrawFn, min_size: int = 1) -> ReferenceTree:
    size = draw(st.integers(min_value=min_size, max_value=MAX_SIZE))
    seed = draw(st.binary(min_size=0, max_size=8))
    return ReferenceTree([seed + i.to_bytes(4, "big") for i in range(size)])


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    out = list(proof)
    h = bytearray(out[which])
    h[bit // 8] ^= 1 << (bit % 8)
    out[which] = bytes(h)
    return out


def _inclusion_shape(index: int, size: int, length: int) -> tuple[object, ...] | None:
    """The left/right decisions RFC 9162 §2.1.3.2 takes for (index, size), no hashing.

    Two sizes with the same shape compute the same root from the same proof: an
    inclusion proof does not bind the tree size, the signed checkpoint does.
    """
    if index >= size:
        return None
    fn, sn, out = index, size - 1, []
    for _ in range(length):
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            out.append("L")
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            out.append("R")
        fn, sn = fn >> 1, sn >> 1
    return tuple(out) if sn == 0 else None


def _consistency_shape(size1: int, size2: int, length: int) -> tuple[object, ...] | None:
    """The decisions RFC 9162 §2.1.4.2 takes for (size1, size2), no hashing."""
    if not 0 < size1 < size2:
        return None
    seeded = size1 & (size1 - 1) == 0
    fn, sn, out = size1 - 1, size2 - 1, [seeded]
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    for _ in range(length - (0 if seeded else 1)):
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            out.append("L")
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            out.append("R")
        fn, sn = fn >> 1, sn >> 1
    return tuple(out) if sn == 0 else None


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(tree=trees(min_size=0))
def test_compact_range_matches_reference_roots_and_nodes(tree: ReferenceTree) -> None:
    cr = CompactRange()
    for i, h in enumerate(tree.hashes):
        nodes = cr.append(h)
        # leaf i completes (0, i) and each (k, i >> k) with (i + 1) % 2**k == 0
        want = [(0, i)] + [(k, i >> k) for k in range(1, 10) if (i + 1) % (1 << k) == 0]
        assert [(lv, ix) for lv, ix, _ in nodes] == want
        for lv, ix, nh in nodes:
            assert nh == tree.get_node(lv, ix)
        assert cr.root() == tree.mth(0, i + 1)
        assert root_hash(i + 1, tree.get_node) == cr.root()
    resumed = CompactRange(cr.size, cr.edge)
    assert resumed.root() == tree.mth(0, len(tree.hashes))


@SETTINGS
@given(tree=trees(), data=st.data())
def test_inclusion_proofs_verify_and_match_reference(
    tree: ReferenceTree, data: st.DataObject
) -> None:
    size = data.draw(st.integers(1, len(tree.hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = tree.mth(0, size)
    proof = inclusion_proof(index, size, tree.get_node)
    assert proof == tree.path(index, 0, size)
    verify_inclusion(tree.hashes[index], index, size, proof, root)
    assert root_from_inclusion_proof(tree.hashes[index], index, size, proof) == root


@SETTINGS
@given(tree=trees(min_size=2), data=st.data())
def test_tampered_inclusion_proofs_fail(tree: ReferenceTree, data: st.DataObject) -> None:
    size = data.draw(st.integers(2, len(tree.hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = tree.mth(0, size)
    leaf = tree.hashes[index]
    proof = inclusion_proof(index, size, tree.get_node)
    if proof:  # single-bit flip anywhere in the proof
        which = data.draw(st.integers(0, len(proof) - 1), label="which")
        bit = data.draw(st.integers(0, 255), label="bit")
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, _flip(proof, which, bit), root)
    bit = data.draw(st.integers(0, 255), label="leaf bit")
    with pytest.raises(ProofError):  # flipped leaf hash
        verify_inclusion(_flip([leaf], 0, bit)[0], index, size, proof, root)
    with pytest.raises(ProofError):  # flipped root
        verify_inclusion(leaf, index, size, proof, _flip([root], 0, bit)[0])
    wrong_index = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="wi")
    with pytest.raises(ProofError):
        verify_inclusion(leaf, wrong_index, size, proof, root)
    for wrong_size in (size * 2, size // 2, data.draw(st.integers(0, 2 * MAX_SIZE), label="ws")):
        shape = _inclusion_shape(index, size, len(proof))
        if wrong_size == size or _inclusion_shape(index, wrong_size, len(proof)) == shape:
            continue  # same shape, same root: only the signed checkpoint binds the size
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, wrong_size, proof, root)
    with pytest.raises(ProofError):  # the other leaves' hash in its place
        verify_inclusion(tree.hashes[wrong_index], index, size, proof, root)


@SETTINGS
@given(tree=trees(), data=st.data())
def test_consistency_proofs_verify_and_match_reference(
    tree: ReferenceTree, data: st.DataObject
) -> None:
    size2 = data.draw(st.integers(1, len(tree.hashes)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = consistency_proof(size1, size2, tree.get_node)
    assert proof == tree.subproof(size1, 0, size2, True)
    verify_consistency(size1, size2, proof, tree.mth(0, size1), tree.mth(0, size2))


@SETTINGS
@given(tree=trees(min_size=3), data=st.data())
def test_tampered_consistency_proofs_fail(tree: ReferenceTree, data: st.DataObject) -> None:
    size2 = data.draw(st.integers(3, len(tree.hashes)), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    root1, root2 = tree.mth(0, size1), tree.mth(0, size2)
    proof = consistency_proof(size1, size2, tree.get_node)
    which = data.draw(st.integers(0, len(proof) - 1), label="which")
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, _flip(proof, which, bit), root1, root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, _flip([root1], 0, bit)[0], root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, _flip([root2], 0, bit)[0])
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root2, root1)
    shape = _consistency_shape(size1, size2, len(proof))
    other1 = data.draw(st.integers(0, size2).filter(lambda s: s != size1), label="other1")
    if _consistency_shape(other1, size2, len(proof)) != shape:
        with pytest.raises(ProofError):
            verify_consistency(other1, size2, proof, root1, root2)
    for other2 in (size2 * 2, size2 // 2, data.draw(st.integers(0, 2 * MAX_SIZE), label="o2")):
        if other2 == size2 or _consistency_shape(size1, other2, len(proof)) == shape:
            continue  # same shape: only the signed checkpoint binds the size
        with pytest.raises(ProofError):
            verify_consistency(size1, other2, proof, root1, root2)
    with pytest.raises(ProofError):  # truncated
        verify_consistency(size1, size2, proof[:-1], root1, root2)
    with pytest.raises(ProofError):  # padded
        verify_consistency(size1, size2, [*proof, proof[-1]], root1, root2)


def test_range_nodes_cover_the_range_with_aligned_perfect_subtrees() -> None:
    for begin in range(0, 70):
        for end in range(begin, 140):
            covered = []
            for level, index in range_nodes(begin, end):
                covered.extend(range(index << level, (index + 1) << level))
            assert covered == list(range(begin, end))


def test_builder_preconditions_are_checked_before_work() -> None:
    def boom(_level: int, _index: int) -> bytes:
        raise AssertionError("fetched a node for an invalid request")

    for index, size in [(0, 0), (5, 5), (-1, 3)]:
        with pytest.raises(LogRangeError):
            inclusion_proof(index, size, boom)
    for size1, size2 in [(0, 5), (6, 5), (-1, 2)]:
        with pytest.raises(LogRangeError):
            consistency_proof(size1, size2, boom)
    with pytest.raises(LogRangeError):
        CompactRange(3, [b"x" * 32])  # a size of 3 needs two edge hashes


@given(tree=trees(), data=st.data())
def test_many_inclusion_proofs_at_once_match_the_reference(
    tree: ReferenceTree, data: st.DataObject
) -> None:
    """What a report's evidence uses: several plans resolved together, shared ranges
    hashed once, must give each leaf exactly its own RFC 9162 path."""
    size = data.draw(st.integers(1, len(tree.hashes)), label="size")
    indexes = data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=20,
                                 unique=True), label="indexes")
    plans = [inclusion_plan(i, size) for i in indexes]
    nodes = {n: tree.get_node(*n) for n in plans_node_ids(plans)}
    assert plans_hashes(plans, nodes) == [tree.path(i, 0, size) for i in indexes]

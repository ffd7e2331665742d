"""The batch planner a report's evidence uses gives every leaf exactly its own proof.

:func:`inclusion_batch` plans many inclusion proofs at once from the bit form of RFC 9162
PATH, sharing upper levels between neighbours; it must agree, plan for plan and hash for
hash, with :func:`inclusion_plan` + :meth:`ProofPlan.hashes` taken one leaf at a time
(which the property tests hold to the recursive RFC definitions).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from audit_testlib import drop_triggers, table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from hedui.audit.errors import LogRangeError, TamperError
from hedui.audit.proof_build import (
    CompactRange,
    NodeID,
    inclusion_batch,
    inclusion_plan,
    plans_node_ids,
    root_hash,
)
from hedui.audit.proof_verify import verify_inclusion
from hedui.audit.store import AuditLog

MAX_SIZE = 5000


def _all_nodes() -> dict[NodeID, bytes]:
    """Every complete subtree of a MAX_SIZE-leaf tree; a smaller tree's are among them."""
    cr = CompactRange()
    leaves = [i.to_bytes(4, "big") * 8 for i in range(MAX_SIZE)]
    return {(level, i): h for level, i, h in cr.extend(leaves)}


ALL = _all_nodes()


@st.composite
def cases(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A tree size and some of its leaves: scattered, or clustered as a case's entries."""
    size = draw(st.integers(1, MAX_SIZE), label="size")
    if draw(st.booleans(), label="clustered"):
        base = draw(st.integers(0, size - 1), label="base")
        span = draw(st.integers(1, 400), label="span")
        leaf = st.integers(base, min(size, base + span) - 1)
    else:
        leaf = st.integers(0, size - 1)
    return size, draw(st.lists(leaf, min_size=1, max_size=40), label="indexes")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_batch_matches_one_plan_per_leaf(case: tuple[int, list[int]]) -> None:
    size, indexes = case
    batch = inclusion_batch(indexes, size)
    wanted = sorted(set(indexes))
    assert list(batch.indexes) == wanted
    plans = [inclusion_plan(i, size) for i in wanted]
    assert batch.plans() == plans
    ids = batch.node_ids()
    assert len(ids) == len(set(ids))
    assert set(ids) == set(plans_node_ids(plans))
    fetched = {n: ALL[n] for n in ids}  # what a store returns: exactly what was asked
    expected = [plan.hashes(fetched) for plan in plans]
    assert batch.hashes(fetched) == expected
    # a bigger tree's nodes hold complete subtrees named like this tree's edge nodes:
    # the edge must still be folded for this size
    assert batch.hashes(ALL) == expected
    root = root_hash(size, lambda level, i: ALL[(level, i)])
    for i, proof in zip(wanted, expected, strict=True):
        verify_inclusion(ALL[(0, i)], i, size, proof, root)


def test_batch_matches_one_plan_per_leaf_in_every_small_tree() -> None:
    for size in range(1, 130):
        batch = inclusion_batch(range(size), size)
        plans = [inclusion_plan(i, size) for i in range(size)]
        assert batch.plans() == plans
        fetched = {n: ALL[n] for n in batch.node_ids()}
        assert batch.hashes(fetched) == [plan.hashes(fetched) for plan in plans]


def _error(make: Callable[[], object]) -> str:
    with pytest.raises(LogRangeError) as err:
        make()
    return str(err.value)


@pytest.mark.parametrize(
    ("indexes", "size"),
    [([0], 0), ([5], 5), ([-1], 3), ([2, 9, 4], 5), ([True], 3), ([1], -2), ([0], 2.0)],
)
def test_bad_requests_fail_as_one_plan_per_leaf_would(indexes: list[int], size: int) -> None:
    def one_by_one() -> None:
        for i in sorted(set(indexes)):
            inclusion_plan(i, size)

    assert _error(lambda: inclusion_batch(indexes, size)) == _error(one_by_one)


def test_no_leaves_plans_nothing_but_checks_the_size() -> None:
    batch = inclusion_batch([], 7)
    assert batch.node_ids() == [] and batch.hashes({}) == [] and batch.plans() == []
    with pytest.raises(LogRangeError):
        inclusion_batch([], -1)


@pytest.mark.parametrize("edge_part", [False, True])
def test_missing_subtree_is_named(edge_part: bool) -> None:
    size = 1000  # 1111101000: leaf 990's proof has an edge node over [992, 1000)
    batch = inclusion_batch([3, 990], size)
    assert batch.edges
    ids = batch.node_ids()
    parts = {n for e in batch.edges.values() for n in e}
    gone = next(n for n in ids if (n in parts) == edge_part)
    fetched = {n: ALL[n] for n in ids if n != gone}
    with pytest.raises(LogRangeError, match=rf"\(level {gone[0]}, index {gone[1]}\)"):
        batch.hashes(fetched)


# ------------------------------------------------------------------------- the store


def test_evidence_is_each_leaf_with_its_own_proof(log: AuditLog) -> None:
    log.append_many([f"entry {i}".encode() for i in range(700)])
    rng = random.Random(7)
    for size in (1, 2, 5, 64, 333, 512, 699, 700):
        indexes = [*rng.sample(range(size), min(size, 18)), size - 1, 0]
        got = log.evidence(indexes, size)
        want = [(i, log.leaf(i), log.inclusion_proof(i, size)) for i in sorted(set(indexes))]
        assert got == want
    assert log.evidence([], 700) == []
    with pytest.raises(LogRangeError):
        log.evidence([700], 700)
    with pytest.raises(LogRangeError):
        log.evidence([3], 701)


def test_evidence_with_a_missing_subtree_is_tamper(
    log: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    log.append_many([f"entry {i}".encode() for i in range(100)])
    nodes = table(backend, "nodes")
    drop_triggers(raw_engine, backend)
    with raw_engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {nodes} WHERE level = 5 AND idx = 1"))
    with pytest.raises(TamperError, match=r"\(level 5, index 1\)"):
        log.evidence([3, 70], 100)  # leaf 3's proof needs (5, 1): leaves [32, 64)

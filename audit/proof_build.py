"""Building RFC 9162 proofs and roots from stored perfect-subtree hashes.

A *node* ``(level, index)`` is the perfect subtree of ``2**level`` leaves that starts at
leaf ``index * 2**level``. Once all its leaves exist its hash never changes, so a log can
store it once and serve any proof or root from O(log n) of them: every proof element of
RFC 9162 §2.1.3.1 / §2.1.4.1 covers a leaf range ``[begin, end)`` that is either one
perfect subtree or the right edge of the tree, which :func:`range_nodes` splits into at
most log2(n) perfect subtrees (largest first) and :func:`fold_range` hashes back together.

Proofs are built in two steps so a store can fetch every node it needs in one query:
``plan = inclusion_plan(index, size)``, fetch ``plan.node_ids()``, then
``plan.hashes(fetched)``. :func:`inclusion_proof`, :func:`consistency_proof` and
:func:`root_hash` do both steps with a ``get_node(level, index)`` callable.
:func:`inclusion_batch` plans many inclusion proofs of one tree together (a report's
evidence), sharing the work their paths have in common.

:class:`CompactRange` is the appender's side: it holds the right edge of the tree and
reports the perfect-subtree hashes that each new leaf completes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from hedui.audit.errors import LogRangeError
from hedui.audit.hashing import EMPTY_ROOT, node_hash

#: ``(level, index)`` of a perfect subtree
NodeID = tuple[int, int]
#: a node and its hash, as produced by :class:`CompactRange`
Node = tuple[int, int, bytes]

GetNode = Callable[[int, int], bytes]


def _check_size(name: str, value: int) -> None:
    if type(value) is not int or value < 0:  # bool is an int: refuse it too
        raise LogRangeError(f"{name} must be a non-negative integer, got {value!r}")


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (requires n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(begin: int, end: int) -> list[NodeID]:
    """Split the leaf range ``[begin, end)`` into maximal perfect subtrees, left to right.

    Requires ``0 <= begin <= end``. This is the compact-range decomposition: each step
    takes the largest subtree aligned at ``begin`` that fits before ``end``.
    """
    _check_size("begin", begin)
    _check_size("end", end)
    if begin > end:
        raise LogRangeError(f"range begin {begin} is after its end {end}")
    return _range_nodes(begin, end)


def _range_nodes(begin: int, end: int) -> list[NodeID]:
    """:func:`range_nodes` for ranges known to be valid (a plan's own)."""
    n = end - begin
    if n and not n & (n - 1) and not begin & (n - 1):  # one aligned perfect subtree
        level = n.bit_length() - 1
        return [(level, begin >> level)]
    out: list[NodeID] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        out.append((level, begin >> level))
        begin += 1 << level
    return out


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """Hash the subtrees of a right-edge range (largest first) into its Merkle Tree Hash.

    MTH splits a range at the largest power of two below its size, so a range made of
    decreasing perfect subtrees c0, c1, ..., ck hashes as H(c0, H(c1, ... H(ck-1, ck))).
    Requires at least one hash.
    """
    if not hashes:
        raise LogRangeError("an empty range has no subtree hash")
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


@dataclass(frozen=True, slots=True)
class ProofPlan:
    """The leaf ranges whose hashes form a proof (or a root), in proof order.

    Each range is a perfect subtree or a right-edge range; :meth:`node_ids` names the
    stored subtrees to fetch and :meth:`hashes` assembles the proof from them.
    """

    ranges: tuple[tuple[int, int], ...]

    def node_ids(self) -> list[NodeID]:
        """Every perfect subtree the plan needs, without duplicates, in a stable order."""
        seen: dict[NodeID, None] = {}
        for begin, end in self.ranges:
            for node in _range_nodes(begin, end):
                seen[node] = None
        return list(seen)

    def hashes(self, nodes: Mapping[NodeID, bytes]) -> list[bytes]:
        """Assemble the proof hashes from fetched subtree hashes.

        Requires every id of :meth:`node_ids` in ``nodes``; a missing one raises
        :class:`LogRangeError` naming it (the store lacks a subtree it should have).
        """
        out: list[bytes] = []
        for begin, end in self.ranges:
            parts: list[bytes] = []
            for node in _range_nodes(begin, end):
                try:
                    parts.append(nodes[node])
                except KeyError:
                    raise LogRangeError(
                        f"subtree hash (level {node[0]}, index {node[1]}) is not available"
                    ) from None
            out.append(fold_range(parts))
        return out


def plans_node_ids(plans: Sequence[ProofPlan]) -> list[NodeID]:
    """Every perfect subtree several plans need, each once (a report's proofs share
    their upper ranges: each distinct range is split once)."""
    seen: dict[NodeID, None] = {}
    for begin, end in dict.fromkeys(r for plan in plans for r in plan.ranges):
        for node in _range_nodes(begin, end):
            seen[node] = None
    return list(seen)


def plans_hashes(plans: Sequence[ProofPlan], nodes: Mapping[NodeID, bytes]) -> list[list[bytes]]:
    """:meth:`ProofPlan.hashes` for several plans, hashing each distinct range once."""
    folded: dict[tuple[int, int], bytes] = {}
    out: list[list[bytes]] = []
    for plan in plans:
        hashes: list[bytes] = []
        for r in plan.ranges:
            h = folded.get(r)
            if h is None:
                h = folded[r] = _fold_ids(_range_nodes(*r), nodes)
            hashes.append(h)
        out.append(hashes)
    return out


def _missing(exc: KeyError) -> LogRangeError:
    level, index = exc.args[0]
    return LogRangeError(f"subtree hash (level {level}, index {index}) is not available")


def _fold_ids(ids: Sequence[NodeID], nodes: Mapping[NodeID, bytes]) -> bytes:
    """:meth:`ProofPlan.hashes` of one range split into ``ids``, without a plan object."""
    try:
        parts = [nodes[node] for node in ids]
    except KeyError as exc:
        raise _missing(exc) from None
    return fold_range(parts)


@dataclass(frozen=True, slots=True)
class InclusionBatch:
    """Inclusion proofs of several leaves in one tree, planned together.

    A report proves ~20 nearby leaves at once; separate plans re-derive the shared upper
    levels and re-split the same ranges for every proof. Here a proof element is a node
    id: a stored perfect subtree or, for at most one element per proof, the incomplete
    node on the tree's right edge, listed in :attr:`edges` with the stored subtrees it
    folds from (so each is fetched and hashed once for the batch). Neighbouring leaves
    share their upper levels, so each proof stores only its own leading elements.
    """

    size: int
    #: the proved leaves, ascending and distinct; :meth:`hashes` follows this order
    indexes: tuple[int, ...]
    #: each proof's own leading elements, bottom-up; the rest of the proof, up to its
    #: length, is the previous proof's from the same position on
    heads: tuple[list[NodeID], ...]
    #: each proof's length
    lengths: tuple[int, ...]
    #: incomplete right-edge node -> its :func:`range_nodes` decomposition
    edges: dict[NodeID, tuple[NodeID, ...]]

    def paths(self) -> list[list[NodeID]]:
        """Each leaf's whole proof as node ids, bottom-up."""
        out: list[list[NodeID]] = []
        prev: list[NodeID] = []
        for head, length in zip(self.heads, self.lengths, strict=True):
            prev = head + prev[len(head) : length]
            out.append(prev)
        return out

    def node_ids(self) -> list[NodeID]:
        """Every stored subtree the batch needs, each once (edge nodes are never stored)."""
        seen = dict.fromkeys(chain.from_iterable(self.heads))
        for edge in self.edges:
            del seen[edge]
        for ids in self.edges.values():
            seen.update(dict.fromkeys(ids))
        return list(seen)

    def hashes(self, nodes: Mapping[NodeID, bytes]) -> list[list[bytes]]:
        """Every leaf's proof, as :func:`plans_hashes` of its :func:`inclusion_plan` gives.

        Requires every id of :meth:`node_ids` in ``nodes``; a missing one raises
        :class:`LogRangeError` naming it. Entries of ``nodes`` named like an edge node
        (complete in a larger tree) are ignored: the edge is folded for :attr:`size`.
        """
        known = {**nodes, **{e: _fold_ids(ids, nodes) for e, ids in self.edges.items()}}
        out: list[list[bytes]] = []
        prev: list[bytes] = []
        try:
            for head, length in zip(self.heads, self.lengths, strict=True):
                proof = [known[n] for n in head]
                proof += prev[len(head) : length]
                out.append(proof)
                prev = proof
        except KeyError as exc:
            raise _missing(exc) from None
        return out

    def plans(self) -> list[ProofPlan]:
        """The same proofs as :func:`inclusion_plan` plans them, one per leaf."""
        size = self.size
        return [
            ProofPlan(tuple((i << lv, min((i + 1) << lv, size)) for lv, i in path))
            for path in self.paths()
        ]


def inclusion_batch(indexes: Iterable[int], size: int) -> InclusionBatch:
    """Plan the inclusion proofs of several leaves of the tree of ``size`` leaves at once.

    Requires ``0 <= index < size`` for each (checked as :func:`inclusion_plan` would, in
    ascending order); duplicates are proved once. Uses the bit form of RFC 9162 PATH: with
    ``inner = (index ^ (size - 1)).bit_length()``, levels below ``inner - 1`` hold the
    plain siblings ``(level, (index >> level) ^ 1)``; level ``inner - 1`` holds the
    (possibly incomplete) right sibling, and the levels above it the left siblings where
    ``size - 1`` has a 1 bit. So from level ``inner - 1`` up a proof depends on ``inner``
    alone, and two leaves with the same ``inner`` whose indexes first differ at bit
    ``d - 1`` have the same elements from position ``d`` on.
    """
    wanted = sorted(set(indexes))
    checked = False
    for i in wanted:
        _check_size("index", i)
        if not checked:
            _check_size("size", size)
            checked = True
        if i >= size:
            raise LogRangeError(f"leaf index {i} is not in a tree of size {size}")
    if not checked:
        _check_size("size", size)
    last = size - 1
    edges: dict[NodeID, tuple[NodeID, ...]] = {}
    heads: list[list[NodeID]] = []
    lengths: list[int] = []
    prev_i = prev_inner = length = -1
    for i in wanted:
        inner = (i ^ last).bit_length()
        if inner == prev_inner:  # the previous proof's tail, and its levels from d up
            heads.append([(lv, (i >> lv) ^ 1) for lv in range((i ^ prev_i).bit_length())])
        else:
            head = [(lv, (i >> lv) ^ 1) for lv in range(inner - 1)]
            if inner:
                level = inner - 1
                sib = last >> level
                head.append((level, sib))
                if (sib + 1) << level > size:
                    edges[(level, sib)] = tuple(_range_nodes(sib << level, size))
            level = inner
            j = last >> inner
            while j:
                if j & 1:
                    head.append((level, j ^ 1))
                j >>= 1
                level += 1
            heads.append(head)
            length = len(head)
            prev_inner = inner
        lengths.append(length)
        prev_i = i
    return InclusionBatch(size, tuple(wanted), tuple(heads), tuple(lengths), edges)


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Plan the RFC 9162 §2.1.3.1 inclusion proof PATH(index, D[size]).

    Requires ``0 <= index < size``. Ranges are listed bottom-up, as the proof is.
    """
    _check_size("index", index)
    _check_size("size", size)
    if index >= size:
        raise LogRangeError(f"leaf index {index} is not in a tree of size {size}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two below hi - lo
        if index < lo + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append((lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return ProofPlan(tuple(path))


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """Plan the RFC 9162 §2.1.4.1 consistency proof PROOF(size1, D[size2]).

    Requires ``0 < size1 <= size2`` (RFC 9162 defines no proof from the empty tree); the
    proof between equal sizes is empty.
    """
    _check_size("size1", size1)
    _check_size("size2", size2)
    if size1 == 0:
        raise LogRangeError("a consistency proof needs a non-empty first tree (size1 > 0)")
    if size1 > size2:
        raise LogRangeError(f"size1 {size1} is larger than size2 {size2}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, size2
    whole = True  # the b flag of SUBPROOF: still on the path of the first tree's root
    while size1 != hi:
        k = _largest_power_of_two_below(hi - lo)
        if size1 - lo <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            path.append((lo + k, hi))
            hi = lo + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            path.append((lo, lo + k))
            lo += k
            whole = False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        path.append((lo, hi))
    path.reverse()
    return ProofPlan(tuple(path))


def root_plan(size: int) -> ProofPlan:
    """Plan the root MTH(D[size]) as a one-range plan; the empty tree has no ranges.

    Requires ``size >= 0``; for size 0 the root is :data:`EMPTY_ROOT` (see :func:`root_hash`).
    """
    _check_size("size", size)
    return ProofPlan(((0, size),) if size else ())


def _fetch(plan: ProofPlan, get_node: GetNode) -> dict[NodeID, bytes]:
    return {node: get_node(*node) for node in plan.node_ids()}


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Requires ``0 <= index < size``; ``get_node(level, i)`` must return the hash of every
    complete perfect subtree below ``size``.
    """
    plan = inclusion_plan(index, size)
    return plan.hashes(_fetch(plan, get_node))


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    """Return the consistency proof between tree sizes ``size1`` and ``size2``.

    Requires ``0 < size1 <= size2``; ``get_node`` as for :func:`inclusion_proof`.
    """
    plan = consistency_plan(size1, size2)
    return plan.hashes(_fetch(plan, get_node))


def root_hash(size: int, get_node: GetNode) -> bytes:
    """Return MTH(D[size]) from at most log2(size) + 1 stored perfect subtrees."""
    plan = root_plan(size)
    if not plan.ranges:
        return EMPTY_ROOT
    return plan.hashes(_fetch(plan, get_node))[0]


class CompactRange:
    """The right edge of a growing tree ``[0, size)``, for appenders.

    Holds one hash per set bit of ``size`` (the perfect subtrees of
    ``range_nodes(0, size)``, largest first), so appending costs O(1) amortized hashes and
    the root O(log n). Appending leaf ``i`` completes node ``(0, i)`` and, for each ``k``
    with ``(i + 1) % 2**k == 0``, node ``(k, i >> k)``; :meth:`append` reports them so the
    store can write them in the same transaction as the leaf.
    """

    __slots__ = ("_edge", "_size")

    def __init__(self, size: int = 0, edge: Iterable[bytes] = ()) -> None:
        """Resume from ``size`` and the hashes of ``range_nodes(0, size)``, largest first.

        Requires exactly one hash per set bit of ``size``.
        """
        _check_size("size", size)
        self._edge = list(edge)
        if len(self._edge) != size.bit_count():
            raise LogRangeError(
                f"a tree of size {size} has {size.bit_count()} edge subtrees, got {len(self._edge)}"
            )
        self._size = size

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def edge(self) -> list[bytes]:
        """A copy of the right-edge subtree hashes, largest first."""
        return list(self._edge)

    def append(self, leaf: bytes) -> list[Node]:
        """Append one leaf hash; return node ``(0, i)`` and every parent it completes."""
        out: list[Node] = []
        self._push(leaf, out, include_leaf=True)
        return out

    def extend(self, leaves: Iterable[bytes], *, include_leaves: bool = True) -> list[Node]:
        """Append many leaf hashes; return the completed nodes in completion order.

        With ``include_leaves=False`` the level-0 nodes are left out (a store that keeps
        leaf hashes beside the entries needs only the parents).
        """
        out: list[Node] = []
        push = self._push
        for leaf in leaves:
            push(leaf, out, include_leaves)
        return out

    def _push(self, h: bytes, out: list[Node], include_leaf: bool) -> None:
        i = self._size
        if include_leaf:
            out.append((0, i, h))
        edge = self._edge
        level = 0
        n = i
        while n & 1:
            h = node_hash(edge.pop(), h)
            level += 1
            n >>= 1
            out.append((level, n, h))
        edge.append(h)
        self._size = i + 1

    def root(self) -> bytes:
        """Return MTH of the leaves appended so far (:data:`EMPTY_ROOT` when none)."""
        if not self._edge:
            return EMPTY_ROOT
        return fold_range(self._edge)

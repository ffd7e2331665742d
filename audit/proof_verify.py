"""Checking RFC 9162 proofs: §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), verbatim.

The loops below follow the RFC's numbered steps with its variable names (``fn``, ``sn``,
``r``, ``fr``, ``sr``) so a reviewer can hold them side by side. Every precondition is
checked before any hashing: sizes and index in range, every hash 32 bytes, and the proof
exactly as long as the tree shape requires (so padded or truncated proofs are rejected by
name rather than by an opaque root mismatch). Verification returns ``None`` or raises
:class:`ProofError`; a well-formed proof that leads elsewhere raises its subclass
:class:`RootMismatchError`.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from hedui.audit.errors import AuditError, ProofError, RootMismatchError
from hedui.audit.hashing import HASH_SIZE, node_hash

__all__ = [
    "AuditError",
    "ProofError",
    "RootMismatchError",
    "consistency_proof_length",
    "inclusion_proof_length",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


def _check_int(name: str, value: int) -> None:
    if type(value) is not int or value < 0:
        raise ProofError(f"{name} must be a non-negative integer, got {value!r}")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != HASH_SIZE:
        got = len(value) if isinstance(value, bytes | bytearray | memoryview) else type(value)
        raise ProofError(f"{name} must be a {HASH_SIZE}-byte hash, got {got!r}")


def _check_proof(proof: Sequence[bytes], want: int, what: str) -> None:
    if len(proof) != want:
        raise ProofError(f"{what} has {len(proof)} hashes, the tree shape needs {want}")
    for i, h in enumerate(proof):
        _check_hash(f"proof hash {i}", h)


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in the inclusion proof of leaf ``index`` in a tree of ``size``.

    Requires ``0 <= index < size``. Below the point where the paths to ``index`` and to
    ``size - 1`` diverge every level has a sibling; above it only left siblings remain.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(size1: int, size2: int) -> int:
    """Number of hashes in the consistency proof between ``size1`` and ``size2``.

    Requires ``0 < size1 <= size2``. It is the inclusion path of the last subtree of the
    first tree (from its level up), plus that subtree itself unless it is the whole
    first tree (``size1`` a power of two), which the verifier already knows as its root.
    """
    if size1 == size2:
        return 0
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner - shift + border


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root that ``proof`` leads to from leaf ``index`` of a tree of ``size``.

    Requires ``0 <= index < size``, a 32-byte ``leaf_hash`` and exactly
    :func:`inclusion_proof_length` 32-byte proof hashes; raises :class:`ProofError`
    otherwise. RFC 9162 §2.1.3.2 steps 1-4.
    """
    _check_int("leaf index", index)
    _check_int("tree size", size)
    # Step 1: leaf_index >= tree_size fails.
    if index >= size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_proof(
        proof,
        inclusion_proof_length(index, size),
        f"inclusion proof for leaf {index} of {size}",
    )
    # Step 2.
    fn, sn = index, size - 1
    # Step 3.
    r = bytes(leaf_hash)
    # Step 4.
    for p in proof:
        p = bytes(p)
        # 4a.
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        # 4b.
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        # 4c.
        fn >>= 1
        sn >>= 1
    # Step 5 (first half): sn must have reached 0.
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that the leaf with ``leaf_hash`` is at ``index`` in the tree of ``size``/``root``.

    Requires ``0 <= index < size`` and 32-byte hashes. Returns ``None`` or raises
    :class:`ProofError` (:class:`RootMismatchError` when the proof leads to another root).
    """
    _check_hash("root", root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    # Step 5 (second half).
    if not hmac.compare_digest(computed, root):
        raise RootMismatchError(
            f"inclusion proof for leaf {index} leads to root {computed.hex()}, "
            f"not {bytes(root).hex()} of the tree of size {size}",
            size=size,
            computed=computed,
            expected=bytes(root),
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree ``size2``/``root2`` extends the tree ``size1``/``root1``.

    Requires ``0 < size1 <= size2`` (RFC 9162 §2.1.4.2 defines proofs only from a
    non-empty tree). Equal sizes need an empty proof and identical roots; otherwise both
    roots must be 32-byte hashes and the proof exactly :func:`consistency_proof_length`
    32-byte hashes.
    Returns ``None`` or raises :class:`ProofError`.
    """
    _check_int("size1", size1)
    _check_int("size2", size2)
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}: a log cannot shrink")
    if size1 == 0:
        raise ProofError(
            "a consistency proof from the empty tree (size1 = 0) is undefined in RFC 9162"
        )
    if size1 == size2:
        # Nothing to hash: the proof is empty and the two roots are the same bytes (the
        # reference vectors accept any equal byte strings here, so no length check).
        if len(proof):
            raise ProofError(f"sizes are equal ({size1}) but the proof is not empty")
        if not hmac.compare_digest(bytes(root1), bytes(root2)):
            raise RootMismatchError(
                f"two different roots for the same tree size {size1}",
                size=size1,
                computed=bytes(root1),
                expected=bytes(root2),
            )
        return
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    _check_proof(
        proof,
        consistency_proof_length(size1, size2),
        f"consistency proof from {size1} to {size2}",
    )
    path = [bytes(c) for c in proof]
    # Step 1: an empty path fails (the length check above already ensures it is not).
    if not path:
        raise ProofError(f"consistency proof from {size1} to {size2} is empty")
    # Step 2: if first is an exact power of 2, prepend first_hash.
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    # Step 3.
    fn, sn = size1 - 1, size2 - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        # 6a.
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        # 6b.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        # 6c.
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if not hmac.compare_digest(fr, root1):
        raise RootMismatchError(
            f"consistency proof leads to root {fr.hex()} for size {size1}, "
            f"not {bytes(root1).hex()}",
            size=size1,
            computed=fr,
            expected=bytes(root1),
        )
    if not hmac.compare_digest(sr, root2):
        raise RootMismatchError(
            f"consistency proof leads to root {sr.hex()} for size {size2}, "
            f"not {bytes(root2).hex()}",
            size=size2,
            computed=sr,
            expected=bytes(root2),
        )

"""RFC 6962 / RFC 9162 §2.1.1 hashing: domain-separated SHA-256 for leaves and nodes.

The 0x00 / 0x01 prefixes make a leaf hash and an interior node hash different functions,
so no sequence of leaves can be passed off as an interior node (second-preimage attack).
"""

from __future__ import annotations

import hashlib

#: length in bytes of every hash in the tree
HASH_SIZE = 32

#: MTH({}) — the root of the empty tree
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """Return SHA-256(0x00 ‖ entry), the hash of one leaf's exact stored bytes."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 ‖ left ‖ right), the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()

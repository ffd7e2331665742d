"""RFC 9162 verification against the transparency-dev/merkle reference vectors.

One test per JSON file, named after it (``inclusion/1/modified-proof@0-bit-@3.json``):
each file is one proof, honest or attacked, and says whether verification must fail.
The files live in ``<repo>/../shared/testdata/merkle`` and are never copied here.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from audit_testlib import MERKLE_TESTDATA

from hedui.audit.errors import ProofError
from hedui.audit.hashing import EMPTY_ROOT, leaf_hash, node_hash
from hedui.audit.proof_build import CompactRange
from hedui.audit.proof_verify import verify_consistency, verify_inclusion


def _cases(kind: str) -> list[Any]:
    folder = MERKLE_TESTDATA / kind
    if not folder.is_dir():
        reason = f"reference vectors not found at {folder.resolve()} (shared/ beside the repo)"
        return [pytest.param(None, id=f"{kind}-missing", marks=pytest.mark.skip(reason=reason))]
    files = sorted(folder.rglob("*.json"))
    return [pytest.param(path, id=path.relative_to(folder).as_posix()) for path in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


@pytest.mark.parametrize("path", _cases("inclusion"))
def test_inclusion_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _cases("consistency"))
def test_consistency_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        case["size1"],
        case["size2"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# The 8-leaf reference tree of RFC 6962 implementations (certificate-transparency-go,
# transparency-dev/merkle). Reproduce a root with e.g.
#   python -c "from hedui.audit.proof_build import CompactRange; ..."
# or any RFC 6962 tool over the leaf inputs below.
REFERENCE_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                    "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_reference_tree_roots() -> None:
    cr = CompactRange()
    assert cr.root() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for leaf, want in zip(REFERENCE_LEAVES, REFERENCE_ROOTS, strict=True):
        cr.append(leaf_hash(bytes.fromhex(leaf)))
        assert cr.root().hex() == want


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    # a leaf whose bytes are two hashes must not hash like the node over those hashes
    assert leaf_hash(a + b) != node_hash(a, b)
    assert leaf_hash(b"") == bytes.fromhex(REFERENCE_ROOTS[0])

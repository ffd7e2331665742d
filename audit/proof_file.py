"""Proof files for third parties: what ``hedui audit proof`` writes and
``hedui audit verify-proof`` checks offline.

A proof file is JSON (``"format": "hedui-audit-proof/1"``) holding an RFC 9162
inclusion proof (one entry is in the log at a signed checkpoint) or consistency proof
(a later signed checkpoint extends an earlier one). It is always made against a
checkpoint the log *signed*, never the log's current size: a third party can only trust
a root it holds a signature over. The proof carries no trust of its own — the verifier
brings the entry, the signed checkpoint note(s) and the log's verifier key, and the root
comes from the verified note, not from the file.

:func:`check_inclusion` / :func:`check_consistency` return the one-line ``OK`` text or
raise :class:`ProofFailed` (the proof does not hold, exit 1) or
:class:`ProofInputError` (the inputs cannot be checked at all, exit 2).
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from hedui.audit.checkpoint import Checkpoint, open_checkpoint, parse_vkey
from hedui.audit.errors import AuditError, CheckpointError, ProofError
from hedui.audit.hashing import HASH_SIZE, leaf_hash
from hedui.audit.proof_verify import verify_consistency, verify_inclusion

FORMAT = "hedui-audit-proof/1"
#: largest file verify-proof reads (a proof is a few kilobytes, an entry < 1 MiB)
MAX_FILE_BYTES = 4 << 20


class ProofFailed(AuditError):
    """The proof, entry or checkpoint does not verify: do not rely on the entry."""

    exit_code = 1


class ProofInputError(AuditError):
    """An input cannot be read as what it should be (missing file, not a proof file)."""

    exit_code = 2


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def inclusion_document(cp: Checkpoint, index: int, entry: bytes, proof: list[bytes]) -> dict:
    """The proof file of leaf ``index`` in the tree of the signed checkpoint ``cp``."""
    return {
        "format": FORMAT, "type": "inclusion", "origin": cp.origin,
        "leaf_index": index, "tree_size": cp.size, "leaf_hash": _b64(leaf_hash(entry)),
        "root": _b64(cp.root), "proof": [_b64(h) for h in proof],
    }


def consistency_document(old: Checkpoint, new: Checkpoint, proof: list[bytes]) -> dict:
    """The proof file that the signed checkpoint ``new`` extends ``old``."""
    return {
        "format": FORMAT, "type": "consistency", "origin": new.origin,
        "old_size": old.size, "tree_size": new.size, "old_root": _b64(old.root),
        "root": _b64(new.root), "proof": [_b64(h) for h in proof],
    }


def read_input(path: str | Path, what: str) -> bytes:
    """A file's bytes, or :class:`ProofInputError` naming it."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ProofInputError(f"{what} {p} is larger than {MAX_FILE_BYTES} bytes")
        return p.read_bytes()
    except OSError as exc:
        raise ProofInputError(f"cannot read {what} {p}: {exc.strerror}") from None


def load_document(raw: bytes, name: str) -> dict:
    """Parse and shape-check a proof file; the hashes are decoded by the checks."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProofInputError(f"{name} is not a proof file written by hedui audit proof "
                              "(not JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ProofInputError(f"{name} is not a {FORMAT} proof file")
    kind = doc.get("type")
    ints = {"inclusion": ("leaf_index", "tree_size"),
            "consistency": ("old_size", "tree_size")}.get(str(kind))
    if ints is None:
        raise ProofInputError(f"{name} has proof type {kind!r}, not inclusion or consistency")
    for key in ints:
        if type(doc.get(key)) is not int or doc[key] < 0:
            raise ProofInputError(f"{name}: {key} is not a non-negative integer")
    if not isinstance(doc.get("proof"), list) or not isinstance(doc.get("origin"), str):
        raise ProofInputError(f"{name} has no proof hashes or no origin")
    return doc


def _hashes(doc: dict, name: str) -> list[bytes]:
    out = []
    for i, h in enumerate(doc["proof"]):
        try:
            raw = base64.b64decode(str(h).encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise ProofInputError(f"{name}: proof hash {i} is not base64") from None
        if len(raw) != HASH_SIZE:
            raise ProofFailed(f"proof hash {i} is {len(raw)} bytes, not {HASH_SIZE}")
        out.append(raw)
    return out


def _checkpoint(note_raw: bytes, vkey: str, name: str) -> tuple[Checkpoint, str]:
    """The checkpoint in a note file, verified under ``vkey``; and the key's name."""
    try:
        key_name, verify_key = parse_vkey(vkey)
    except CheckpointError as exc:
        raise ProofInputError(f"--vkey: {exc}") from None
    try:
        note = note_raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProofFailed(f"{name} is not a signed checkpoint note (not UTF-8)") from None
    try:
        return open_checkpoint(note, key_name, verify_key), key_name
    except CheckpointError as exc:
        raise ProofFailed(f"{name} does not verify under the log's key: {exc}") from None


def _same_log(doc: dict, cp: Checkpoint, name: str) -> None:
    if doc["origin"] != cp.origin:
        raise ProofFailed(f"the proof is for the log {doc['origin']!r}, {name} is of the log "
                          f"{cp.origin!r}")
    if doc["tree_size"] != cp.size:
        raise ProofFailed(f"the proof is for a tree of {doc['tree_size']} entries, {name} "
                          f"is of {cp.size}: use the checkpoint written with the proof")


def check_inclusion(doc: dict, entry: bytes, note_raw: bytes, vkey: str) -> str:
    """Check that ``entry`` is leaf ``doc['leaf_index']`` of the signed checkpoint."""
    if doc["type"] != "inclusion":
        raise ProofInputError("this is a consistency proof: give --old-checkpoint, not --entry")
    cp, key_name = _checkpoint(note_raw, vkey, "the checkpoint")
    _same_log(doc, cp, "the checkpoint")
    index = doc["leaf_index"]
    h = leaf_hash(entry)
    try:
        verify_inclusion(h, index, cp.size, _hashes(doc, "the proof file"), cp.root)
    except ProofError as exc:
        raise ProofFailed(f"the entry is not leaf {index} of the signed checkpoint of "
                          f"{cp.size} entries: {exc}") from None
    return (f"OK: the entry (leaf hash {h.hex()[:16]}…) is entry {index} of the log "
            f"{cp.origin} at its checkpoint of {cp.size} entries signed by {key_name}")


def check_consistency(doc: dict, old_raw: bytes, note_raw: bytes, vkey: str) -> str:
    """Check that the signed checkpoint ``note_raw`` extends the signed ``old_raw``."""
    if doc["type"] != "consistency":
        raise ProofInputError("this is an inclusion proof: give --entry, not --old-checkpoint")
    old, _ = _checkpoint(old_raw, vkey, "the old checkpoint")
    new, key_name = _checkpoint(note_raw, vkey, "the checkpoint")
    _same_log(doc, new, "the checkpoint")
    if old.origin != new.origin:
        raise ProofFailed(f"the two checkpoints are of different logs ({old.origin!r}, "
                          f"{new.origin!r})")
    if doc["old_size"] != old.size:
        raise ProofFailed(f"the proof starts from {doc['old_size']} entries, the old "
                          f"checkpoint is of {old.size}")
    try:
        verify_consistency(old.size, new.size, _hashes(doc, "the proof file"), old.root,
                           new.root)
    except ProofError as exc:
        raise ProofFailed(f"the checkpoint of {new.size} entries does not extend the one of "
                          f"{old.size}: {exc}") from None
    return (f"OK: the log {new.origin} at {new.size} entries extends its checkpoint of "
            f"{old.size} entries (both signed by {key_name}): nothing before was changed")


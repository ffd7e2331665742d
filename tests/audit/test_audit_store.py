"""AuditLog on SQLite and PostgreSQL: appends, proofs from stored subtrees, checkpoints."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from audit_testlib import KEY_NAME, ORIGIN, table
from nacl.signing import SigningKey
from sqlalchemy import create_engine, text

from hedui.audit.checkpoint import open_checkpoint
from hedui.audit.errors import EntryError, LogRangeError, StoreError
from hedui.audit.hashing import EMPTY_ROOT, leaf_hash
from hedui.audit.proof_build import CompactRange
from hedui.audit.proof_verify import verify_consistency, verify_inclusion
from hedui.audit.store import AuditLog

ENTRIES = [b"", b"\x00", b"entry with \x00 NUL and \xff bytes"] + [
    f"entry {i}".encode() for i in range(3, 37)
]


def test_append_returns_consecutive_indexes_and_keeps_exact_bytes(log: AuditLog) -> None:
    assert log.size() == 0
    assert log.root() == EMPTY_ROOT
    assert log.append(ENTRIES[0]) == 0
    assert log.append_many(ENTRIES[1:5]) == [1, 2, 3, 4]
    assert [log.append(e) for e in ENTRIES[5:]] == list(range(5, len(ENTRIES)))
    assert log.append_many([]) == []
    assert log.size() == len(ENTRIES)
    assert [log.leaf(i) for i in range(len(ENTRIES))] == ENTRIES
    assert list(log.iter_entries(batch=7)) == list(enumerate(ENTRIES))
    assert [e for _, e in log.iter_entries(5, 9)] == ENTRIES[5:9]


def test_roots_and_all_proofs_verify(log: AuditLog) -> None:
    log.append_many(ENTRIES)
    cr = CompactRange()
    roots = [EMPTY_ROOT]
    for e in ENTRIES:
        cr.append(leaf_hash(e))
        roots.append(cr.root())
    for size in range(len(ENTRIES) + 1):
        assert log.root(size) == roots[size]
    assert log.root() == roots[-1]
    for size in range(1, len(ENTRIES) + 1):
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            verify_inclusion(leaf_hash(ENTRIES[index]), index, size, proof, roots[size])
        for size1 in range(1, size + 1):
            proof = log.consistency_proof(size1, size)
            verify_consistency(size1, size, proof, roots[size1], roots[size])
    n = len(ENTRIES)
    verify_inclusion(leaf_hash(ENTRIES[9]), 9, n, log.inclusion_proof(9), roots[n])


def test_requests_beyond_the_log_are_refused(log: AuditLog) -> None:
    log.append_many(ENTRIES[:5])
    with pytest.raises(LogRangeError):
        log.leaf(5)
    with pytest.raises(LogRangeError):
        log.inclusion_proof(5)
    with pytest.raises(LogRangeError):
        log.inclusion_proof(4, 6)  # a proof for a leaf that does not exist yet
    with pytest.raises(LogRangeError):
        log.root(6)
    with pytest.raises(LogRangeError):
        log.consistency_proof(3, 6)
    with pytest.raises(LogRangeError):
        log.consistency_proof(0, 5)


def test_bad_entries_are_refused(make_log: Callable[..., AuditLog]) -> None:
    log = make_log()
    with pytest.raises(EntryError):
        log.append("text, not bytes")  # type: ignore[arg-type]
    small = make_log(max_entry_bytes=10)
    with pytest.raises(EntryError, match="exceeds"):
        small.append(b"x" * 11)
    assert log.size() == 0


def test_checkpoints_grow_and_are_signed(make_log: Callable[..., AuditLog]) -> None:
    t = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    log = make_log(clock=lambda: t)
    first = log.checkpoint()
    assert log.open_note(first).size == 0 and log.open_note(first).root == EMPTY_ROOT
    log.append_many(ENTRIES[:10])
    second = log.checkpoint()
    cp = open_checkpoint(second, KEY_NAME, log.verify_key, origin=ORIGIN)
    assert (cp.size, cp.root) == (10, log.root(10))
    assert log.checkpoint() == second  # no growth, no new note
    assert log.latest_checkpoint() == second
    log.append(b"one more")
    assert log.open_note(log.checkpoint()).size == 11


def test_reopen_checks_identity(
    make_log: Callable[..., AuditLog], backend: dict[str, object], signing_key: SigningKey
) -> None:
    log = make_log()
    log.append(b"a")
    url, schema = str(backend["url"]), backend["schema"]
    common = {"key_name": KEY_NAME, "schema": schema}
    with pytest.raises(StoreError, match="origin"):
        AuditLog.open(url, origin="other.example/log", signing_key=signing_key, **common)
    with pytest.raises(StoreError, match="signed by"):
        AuditLog.open(url, origin=ORIGIN, signing_key=SigningKey(b"\x09" * 32), **common)
    with pytest.raises(StoreError, match="already exists"):
        AuditLog.create(url, origin=ORIGIN, signing_key=signing_key, **common)
    with pytest.raises(StoreError, match="no audit log"):
        AuditLog.open(url, origin=ORIGIN, signing_key=signing_key, key_name=KEY_NAME,
                      schema=schema, prefix="missing_")  # fmt: skip
    reader = make_log(signing_key=None, verify_key=signing_key.verify_key, create=False)
    assert reader.leaf(0) == b"a" and reader.root() == log.root()
    with pytest.raises(StoreError, match="read-only"):
        reader.append(b"b")
    with pytest.raises(StoreError, match="read-only"):
        reader.checkpoint()
    reader.verify_all()


def test_prefixes_keep_logs_apart(make_log: Callable[..., AuditLog]) -> None:
    a, b = make_log(prefix="a_"), make_log(prefix="b_")
    a.append_many([b"1", b"2"])
    b.append(b"3")
    assert (a.size(), b.size()) == (2, 1)
    assert a._t.lock_key != b._t.lock_key


def test_closed_log_refuses_work(make_log: Callable[..., AuditLog]) -> None:
    log = make_log()
    log.append(b"x")
    log.close()
    log.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        log.append(b"y")
    with pytest.raises(StoreError, match="closed"):
        log.size()


def test_append_is_visible_to_a_fresh_connection(log: AuditLog, backend: dict[str, object]) -> None:
    index = log.append(b"durable")
    engine = create_engine(str(backend["url"]))
    with engine.connect() as conn:
        got = conn.execute(
            text(f"SELECT entry FROM {table(backend, 'leaves')} WHERE idx = :i"), {"i": index}
        ).scalar()
    engine.dispose()
    assert bytes(got) == b"durable"


def test_sqlite_runs_wal_with_full_sync(tmp_path: object, signing_key: SigningKey) -> None:
    log = AuditLog.create(f"sqlite:///{tmp_path}/a.db", origin=ORIGIN, key_name=KEY_NAME,
                          signing_key=signing_key)  # fmt: skip
    try:
        with log._read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        log.close()
    with pytest.raises(StoreError, match="needs a file"):
        AuditLog.create("sqlite://", origin=ORIGIN, key_name=KEY_NAME, signing_key=signing_key)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_writer_holds_the_write_lock_before_it_reads(
    log: AuditLog, backend: dict[str, object]
) -> None:
    """BEGIN IMMEDIATE: another process cannot slip an append between read and write."""
    path = str(backend["url"]).removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with log._write_tx(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the transaction ended
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_pseudonyms_through_the_log(make_log: Callable[..., AuditLog]) -> None:
    log = make_log(pseudonym_key=b"p" * 32)
    assert len(log.pseudonym("11010519491231002X")) == 64

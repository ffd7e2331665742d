"""Group commit on an event loop (``LoopCommitter``) and the staged append under it.

What must hold: concurrent appends from one loop become few transactions yet each
caller gets its own durable index; a failure before the commit reaches every caller of
the batch and leaves nothing behind; a caller that went away does not lose its entry
or break the next batch; and a log written alternately by two handles (the remembered
right edge against another writer) still verifies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from hedui.audit.errors import StoreError
from hedui.audit.loop_commit import LoopCommitter
from hedui.audit.store import AuditLog


def test_concurrent_appends_share_transactions_and_each_gets_its_index(log: AuditLog) -> None:
    batches: list[int] = []
    committer = LoopCommitter(log, before_commit=lambda: batches.append(1))

    async def main() -> list[int]:
        return await asyncio.gather(*(committer.append(f"e{i}".encode()) for i in range(300)))

    try:
        indexes = asyncio.run(main())
    finally:
        committer.close()
    assert sorted(indexes) == list(range(300))
    assert all(log.leaf(i) == f"e{i}".encode() for i in indexes[::37])
    assert len(batches) < 30  # batched, not one transaction per entry
    log.verify_all()


def test_a_failure_before_commit_fails_the_batch_and_appends_nothing(log: AuditLog) -> None:
    log.append(b"before")

    def refuse() -> None:
        raise StoreError("replay file is read-only")

    committer = LoopCommitter(log, before_commit=refuse)

    async def main() -> list[object]:
        return await asyncio.gather(
            *(committer.append(b"x%d" % i) for i in range(5)), return_exceptions=True
        )

    try:
        results = asyncio.run(main())
    finally:
        committer.close()
    assert all(isinstance(r, StoreError) for r in results)
    assert log.size() == 1
    assert log.append(b"after") == 1  # the write lock was released
    log.verify_all()


def test_a_cancelled_caller_keeps_its_entry_and_others_go_on(log: AuditLog) -> None:
    committer = LoopCommitter(log)

    async def main() -> list[int]:
        doomed = asyncio.ensure_future(committer.append(b"gone"))
        await asyncio.sleep(0)
        doomed.cancel()
        return await asyncio.gather(*(committer.append(b"k%d" % i) for i in range(10)))

    try:
        indexes = asyncio.run(main())
    finally:
        committer.close()
    assert log.size() == 11
    assert sorted(indexes) == list(range(1, 11))  # "gone" was queued first, as index 0
    assert b"gone" in {e for _, e in log.iter_entries()}
    log.verify_all()


def test_two_handles_appending_alternately_keep_one_tree(
    make_log: Callable[..., AuditLog],
) -> None:
    """Each handle remembers the right edge after its own append; the other's appends
    in between must make it read the edge again, not extend a stale one."""
    first, second = make_log(), make_log(create=False)
    for i in range(40):
        handle = first if i % 3 else second
        staged = handle.begin_append([b"a%d" % i, b"b%d" % i])
        assert staged.commit() == 2 * i
    assert first.size() == second.size() == 80
    first.verify_all()
    second.checkpoint()
    second.verify_all()


def test_a_rolled_back_stage_leaves_no_trace(log: AuditLog) -> None:
    log.append(b"kept")
    log.begin_append([b"dropped"]).rollback()
    assert log.append(b"next") == 1
    assert [e for _, e in log.iter_entries()] == [b"kept", b"next"]
    log.verify_all()


def test_begin_append_refuses_nothing_and_oversized(log: AuditLog) -> None:
    from hedui.audit.errors import EntryError

    with pytest.raises(EntryError):
        log.begin_append([])
    with pytest.raises(EntryError):
        log.begin_append([b"x" * (10 << 20)])
    assert log.size() == 0


def test_then_runs_after_the_entry_is_durable_and_fails_alone(log: AuditLog) -> None:
    """An agent signs its answer in ``then``: it must see its entry committed, and a
    refusal raised there reaches that caller only."""
    committer = LoopCommitter(log)
    seen_sizes: list[int] = []

    def sign() -> str:
        seen_sizes.append(log.size())  # a fresh read: only committed entries count
        return "signed"

    def refuse() -> str:
        raise ValueError("refused after logging")

    async def main() -> list[object]:
        return await asyncio.gather(
            committer.append_then(b"answered", sign),
            committer.append_then(b"refused", refuse),
            committer.append(b"plain"),
            return_exceptions=True,
        )

    try:
        results = asyncio.run(main())
    finally:
        committer.close()
    assert results[0] == "signed"
    assert isinstance(results[1], ValueError)
    assert results[2] == 2
    assert seen_sizes and seen_sizes[0] == 3
    assert log.size() == 3

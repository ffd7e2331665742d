"""Group commit on an event loop (``LoopCommitter``) and the staged append under it.

What must hold: concurrent appends from one loop become few transactions yet each
caller gets its own durable index; threads routed through the loop keep their entries
together; a failure before the commit reaches every caller of the batch and leaves
nothing behind; a caller that went away does not lose its entry or break the next
batch; and a log written alternately by two handles (the remembered right edge against
another writer) still verifies. Each runs staging on the loop and in the commit thread
(PostgreSQL's way), on both backends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from hedui.audit.errors import EntryError, StoreError
from hedui.audit.loop_commit import LoopCommitter
from hedui.audit.store import AuditLog

T = TypeVar("T")


@pytest.fixture(params=[True, False], ids=["stage-on-loop", "stage-in-thread"])
def on_loop(request: pytest.FixtureRequest) -> bool:
    return request.param


def run_with(
    log: AuditLog, on_loop: bool, body: Callable[[LoopCommitter], Awaitable[T]],
    **kwargs: object,
) -> T:
    async def main() -> T:
        committer = LoopCommitter(log, stage_on_loop=on_loop, **kwargs)  # type: ignore[arg-type]
        try:
            return await body(committer)
        finally:
            committer.close()

    return asyncio.run(main())


def test_concurrent_appends_share_transactions_and_each_gets_its_index(
    log: AuditLog, on_loop: bool
) -> None:
    batches: list[int] = []

    async def body(c: LoopCommitter) -> list[int]:
        return await asyncio.gather(*(c.append(f"e{i}".encode()) for i in range(300)))

    indexes = run_with(log, on_loop, body, before_commit=lambda: batches.append(1))
    assert sorted(indexes) == list(range(300))
    assert all(log.leaf(i) == f"e{i}".encode() for i in indexes[::37])
    assert len(batches) < 30  # batched, not one transaction per entry
    log.verify_all()


def test_threads_routed_through_the_loop_keep_their_entries_together(
    log: AuditLog, on_loop: bool
) -> None:
    """A gateway's case steps run in threads: with ``route_appends`` their appends
    join the loop's batches, and an ``append_many`` still gets consecutive indexes."""

    async def body(c: LoopCommitter) -> tuple[list[list[int]], list[int]]:
        log.route_appends(c)
        try:
            groups = [
                asyncio.to_thread(log.append_many, [b"t%d-%d" % (t, k) for k in range(5)])
                for t in range(8)
            ]
            singles = [log.append_async(b"loop%d" % i) for i in range(20)]
            got = await asyncio.gather(*groups, *singles)
            return got[:8], got[8:]
        finally:
            log.route_appends(None)

    groups, singles = run_with(log, on_loop, body)
    for t, indexes in enumerate(groups):
        assert indexes == list(range(indexes[0], indexes[0] + 5))
        assert [log.leaf(i) for i in indexes] == [b"t%d-%d" % (t, k) for k in range(5)]
    everything = sorted(i for g in groups for i in g) + sorted(singles)
    assert sorted(everything) == list(range(60))
    log.verify_all()


def test_a_thread_cannot_wait_for_the_loop_it_runs_on(log: AuditLog) -> None:
    async def body(c: LoopCommitter) -> None:
        with pytest.raises(StoreError):
            c.append_from_thread([b"deadlock"])

    run_with(log, True, body)


def test_a_failure_before_commit_fails_the_batch_and_appends_nothing(
    log: AuditLog, on_loop: bool
) -> None:
    log.append(b"before")

    def refuse() -> None:
        raise StoreError("replay file is read-only")

    async def body(c: LoopCommitter) -> list[object]:
        return await asyncio.gather(
            *(c.append(b"x%d" % i) for i in range(5)), return_exceptions=True
        )

    results = run_with(log, on_loop, body, before_commit=refuse)
    assert all(isinstance(r, StoreError) for r in results)
    assert log.size() == 1
    assert log.append(b"after") == 1  # the write lock was released
    log.verify_all()


def test_a_cancelled_caller_keeps_its_entry_and_others_go_on(log: AuditLog) -> None:
    async def body(c: LoopCommitter) -> list[int]:
        doomed = asyncio.ensure_future(c.append(b"gone"))
        await asyncio.sleep(0)
        doomed.cancel()
        return await asyncio.gather(*(c.append(b"k%d" % i) for i in range(10)))

    indexes = run_with(log, True, body)
    assert log.size() == 11
    assert sorted(indexes) == list(range(1, 11))  # "gone" was queued first, as index 0
    assert b"gone" in {e for _, e in log.iter_entries()}
    log.verify_all()


def test_then_runs_after_the_entry_is_durable_and_fails_alone(
    log: AuditLog, on_loop: bool
) -> None:
    """An agent signs its answer in ``then``: it must see its entry committed, and a
    refusal raised there reaches that caller only."""
    seen_sizes: list[int] = []

    def sign() -> str:
        seen_sizes.append(log.size())  # a fresh read: only committed entries count
        return "signed"

    def refuse() -> str:
        raise ValueError("refused after logging")

    async def body(c: LoopCommitter) -> list[object]:
        return await asyncio.gather(
            c.append_then(b"answered", sign),
            c.append_then(b"refused", refuse),
            c.append(b"plain"),
            return_exceptions=True,
        )

    results = run_with(log, on_loop, body)
    assert results[0] == "signed"
    assert isinstance(results[1], ValueError)
    assert results[2] == 2
    assert seen_sizes == [3]
    assert log.size() == 3


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
    with pytest.raises(EntryError):
        log.begin_append([])
    with pytest.raises(EntryError):
        log.begin_append([b"x" * (10 << 20)])
    assert log.size() == 0


def test_without_a_route_threads_use_the_writer_thread(log: AuditLog) -> None:
    """Without a route, threads append through the writer thread as before."""
    got: list[int] = []
    workers = [threading.Thread(target=lambda: got.append(log.append(b"w"))) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(got) == [0, 1, 2, 3]

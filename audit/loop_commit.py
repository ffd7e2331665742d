"""Group commit for an asyncio event loop.

:class:`~hedui.audit.group_commit.GroupCommitter` serves threaded callers: one writer
thread batches what they queue. Beside an event loop that thread costs more than it
saves: its Python work (statements, hashing) needs the GIL the loop holds while it
prepares requests, and every hand-off waits out the interpreter's switch interval.
Measured in an agent (bench/agents/throughput.py), a query's CPU grew from 0.25 ms to
0.9 ms that way.

Here the loop stages each batch itself — the inserts are short — and only the commit,
an fsync that runs without the GIL, goes to a thread. Entries that arrive while one
batch commits form the next batch, so batches grow with load and a durable append
costs a fraction of one fsync. Each caller's future resolves with its leaf index
once its transaction is durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from hedui.audit.store import AuditLog, StagedAppend

T = TypeVar("T")


class LoopCommitter:
    """Batches ``append`` calls made on one event loop into few transactions."""

    def __init__(
        self,
        log: AuditLog,
        *,
        before_commit: Callable[[], None] | None = None,
        max_entries: int = 4096,
    ) -> None:
        """``before_commit`` runs in the commit thread before each batch is committed
        (an agent flushes its replay claims there); if it raises, the batch fails."""
        self._log = log
        self._before_commit = before_commit
        self._max_entries = max_entries
        self._pending: list[tuple[bytes, Callable[[], Any] | None, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._fsync = ThreadPoolExecutor(1, thread_name_prefix="hedui-audit-commit")

    async def append(self, entry: bytes) -> int:
        """Append one entry; returns its leaf index once it is durable."""
        return await self._enqueue(entry, None)

    async def append_then(self, entry: bytes, then: Callable[[], T]) -> T:
        """Append one entry and, once it is durable, run ``then`` in the commit thread;
        returns (or raises) what ``then`` does.

        For work that must wait for the entry and releases the GIL — an agent signs its
        answer here, beside the loop instead of on it.
        """
        return await self._enqueue(entry, then)

    def _enqueue(self, entry: bytes, then: Callable[[], Any] | None) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((entry, then, future))
        if self._writer is None:
            self._writer = loop.create_task(self._write())
        return future

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(0)  # let this round's other requests join the batch
            while self._pending:
                batch = self._pending[: self._max_entries]
                del self._pending[: self._max_entries]
                try:
                    staged = self._log.begin_append([entry for entry, _, _ in batch])
                    outcomes = await loop.run_in_executor(self._fsync, self._commit, staged, batch)
                except Exception as exc:  # every caller of the batch gets the failure
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, _, future), (ok, value) in zip(batch, outcomes, strict=True):
                    # A caller that went away (its RPC cancelled) still has its entry.
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._writer = None

    def _commit(
        self, staged: StagedAppend, batch: list[tuple[bytes, Callable[[], Any] | None, Any]]
    ) -> list[tuple[bool, Any]]:
        """Commit thread: the batch's durable commit, then each caller's ``then``."""
        if self._before_commit is not None:
            try:
                self._before_commit()
            except BaseException:
                staged.rollback()
                raise
        first = staged.commit()
        outcomes: list[tuple[bool, Any]] = []
        for offset, (_, then, _) in enumerate(batch):
            if then is None:
                outcomes.append((True, first + offset))
                continue
            try:
                outcomes.append((True, then()))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    def close(self) -> None:
        """Release the commit thread (after the loop has finished its appends)."""
        self._fsync.shutdown(wait=True)

"""Group commit: one writer thread turns many concurrent appends into few transactions.

A durable append costs one fsync (SQLite WAL with ``synchronous=FULL``) or one WAL flush
(PostgreSQL); paying it per entry would cap the log at a few hundred appends a second.
Callers instead hand their entries to :class:`GroupCommitter` and block; its single
writer thread takes everything queued so far (up to a size limit), commits it in one
transaction through the ``commit`` callable and then wakes each caller with the indexes
its entries received. A caller's entries always stay together in one transaction, so an
``append_many`` gets consecutive indexes. Only the writer thread extends the tree, so
threads of one process never race each other for the database lock.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from hedui.audit.errors import StoreError

#: commit(entries) -> index of the first entry; must be durable when it returns
CommitFn = Callable[[list[bytes]], int]


class _Request:
    __slots__ = ("done", "entries", "error", "first", "future")

    def __init__(self, entries: list[bytes], future: Future[int] | None = None) -> None:
        self.entries = entries
        self.done = threading.Event()
        self.first = -1
        self.error: BaseException | None = None
        #: set instead of blocking, for callers on an event loop (see submit_future)
        self.future = future

    def finish(self) -> None:
        self.done.set()
        future = self.future
        # A caller that went away (its RPC cancelled) cancelled its future; the entry is
        # committed all the same, and the writer thread must live on for everyone else.
        if future is None or not future.set_running_or_notify_cancel():
            return
        if self.error is not None:
            future.set_exception(self.error)
        else:
            future.set_result(self.first)


_STOP = object()


class GroupCommitter:
    """A queue and one writer thread that commits queued entries in batches.

    ``max_entries`` / ``max_bytes`` bound one transaction (a single larger request still
    goes through whole, alone).
    """

    def __init__(
        self,
        commit: CommitFn,
        *,
        max_entries: int = 8192,
        max_bytes: int = 32 << 20,
        name: str = "hedui-audit-writer",
    ) -> None:
        self._commit = commit
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._queue: queue.SimpleQueue[_Request | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._name = name

    def submit(self, entries: Sequence[bytes]) -> int:
        """Commit ``entries`` (in order, in one transaction); return the first one's index.

        Blocks until the transaction holding them has committed; raises what the commit
        raised, or :class:`StoreError` once the committer is closed.
        """
        request = self._enqueue(_Request(list(entries)))
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.first

    def submit_future(self, entries: Sequence[bytes]) -> Future[int]:
        """Like :meth:`submit` without blocking: the future resolves once durable.

        For asyncio servers (``asyncio.wrap_future``): no thread waits per request.
        """
        future: Future[int] = Future()
        self._enqueue(_Request(list(entries), future))
        return future

    def _enqueue(self, request: _Request) -> _Request:
        with self._lock:
            if self._closed:
                raise StoreError("the audit log is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._queue.put(request)
        return request

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread; later submits raise."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        q = self._queue
        stop = False
        while not stop:
            first = q.get()
            if first is _STOP:
                return
            assert isinstance(first, _Request)
            batch = [first]
            count = len(first.entries)
            size = sum(map(len, first.entries))
            while count < self._max_entries and size < self._max_bytes:
                try:
                    nxt = q.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                assert isinstance(nxt, _Request)
                batch.append(nxt)
                count += len(nxt.entries)
                size += sum(map(len, nxt.entries))
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[_Request]) -> None:
        entries: list[bytes] = []
        for request in batch:
            entries.extend(request.entries)
        try:
            start = self._commit(entries)
        except BaseException as exc:  # every caller of the batch gets the failure
            for request in batch:
                request.error = exc
                request.finish()
            return
        for request in batch:
            request.first = start
            start += len(request.entries)
            request.finish()

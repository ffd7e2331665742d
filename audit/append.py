"""The append path of :class:`~hedui.audit.store.AuditLog`: staging, committing, and the
tree's right edge — split from the store because it is the log's hottest code and
speaks to the database driver directly.

**One tree under concurrency.** Extending the tree is serialized by a lock held *in the
database* — ``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite — and
inside it the writer reads the current size and the right-edge subtree hashes (or uses
the ones it remembers from its own last append, the tree being append-only), so any
number of processes append to one log without gaps, duplicates or forks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from hedui.audit.errors import EntryError, StoreError, TamperError
from hedui.audit.hashing import leaf_hash
from hedui.audit.proof_build import CompactRange, NodeID, range_nodes
from hedui.audit.schema import row_hash

if TYPE_CHECKING:
    from nacl.signing import SigningKey
    from sqlalchemy import Engine

    from hedui.audit.group_commit import GroupCommitter
    from hedui.audit.loop_commit import LoopCommitter
    from hedui.audit.schema import AuditTables


class StagedAppend:
    """Entries written inside an open write transaction, not yet durable.

    Exactly one of :meth:`commit` or :meth:`rollback` must follow, from any one thread.
    Holds a driver connection checked out of the log's pool: the append path is the
    log's hottest, and SQLAlchemy's per-statement work cost more than the statements.
    """

    __slots__ = ("_dbapi", "_log", "_range", "first")

    def __init__(self, log: Appending, dbapi: Any, first: int, grown: CompactRange) -> None:
        self._log = log
        self._dbapi = dbapi
        self._range = grown
        #: the leaf index of the first staged entry
        self.first = first

    def commit(self) -> int:
        """Make the entries durable (one fsync); return the first one's leaf index."""
        log = self._log
        try:
            log._end_tx(self._dbapi, commit=True)
        except log._driver_error as exc:
            raise StoreError(f"appending to the audit log failed: {exc}") from exc
        finally:
            self._dbapi.close()
        log._edge_cache = (self._range.size, self._range.edge)
        return self.first

    def rollback(self) -> None:
        """Drop the staged entries and release the write lock."""
        try:
            self._log._end_tx(self._dbapi, commit=False)
        finally:
            self._dbapi.close()


class Appending:
    """The append methods of an audit log; :class:`~hedui.audit.store.AuditLog` holds
    the state they use."""

    if TYPE_CHECKING:
        _engine: Engine
        _t: AuditTables
        _closed: bool
        _postgres: bool
        _max_entry_bytes: int
        _signing_key: SigningKey | None
        _writable: bool
        _edge_cache: tuple[int, list[bytes]] | None
        _loop_committer: LoopCommitter | None
        _committer: GroupCommitter
        _driver_error: type[Exception]
        _raw_lock_sql: str
        _raw_last_leaf_sql: str
        _insert_leaves_sql: str
        _insert_nodes_sql: str

        def _read_nodes(self, cur: Any, ids: Sequence[NodeID], *, with_size: bool = False
                        ) -> tuple[dict[NodeID, bytes], int]: ...

    def _check_entry(self, entry: bytes) -> bytes:
        if isinstance(entry, bytearray | memoryview):
            entry = bytes(entry)
        if not isinstance(entry, bytes):
            raise EntryError(f"an audit entry must be bytes, got {type(entry).__name__}")
        if len(entry) > self._max_entry_bytes:
            raise EntryError(
                f"audit entry of {len(entry)} bytes exceeds the limit of {self._max_entry_bytes}"
            )
        return entry

    @property
    def shared_database(self) -> bool:
        """Whether other processes may append to this log too (PostgreSQL)."""
        return self._postgres

    def route_appends(self, committer: LoopCommitter | None) -> None:
        """Send this process's appends through ``committer``, an event loop's group
        commit: the loop's own appends (:meth:`append_async`) and other threads'
        (:meth:`append`, :meth:`append_many`) alike, so the process has one writer and
        no writer thread fighting the loop for the GIL. ``None`` undoes it."""
        self._loop_committer = committer

    def append(self, entry: bytes) -> int:
        """Append one entry's exact bytes; return its leaf index once it is durable."""
        self._require_writable()
        checked = [self._check_entry(entry)]
        via = self._loop_committer
        if via is not None and not via.on_loop_thread:
            return via.append_from_thread(checked)
        return self._committer.submit(checked)

    def append_future(self, entry: bytes) -> Future[int]:
        """Append without blocking; the future holds the leaf index once durable."""
        self._require_writable()
        return self._committer.submit_future([self._check_entry(entry)])

    async def append_async(self, entry: bytes) -> int:
        """Append from a coroutine; returns the leaf index once durable. Uses the
        loop's committer when :meth:`route_appends` set one for this loop."""
        self._require_writable()
        checked = self._check_entry(entry)
        via = self._loop_committer
        if via is not None and via.on_loop_thread:
            return await via.append(checked)
        return await asyncio.wrap_future(self._committer.submit_future([checked]))

    def append_many(self, entries: Iterable[bytes]) -> list[int]:
        """Append entries in one transaction; return their (consecutive) leaf indexes."""
        self._require_writable()
        checked = [self._check_entry(e) for e in entries]
        if not checked:
            return []
        via = self._loop_committer
        if via is not None and not via.on_loop_thread:
            first = via.append_from_thread(checked)
        else:
            first = self._committer.submit(checked)
        return list(range(first, first + len(checked)))

    def begin_append(self, entries: Sequence[bytes]) -> StagedAppend:
        """Write ``entries`` into an open transaction that holds the log's write lock;
        they count only once :meth:`StagedAppend.commit` returns.

        For an event loop that gathers its own batches
        (:class:`~hedui.audit.loop_commit.LoopCommitter`): it stages on the loop and
        hands only the commit (the fsync, which needs no GIL) to a thread. A writer
        thread running Python beside the loop fights it for the GIL instead.
        """
        self._require_writable()
        checked = [self._check_entry(e) for e in entries]
        if not checked:
            raise EntryError("nothing to append")
        return self._stage(checked)

    def _commit_entries(self, entries: list[bytes]) -> int:
        """Writer thread: extend the tree by ``entries`` in one locked transaction."""
        return self._stage(entries).commit()

    def _stage(self, entries: list[bytes]) -> StagedAppend:
        if self._closed:
            raise StoreError("the audit log is closed")
        dbapi = self._engine.raw_connection()
        try:
            cur = dbapi.cursor()
            if self._postgres:  # the lock, and durability whatever the server default
                cur.execute(self._raw_lock_sql, (self._t.lock_key,))
            else:  # the write lock before the size is read
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(self._raw_last_leaf_sql)
            last = cur.fetchone()[0]
            size = 0 if last is None else last + 1
            cr = CompactRange(size, self._right_edge(cur, size))
            hashes = [leaf_hash(e) for e in entries]
            parents = cr.extend(hashes, include_leaves=False)
            cur.executemany(
                self._insert_leaves_sql,
                [
                    (i, e, h, row_hash(i, h))
                    for i, e, h in zip(
                        range(size, size + len(entries)), entries, hashes, strict=True
                    )
                ],
            )
            if parents:
                cur.executemany(self._insert_nodes_sql, parents)
            cur.close()
        except BaseException as exc:
            with suppress(self._driver_error):  # the connection is released below anyway
                self._end_tx(dbapi, commit=False)
            dbapi.close()
            if isinstance(exc, self._driver_error):
                raise StoreError(f"appending to the audit log failed: {exc}") from exc
            raise
        return StagedAppend(self, dbapi, size, cr)

    def _end_tx(self, dbapi: Any, *, commit: bool) -> None:
        """Commit or roll back a driver-level append transaction."""
        if self._postgres:
            dbapi.commit() if commit else dbapi.rollback()
        else:  # the driver's implicit transactions are off (make_engine)
            cur = dbapi.cursor()
            try:
                cur.execute("COMMIT" if commit else "ROLLBACK")
            finally:
                cur.close()

    def _right_edge(self, cur: Any, size: int) -> list[bytes]:
        """The hashes of ``range_nodes(0, size)``: remembered from this process's last
        append when the tree has not grown since (append-only, so they cannot differ),
        read from the tables otherwise (another writer, or the first append)."""
        cached = self._edge_cache
        if cached is not None and cached[0] == size:
            return list(cached[1])
        edge_ids = range_nodes(0, size)
        stored, _ = self._read_nodes(cur, edge_ids)
        try:
            return [stored[n] for n in edge_ids]
        except KeyError as exc:
            raise TamperError(
                f"stored subtree {exc.args[0]} on the tree's right edge is missing; run verify",
                node=exc.args[0],
            ) from None

    def _require_writable(self) -> None:
        """Appending needs no key (checkpoints do): a log opened ``writable`` with only
        its verify key takes entries — a privacy officer's search — and the log's owner
        signs the next checkpoint over them."""
        if self._signing_key is None and not self._writable:
            raise StoreError("this audit log was opened read-only (no signing key)")

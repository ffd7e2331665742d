"""The audit log: an append-only Merkle tree stored through SQLAlchemy.

One class, :class:`AuditLog`, over SQLite (the embedded default: one file, WAL,
``synchronous=FULL`` so an entry is on disk when :meth:`~AuditLog.append` returns) or
PostgreSQL (shared by gateway replicas) with the same code; the tables are in
:mod:`hedui.audit.schema`.

**One tree under concurrency.** Extending the tree is serialized by a lock held *in the
database* — ``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite — and
inside it the writer reads the current size and the right-edge subtree hashes from the
database, never from a cache another process could have made stale. So any number of
processes append to one log without gaps, duplicates or forks (:mod:`hedui.audit.append`).
Within a process, one writer thread group-commits concurrent appends
(:mod:`hedui.audit.group_commit`).

**Proofs without rebuilding.** Each transaction also stores every perfect subtree its
leaves complete, so any root or proof is O(log n) stored hashes fetched in one query.

**Checkpoints never fork.** :meth:`AuditLog.checkpoint` signs a new checkpoint only after
verifying a consistency proof from the previous one, under the same lock.

**Tampering is named.** :meth:`AuditLog.verify_all` recomputes everything from the stored
entries and raises :class:`TamperError` naming the first bad leaf, row or checkpoint
(:mod:`hedui.audit.verify`); the meta rows and the pseudonym key check are read in
:mod:`hedui.audit.meta`. Opening a log with a pseudonym key checks it against the
key's stored check value, so a log never mixes pseudonym keys.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    make_url,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from hedui.audit.append import Appending, StagedAppend
from hedui.audit.checkpoint import Checkpoint, format_vkey, open_checkpoint, sign_checkpoint
from hedui.audit.errors import (
    AuditError,
    LogRangeError,
    ProofError,
    StoreError,
    TamperError,
)
from hedui.audit.group_commit import GroupCommitter
from hedui.audit.hashing import EMPTY_ROOT
from hedui.audit.meta import (
    PseudonymKeyError,
    as_stored,
    bind_key_check,
    database_error,
    load_meta,
    read_meta,
    stored_text,
)
from hedui.audit.proof_build import (
    NodeID,
    ProofPlan,
    consistency_plan,
    inclusion_batch,
    inclusion_plan,
    plans_hashes,
    plans_node_ids,
    root_plan,
)
from hedui.audit.proof_verify import verify_consistency
from hedui.audit.pseudonym import Pseudonymizer, key_check_value
from hedui.audit.schema import LAYOUT_VERSION, AuditTables, install, make_tables
from hedui.audit.verify import VERIFY_CHUNK, stored_checkpoint, verify_log

if TYPE_CHECKING:
    from hedui.audit.loop_commit import LoopCommitter

#: largest entry accepted by default; an AuditEntry is a few hundred bytes
MAX_ENTRY_BYTES = 1 << 20
__all__ = ["MAX_ENTRY_BYTES", "VERIFY_CHUNK", "AuditLog", "PseudonymKeyError", "StagedAppend",
           "make_engine", "read_meta"]

_WRITE = "hedui_audit_write"  # execution option: this transaction will write

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str | URL) -> Engine:
    """Create the engine for a log URL: file SQLite (WAL, synchronous=FULL) or PostgreSQL.

    On SQLite, the driver's implicit transactions are turned off so that a writing
    transaction starts with ``BEGIN IMMEDIATE`` (taking the database write lock before it
    reads the tree's size) and a reading one with a plain ``BEGIN`` (a WAL snapshot).
    """
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "postgresql":
        return create_engine(u, pool_size=8, max_overflow=8)
    if backend != "sqlite":
        raise StoreError(f"database {backend!r} is not supported: use sqlite or postgresql")
    if not u.database or u.database == ":memory:" or u.database.startswith("file::memory"):
        raise StoreError("an SQLite audit log needs a file: sqlite:///path/to/audit.db")
    engine = create_engine(u, connect_args={"timeout": 60.0, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"SQLite refused WAL journal mode (got {mode!r})")
        cur.execute("PRAGMA synchronous=FULL")  # the WAL is fsynced at every commit
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@lru_cache(maxsize=512)
def _nodes_sql(
    leaves: str, nodes: str, n_leaves: int, n_nodes: int, with_size: bool, mark: str
) -> str:
    """One statement fetching leaf hashes, subtree hashes and (optionally) the log size,
    with positional driver placeholders (``mark``): leaf indexes first, then
    ``level, idx`` pairs.

    ``(level, idx) IN (SELECT column1, column2 FROM (VALUES ...))`` rather than a row-value
    list because SQLite's planner scans the whole table for the latter. Run on the
    driver's cursor: binding a report's few hundred node ids as SQLAlchemy named
    parameters cost more than the query.
    """
    parts = []
    if with_size:
        parts.append(f"SELECT -1 AS level, MAX(idx) AS idx, NULL AS hash FROM {leaves}")
    if n_leaves:
        marks = ", ".join([mark] * n_leaves)
        parts.append(
            f"SELECT 0 AS level, idx, leaf_hash AS hash FROM {leaves} WHERE idx IN ({marks})"
        )
    if n_nodes:
        rows = ", ".join([f"({mark}, {mark})"] * n_nodes)
        parts.append(
            f"SELECT level, idx, hash FROM {nodes} WHERE (level, idx) IN "
            f"(SELECT column1, column2 FROM (VALUES {rows}) AS v)"
        )
    return " UNION ALL ".join(parts)


def _bring_key_check_table(url: str | URL, engine: Engine, tables: AuditTables) -> None:
    """Run the log's migrations when it predates the pseudonym key check table.

    Why here: a gateway or agent upgraded to this release opens its existing log with its
    pseudonym key, and must be checked against it from its first start on; the migration
    only adds the (empty) table, under the log's write lock.
    """
    with engine.connect() as conn:
        insp = inspect(conn)
        if not insp.has_table(tables.meta.name, schema=tables.schema) or insp.has_table(
                tables.pseudonym_key.name, schema=tables.schema):
            return
    from hedui.audit.migrations import upgrade

    upgrade(url if isinstance(url, str) else url.render_as_string(hide_password=False),
            prefix=tables.prefix, schema=tables.schema)


class AuditLog(Appending):
    """An append-only, verifiable log of audit entries (exact bytes) in one database.

    Build with :meth:`create` or :meth:`open`; use as a context manager or :meth:`close`.
    Thread-safe. Without a signing key the log is read-only (proofs, verification).
    """

    def __init__(
        self,
        engine: Engine,
        tables: AuditTables,
        *,
        origin: str,
        key_name: str,
        signing_key: SigningKey | None,
        verify_key: VerifyKey,
        pseudonym_key: bytes | None = None,
        clock: Clock = _utcnow,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
        writable: bool = False,
    ) -> None:
        """Wrap an engine made by :func:`make_engine`; prefer :meth:`create` / :meth:`open`."""
        self._engine = engine
        self._t = tables
        self.origin = origin
        self.key_name = key_name
        self._signing_key = signing_key
        self._writable = writable
        self.verify_key = verify_key
        self.vkey = format_vkey(key_name, verify_key)
        self.pseudonymizer = Pseudonymizer(pseudonym_key) if pseudonym_key is not None else None
        #: whether opening recorded the pseudonym key's check value (the log had none)
        self.key_check_recorded = False
        self._clock = clock
        self._max_entry_bytes = max_entry_bytes
        self._postgres = engine.dialect.name == "postgresql"
        prep = engine.dialect.identifier_preparer
        self._leaves_name = prep.format_table(tables.leaves)
        self._nodes_name = prep.format_table(tables.nodes)
        self._closed = False
        #: (size, right-edge hashes) after this process's last committed append
        self._edge_cache: tuple[int, list[bytes]] | None = None
        self._loop_committer: LoopCommitter | None = None
        self._committer = GroupCommitter(self._commit_entries)
        self._lock_sql = text(
            "SELECT pg_advisory_xact_lock(:k), set_config('synchronous_commit', 'on', true)"
        )
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._insert_leaves_sql = (
            f"INSERT INTO {self._leaves_name} (idx, entry, leaf_hash, row_hash) "
            f"VALUES ({mark}, {mark}, {mark}, {mark})"
        )
        self._insert_nodes_sql = (
            f"INSERT INTO {self._nodes_name} (level, idx, hash) VALUES ({mark}, {mark}, {mark})"
        )
        self._last_leaf_sql = (
            select(tables.leaves.c.idx).order_by(tables.leaves.c.idx.desc()).limit(1)
        )
        # the append path speaks to the driver directly (see StagedAppend)
        self._mark = mark
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._raw_lock_sql = (
            f"SELECT pg_advisory_xact_lock({mark}), set_config('synchronous_commit', 'on', true)"
        )
        self._raw_last_leaf_sql = f"SELECT MAX(idx) FROM {self._leaves_name}"

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def create(
        cls,
        url: str | URL,
        *,
        origin: str,
        key_name: str,
        signing_key: SigningKey,
        prefix: str = "",
        schema: str | None = None,
        pseudonym_key: bytes | None = None,
        clock: Clock = _utcnow,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
    ) -> AuditLog:
        """Create a new, empty log (tables, triggers, meta row) and open it.

        Requires that no log with this prefix/schema exists in the database; raises
        :class:`StoreError` otherwise.
        """
        return cls._open(
            url,
            origin=origin,
            key_name=key_name,
            signing_key=signing_key,
            verify_key=None,
            prefix=prefix,
            schema=schema,
            pseudonym_key=pseudonym_key,
            clock=clock,
            max_entry_bytes=max_entry_bytes,
            mode="create",
        )

    @classmethod
    def open(
        cls,
        url: str | URL,
        *,
        origin: str,
        key_name: str,
        signing_key: SigningKey | None = None,
        verify_key: VerifyKey | None = None,
        prefix: str = "",
        schema: str | None = None,
        pseudonym_key: bytes | None = None,
        clock: Clock = _utcnow,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
        create: bool = False,
        writable: bool = False,
    ) -> AuditLog:
        """Open an existing log (or create it when missing and ``create`` is true).

        Requires ``signing_key`` (to append and sign) or ``verify_key`` (read-only), and
        that the stored log has this ``origin``, ``key_name`` and key; raises
        :class:`StoreError` for a missing or different log.
        """
        return cls._open(
            url,
            origin=origin,
            key_name=key_name,
            signing_key=signing_key,
            verify_key=verify_key,
            prefix=prefix,
            schema=schema,
            pseudonym_key=pseudonym_key,
            clock=clock,
            max_entry_bytes=max_entry_bytes,
            mode="open-or-create" if create else "open",
            writable=writable,
        )

    @classmethod
    def _open(
        cls,
        url: str | URL,
        *,
        origin: str,
        key_name: str,
        signing_key: SigningKey | None,
        verify_key: VerifyKey | None,
        prefix: str,
        schema: str | None,
        pseudonym_key: bytes | None,
        clock: Clock,
        max_entry_bytes: int,
        mode: str,
        writable: bool = False,
    ) -> AuditLog:
        if signing_key is not None:
            if verify_key is not None and bytes(verify_key) != bytes(signing_key.verify_key):
                raise StoreError("verify_key is not the public half of signing_key")
            verify_key = signing_key.verify_key
        if verify_key is None:
            raise StoreError("opening an audit log needs its signing key or its verify key")
        Checkpoint(origin=origin, size=0, root=EMPTY_ROOT)  # validates the origin
        tables = make_tables(prefix, schema)
        if schema is not None and make_url(url).get_backend_name() != "postgresql":
            raise StoreError("a schema is a PostgreSQL option; use a table prefix on SQLite")
        may_write = signing_key is not None or writable
        engine = make_engine(url)
        try:
            if pseudonym_key is not None and may_write:
                _bring_key_check_table(url, engine, tables)
            log = cls(
                engine,
                tables,
                origin=origin,
                key_name=key_name,
                signing_key=signing_key,
                verify_key=verify_key,
                pseudonym_key=pseudonym_key,
                clock=clock,
                max_entry_bytes=max_entry_bytes,
                writable=writable,
            )
            with log._write_tx() as conn:
                exists = inspect(conn).has_table(tables.meta.name, schema=schema)
                if exists and mode != "open" and signing_key is not None and conn.execute(
                    select(func.count()).select_from(tables.meta)
                ).scalar() == 0:
                    # tables made by `hedui audit migrate`, log not started yet
                    conn.execute(tables.meta.insert().values(
                        id=1, origin=origin, key_name=key_name, vkey=log.vkey,
                        layout=LAYOUT_VERSION, created_at=clock()))
                    mode = "open"  # it is this log now
                if exists and mode == "create":
                    raise StoreError(f"an audit log already exists at prefix {prefix!r}")
                if not exists and mode == "open":
                    raise StoreError(f"no audit log at prefix {prefix!r} in this database")
                if not exists:
                    if signing_key is None:
                        raise StoreError("creating an audit log needs its signing key")
                    install(conn, tables)
                    conn.execute(
                        tables.meta.insert().values(
                            id=1,
                            origin=origin,
                            key_name=key_name,
                            vkey=log.vkey,
                            layout=LAYOUT_VERSION,
                            created_at=clock(),
                        )
                    )
                    from hedui.audit.migrations import stamp  # tables made by this code

                    stamp(conn, prefix=prefix, schema=schema)
                log._check_meta(conn)
                if pseudonym_key is not None:
                    log.key_check_recorded = bind_key_check(
                        conn, tables, key_check_value(pseudonym_key), clock(),
                        may_record=may_write)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise database_error(exc, "the audit log database") from exc
        except BaseException:
            engine.dispose()
            raise
        return log

    def close(self) -> None:
        """Finish queued appends, stop the writer thread and release the database."""
        if self._closed:
            return
        self._committer.close()
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _check_meta(self, conn: Connection) -> None:
        meta = load_meta(conn, self._t)
        if meta.origin != self.origin:
            raise StoreError(f"this audit log's origin is {meta.origin!r}, not {self.origin!r}")
        if meta.key_name != self.key_name or meta.vkey != self.vkey:
            raise StoreError(f"this audit log is signed by {meta.vkey}, not {self.vkey}")

    @property
    def tables(self) -> AuditTables:
        """The log's tables (for :mod:`hedui.audit.verify` and tests)."""
        return self._t

    # ------------------------------------------------------------ transactions

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._closed:
            raise StoreError("the audit log is closed")
        try:
            with self._engine.connect() as conn, conn.begin():
                yield conn
        except SQLAlchemyError as exc:  # one line, and damage when the file is damaged
            raise database_error(exc, "the audit log database") from exc

    @contextmanager
    def _write_tx(self) -> Iterator[Connection]:
        """A transaction holding this log's database write lock for its whole length."""
        if self._closed:
            raise StoreError("the audit log is closed")
        with self._engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if self._postgres:  # the lock, and durability whatever the server default
                    conn.execute(self._lock_sql, {"k": self._t.lock_key})
                yield conn

    def _fetch(
        self, conn: Connection, ids: Sequence[NodeID], *, with_size: bool = False
    ) -> tuple[dict[NodeID, bytes], int]:
        """:meth:`_read_nodes` inside ``conn``'s transaction."""
        cur = conn.connection.driver_connection.cursor()
        try:
            return self._read_nodes(cur, ids, with_size=with_size)
        finally:
            cur.close()

    def _read_nodes(
        self, cur: Any, ids: Sequence[NodeID], *, with_size: bool = False
    ) -> tuple[dict[NodeID, bytes], int]:
        """Subtree hashes (level 0 from the leaves table) and the size, in one query on
        a driver cursor."""
        lvl0 = [i for level, i in ids if level == 0]
        upper = [(level, i) for level, i in ids if level > 0]
        if not lvl0 and not upper and not with_size:
            return {}, -1
        params: list[int] = list(lvl0)
        for pair in upper:
            params.extend(pair)
        cur.execute(_nodes_sql(self._leaves_name, self._nodes_name, len(lvl0), len(upper),
                               with_size, self._mark), params)
        out: dict[NodeID, bytes] = {}
        size = -1
        for level, i, h in cur.fetchall():
            if level == -1:
                size = 0 if i is None else i + 1
            else:
                out[(level, i)] = bytes(h)
        return out, size

    def _current_size(self, conn: Connection) -> int:
        last = conn.execute(self._last_leaf_sql).scalar()
        return 0 if last is None else last + 1

    def _require_signer(self) -> SigningKey:
        if self._signing_key is None:
            raise StoreError("this audit log was opened read-only (no signing key)")
        return self._signing_key

    # ------------------------------------------------------------------- reads

    def size(self) -> int:
        """Number of leaves committed so far."""
        with self._read() as conn:
            return self._current_size(conn)

    def leaf(self, index: int) -> bytes:
        """Return the exact bytes of leaf ``index``; requires ``0 <= index < size()``."""
        c = self._t.leaves.c
        with self._read() as conn:
            entry = conn.execute(select(c.entry).where(c.idx == index)).scalar()
        if entry is None:
            raise LogRangeError(f"the audit log has no leaf {index}")
        return bytes(entry)

    def _plans(self, size: int | None, make: Callable[[int], list[ProofPlan]]) -> list[list[bytes]]:
        """Resolve plans for ``size`` (default: current) with one node query, size-checked."""
        with self._read() as conn:
            if size is None:
                size = self._current_size(conn)
            plans = make(size)
            nodes, current = self._fetch(conn, plans_node_ids(plans), with_size=True)
        if size > current:
            raise LogRangeError(f"the audit log has {current} leaves, fewer than {size}")
        try:
            return plans_hashes(plans, nodes)
        except LogRangeError as exc:
            raise TamperError(f"a stored subtree hash is missing: {exc}; run verify") from exc

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash of the first ``size`` leaves (default: all)."""
        out = self._plans(size, lambda n: [root_plan(n)])[0]
        return out[0] if out else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size``.

        Requires ``0 <= index < size <= size()`` (``size`` defaults to the current size).
        """
        return self._plans(size, lambda n: [inclusion_plan(index, n)])[0]

    def evidence(self, indexes: Sequence[int], size: int) -> list[tuple[int, bytes, list[bytes]]]:
        """``(index, entry bytes, inclusion proof)`` for several leaves in one read.

        What a report embeds for its case's entries: one transaction with one node
        query for all proofs and one leaf query, instead of two transactions per entry.
        """
        wanted = sorted(set(indexes))
        if not wanted:
            return []
        batch = inclusion_batch(wanted, size)
        marks = ", ".join([self._mark] * len(wanted))
        with self._read() as conn:
            nodes, current = self._fetch(conn, batch.node_ids(), with_size=True)
            cur = conn.connection.driver_connection.cursor()
            try:
                cur.execute(
                    f"SELECT idx, entry FROM {self._leaves_name} WHERE idx IN ({marks})", wanted
                )
                rows = dict(cur.fetchall())
            finally:
                cur.close()
        if size > current:
            raise LogRangeError(f"the audit log has {current} leaves, fewer than {size}")
        missing = [i for i in wanted if i not in rows]
        if missing:
            raise LogRangeError(f"the audit log has no leaf {missing[0]}")
        try:
            proofs = batch.hashes(nodes)
        except LogRangeError as exc:
            raise TamperError(f"a stored subtree hash is missing: {exc}; run verify") from exc
        return [(i, bytes(rows[i]), proof) for i, proof in zip(wanted, proofs, strict=True)]

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Return the RFC 9162 consistency proof between two sizes.

        Requires ``0 < size1 <= size2 <= size()``.
        """
        plan = consistency_plan(size1, size2)
        return self._plans(size2, lambda _n: [plan])[0]

    # -------------------------------------------------------------- checkpoints

    def latest_checkpoint(self) -> str | None:
        """Return the latest stored signed checkpoint note, or ``None`` before the first."""
        found = self.signed_checkpoint()
        return None if found is None else found[0]

    def signed_checkpoint(self, size: int | None = None) -> tuple[str, Checkpoint] | None:
        """The stored checkpoint of ``size`` leaves (default: the latest), verified against
        this log's key, with its note; ``None`` when none was signed at that size.

        What proofs for third parties are made against: an entry is provable once a
        signed checkpoint covers it, not when it is appended. Raises
        :class:`TamperError` when the stored note does not verify.
        """
        c = self._t.checkpoints.c
        sql = select(c.size, as_stored(c.note, self._engine.dialect.name))
        sql = sql.order_by(c.size.desc()).limit(1) if size is None else sql.where(c.size == size)
        with self._read() as conn:
            row = conn.execute(sql).first()
        if row is None:
            return None
        cp = self._stored_checkpoint(row[0], row[1])
        return stored_text(row[1], "checkpoint note"), cp

    def open_note(self, note: str) -> Checkpoint:
        """Verify a checkpoint note against this log's key and origin; return its content."""
        return open_checkpoint(note, self.key_name, self.verify_key, origin=self.origin)

    def checkpoint(self) -> str:
        """Return the latest signed checkpoint, signing a new one if the tree has grown.

        A new checkpoint is written only after a consistency proof from the previous one
        verifies against the stored tree, under the log's write lock, so two inconsistent
        checkpoints can never both be signed; raises :class:`TamperError` otherwise.
        """
        signing_key = self._require_signer()
        c = self._t.checkpoints.c
        try:
            with self._write_tx() as conn:
                last = conn.execute(
                    select(c.size, as_stored(c.note, conn.dialect.name))
                    .order_by(c.size.desc()).limit(1)
                ).first()
                size = self._current_size(conn)
                prev: Checkpoint | None = None
                if last is not None:
                    prev = self._stored_checkpoint(last[0], last[1])
                    if prev.size == size:
                        return stored_text(last[1], "checkpoint note")
                    if prev.size > size:
                        raise TamperError(
                            f"checkpoint {prev.size} was signed but the log has only {size} "
                            f"leaves: leaves from {size} on are missing",
                            leaf_index=size,
                            checkpoint_size=prev.size,
                        )
                r_plan = root_plan(size)
                c_plan = consistency_plan(prev.size, size) if prev and prev.size else None
                ids = r_plan.node_ids() + (c_plan.node_ids() if c_plan else [])
                nodes, _ = self._fetch(conn, ids)
                try:
                    root = r_plan.hashes(nodes)[0] if size else EMPTY_ROOT
                    proof = c_plan.hashes(nodes) if c_plan else []
                except LogRangeError as exc:
                    raise TamperError(f"a stored subtree hash is missing: {exc}") from exc
                if prev is not None:
                    self._check_extends(prev, size, root, proof)
                note = sign_checkpoint(
                    Checkpoint(self.origin, size, root), self.key_name, signing_key
                )
                conn.execute(
                    self._t.checkpoints.insert().values(
                        size=size, note=note, created_at=self._clock()
                    )
                )
                return note
        except SQLAlchemyError as exc:
            raise StoreError(f"writing a checkpoint failed: {exc}") from exc

    def _stored_checkpoint(self, size: int, note: object) -> Checkpoint:
        return stored_checkpoint(self._t, size, note, key_name=self.key_name,
                                 verify_key=self.verify_key, origin=self.origin)

    @staticmethod
    def _check_extends(prev: Checkpoint, size: int, root: bytes, proof: list[bytes]) -> None:
        try:
            if prev.size == 0:
                if not hmac.compare_digest(prev.root, EMPTY_ROOT):
                    raise ProofError("the size-0 checkpoint does not hold the empty root")
            else:
                verify_consistency(prev.size, size, proof, prev.root, root)
        except ProofError as exc:
            raise TamperError(
                f"the stored tree of {size} leaves does not extend checkpoint {prev.size}: {exc}",
                checkpoint_size=prev.size,
            ) from exc

    # ------------------------------------------------------------------ verify

    def verify_all(self) -> int:
        """Recompute the whole log from its stored entries and check everything stored.

        Streams the leaves in index order and checks, naming the first fault in a
        :class:`TamperError`: no missing index (deleted row), each entry's leaf hash, each
        row bound to its index (moved row), every stored subtree hash, no stored subtree
        beyond the last leaf, then every checkpoint's signature, origin, size and root
        against the recomputed tree (which also proves them mutually consistent).
        Runs in one snapshot, so concurrent appends do not disturb it. Returns the
        number of leaves verified; any damage, of any stored byte, is a TamperError
        naming its table and row (:mod:`hedui.audit.verify`).
        """
        if self._closed:
            raise StoreError("the audit log is closed")
        try:
            with self._engine.connect() as conn:
                if self._postgres:
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    return verify_log(self, conn)
        except SQLAlchemyError as exc:
            raise database_error(exc, "the audit log database") from exc

    def iter_entries(
        self, start: int = 0, stop: int | None = None, *, batch: int = 5000
    ) -> Iterator[tuple[int, bytes]]:
        """Yield ``(leaf index, entry bytes)`` in index order from ``start`` up to ``stop``.

        Reads in batches of ``batch`` rows, each in its own short transaction, so a long
        scan (a privacy officer's search) never holds a snapshot open.
        """
        c = self._t.leaves.c
        sql = (
            select(c.idx, c.entry)
            .where(c.idx >= bindparam("lo"), c.idx < bindparam("hi"))
            .order_by(c.idx)
            .limit(batch)
        )
        end = (1 << 63) - 1 if stop is None else stop
        while start < end:
            with self._read() as conn:
                rows = conn.execute(sql, {"lo": start, "hi": end}).all()
            for idx, entry in rows:
                yield idx, bytes(entry)
            if len(rows) < batch:
                return
            start = rows[-1][0] + 1

    # --------------------------------------------------------------- helpers

    def pseudonym(self, id_number: str) -> str:
        """Return the pseudonym of a resident ID number under this log's key."""
        if self.pseudonymizer is None:
            raise AuditError("this audit log was opened without a pseudonym key")
        return self.pseudonymizer.pseudonym(id_number)

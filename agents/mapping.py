"""The SQLAlchemy mapping adapter: a department's own tables, read as hedui records.

``MappingSource`` implements ``RecordSource`` from a mapping file (TOML) that the
department's IT staff write: for each part of the record message, one SQL statement
over their own tables and, for each field, the column it comes from and how to read
it (codes, units, date formats). See ``deploy/agents/*.toml`` for one per department.

Three promises hold whatever the file says:

* **bound parameters only** — the subjects' ID numbers reach the database as the
  expanding parameter ``:ids``; no text from a query is ever pasted into SQL;
* **read-only** — SQLite files are opened with ``mode=ro`` and ``PRAGMA
  query_only``; PostgreSQL sessions have ``default_transaction_read_only = on`` and
  every transaction is started READ ONLY, so even a ``DELETE`` in a mapping fails;
* **one statement per block** for all subjects of a query, not one per person.

``check()`` reports every problem at once, each with the file and line to fix. It
runs every block through ``_run``, the very function serving uses, so a block that
would fail a query fails the check; ``sample()`` runs them on real ID numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from hedui.agents.mapping_config import (
    AsOfQuery,
    Block,
    CompiledMapping,
    FieldSpec,
    MappingError,
    load,
)
from hedui.agents.mapping_engine import read_only_engine, redact_url
from hedui.agents.mapping_sql import (
    Rows,
    cause_of,
    column_index,
    compile_block,
    detail_of,
    is_driver_error,
    norm,
    reason_of,
)
from hedui.agents.mapping_values import ValueProblem
from hedui.agents.source import Problem, SourceUnavailable

__all__ = ["BlockRun", "MappingError", "MappingSource"]

log = logging.getLogger(__name__)

#: subjects per statement; well under SQLite's and PostgreSQL's parameter limits
BATCH = 500
#: how long a data_as_of query result is reused
AS_OF_SECONDS = 60.0
#: the ID number check runs each block for: well-formed, and nobody's
PROBE_ID = "000000000000000000"


class BlockRun:
    """What one block gave for some ID numbers, run as serving runs it (for ``sample``)."""

    def __init__(self, block: Block, rows: int, records: dict[str, Message]) -> None:
        self.block = block
        self.rows = rows  # rows of the subjects asked for (others are dropped)
        self.records = records  # by ID number as given


class MappingSource:
    """A department's records from its own database, as a mapping file describes.

    ``config`` is a mapping file path or an already-parsed dict (``{here}`` then
    means the current directory). ``database_url_override`` wins over the file's
    ``database`` and ``database_env``. Construction reads and compiles the file but
    does not connect; call ``check()`` before serving. Thread-safe.
    """

    def __init__(self, config: Path | str | Mapping[str, Any],
                 database_url_override: str | None = None, *,
                 environ: Mapping[str, str] | None = None,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self._m: CompiledMapping = load(config)
        self.department: str = self._m.department
        self._environ = os.environ if environ is None else environ
        self._today = today
        self._override = database_url_override
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._thread_reader = threading.local()
        self._readers: list[Any] = []
        self._as_of: tuple[float, dt.date] | None = None
        self._blocks = [b for b in self._m.blocks if b.usable and b.statement is not None]
        self._held = frozenset().union(*(b.leaves for b in self._blocks))
        self._plan = lru_cache(maxsize=256)(self._make_plan)
        self._compiled: dict[tuple[str, int], tuple[str, list[Any] | None, bool]] = {}
        self._layouts: dict[tuple[str, tuple[str, ...], tuple[str, ...]],
                            tuple[int, list[tuple[FieldSpec, int | None]]]] = {}

    # -- RecordSource ---------------------------------------------------------

    def held_paths(self) -> frozenset[str]:
        """The leaf paths the mapping fills (blocks with problems excluded)."""
        return self._held

    def fetch(self, id_numbers: Sequence[str], paths: frozenset[str]) -> dict[str, Message]:
        """Records for the ID numbers; one SQL statement per needed block per 500 IDs.

        Only blocks holding a requested path run, and only requested fields are set.
        An ID with no rows in any block run is absent from the result, unless the
        mapping has [subjects], which marks persons the department knows.
        """
        plan = self._plan(frozenset(paths))
        subjects = self._m.subjects
        if not id_numbers or (not plan and subjects is None):
            return {}
        given = {i.strip().upper(): i for i in id_numbers}
        keys = list(given)
        records: dict[str, Message] = {}
        record_type = self._m.record_type
        try:
            with self._reading() as (cursor, dialect):
                for start in range(0, len(keys), BATCH):
                    chunk = keys[start:start + BATCH]
                    if subjects is not None and subjects.statement is not None:
                        result = self._run(cursor, dialect, subjects, chunk)
                        k = column_index(result.keys(), subjects.key, subjects)
                        for row in result:
                            sid = norm(row[k])
                            if sid in given and sid not in records:
                                records[sid] = record_type()
                    for block, fields in plan:
                        result = self._run(cursor, dialect, block, chunk)
                        self._fill(block, fields, result, given, records)
        except SQLAlchemyError as err:
            raise SourceUnavailable(f"{self.department} database: {reason_of(err)}",
                                    cause=cause_of(err)) from None
        except Exception as err:
            if is_driver_error(err):
                raise SourceUnavailable(f"{self.department} database: {cause_of(err)}",
                                        cause=cause_of(err)) from None
            raise
        return {given[k]: rec for k, rec in records.items()}

    def run_block(self, block: Block, id_numbers: Sequence[str]) -> BlockRun:
        """One block for ``id_numbers`` through the serving path: ``_run`` and ``_fill``.

        For ``hedui agent check --sample``: what each block alone gives real persons.
        Raises SourceUnavailable (naming the block) as ``fetch`` would.
        """
        given = {i.strip().upper(): i for i in id_numbers}
        keys = list(given)
        records: dict[str, Message] = {}
        rows = 0
        with self._reading() as (cursor, dialect):
            for start in range(0, len(keys), BATCH):
                result = self._run(cursor, dialect, block, keys[start:start + BATCH])
                rows += self._fill(block, tuple(block.fields), result, given, records)
        return BlockRun(block, rows, {given[k]: rec for k, rec in records.items()})

    def first_column(self, statement: Any) -> list[Any]:
        """The first column of a statement that names no ID numbers, read-only: how
        ``check --sample`` lists the ID numbers a block holds."""
        with self._connect() as conn:
            return [row[0] for row in conn.execute(statement)]

    @property
    def blocks(self) -> list[Block]:
        """The blocks serving runs (those without problems), in file order."""
        return list(self._blocks)

    @property
    def mapping(self) -> CompiledMapping:
        """The compiled mapping file (for tools that report against its lines)."""
        return self._m

    def data_as_of(self) -> dt.date:
        """The mapping's fixed date, its query's answer (cached a minute), or today."""
        as_of = self._m.data_as_of
        if as_of is None:
            return self._today()
        if isinstance(as_of, dt.date):
            return as_of
        now = time.monotonic()
        cached = self._as_of
        if cached is not None and now - cached[0] < AS_OF_SECONDS:
            return cached[1]
        try:
            with self._connect() as conn:
                value = conn.execute(as_of.statement).scalar()
        except SQLAlchemyError as err:
            raise SourceUnavailable(f"{self.department} database: {reason_of(err)}") from None
        try:
            parsed = as_of.parse(value)
        except ValueProblem:
            parsed = None
        if parsed is None:
            raise SourceUnavailable(f"{self.department}: data_as_of query gave no date")
        day = dt.date(parsed[0], parsed[1], parsed[2] or 1)
        self._as_of = (now, day)
        return day

    def check(self) -> list[Problem]:
        """Every problem of the mapping against the live database, in file order.

        Static problems (unknown fields, enum values, units, formats) come from the
        file; then each block's SQL is run through ``_run`` — the function serving
        uses, not a look-alike — for an ID number nobody has, so it reads no one's
        rows and fails exactly when a query would; every key and field column is then
        looked up among the columns it returned.
        """
        m = self._m
        found: list[tuple[tuple[str, ...], str]] = [(i.at, i.message) for i in m.issues]
        try:
            url = self._url()
        except MappingError as err:
            found.append((self._db_key(), str(err)))
            url = None
        if url is not None:
            try:
                with self._connect() as conn:
                    conn.execute(text("SELECT 1"))
                    if isinstance(m.data_as_of, AsOfQuery):
                        found.extend(self._check_as_of(conn, m.data_as_of))
                blocks = [b for b in ([m.subjects] if m.subjects else []) + m.blocks
                          if b.statement is not None]
                for block in blocks:
                    found.extend(self._check_block(block))
            except SQLAlchemyError as err:
                found.append((self._db_key(), f"cannot open the database "
                              f"{redact_url(url)}: {reason_of(err)}"))
            except SourceUnavailable as err:
                found.append((self._db_key(), str(err)))
        problems = [(m.lines.line(at) if m.lines else None, Problem(m.where(at),
                     f"{'.'.join(at)}: {msg}" if at else msg)) for at, msg in found]
        problems.sort(key=lambda p: p[0] or 0)
        return [p for _, p in problems]

    def close(self) -> None:
        """Release the connections and the pool."""
        with self._lock:
            readers, self._readers = self._readers, []
            for dbapi in readers:
                dbapi.close()
            self._thread_reader = threading.local()
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _reader(self, engine: Engine) -> tuple[Any, bool]:
        """A driver connection for one fetch, and whether it goes back to the pool after.

        A SQLite file is read through one connection per thread, kept open: checking a
        connection out of the pool and resetting it cost more than a lookup. A database
        server's connections come from the pool, which tests them before use.
        """
        if engine.dialect.name != "sqlite":
            return engine.raw_connection(), True
        dbapi = getattr(self._thread_reader, "dbapi", None)
        if dbapi is None:
            dbapi = engine.raw_connection()
            self._thread_reader.dbapi = dbapi
            with self._lock:
                self._readers.append(dbapi)
        return dbapi, False

    # -- internals ------------------------------------------------------------

    def _make_plan(self, paths: frozenset[str]) -> tuple[tuple[Block, tuple[FieldSpec, ...]], ...]:
        plan = []
        for block in self._blocks:
            fields = tuple(f for f in block.fields if _wanted(f.leaf, paths))
            if fields:
                plan.append((block, fields))
        return tuple(plan)

    @contextmanager
    def _reading(self) -> Iterator[tuple[Any, Any]]:
        """A driver cursor inside one read transaction, and the dialect to compile for.

        On SQLite every block of a fetch reads one snapshot under one read lock; the
        transaction is always rolled back after, so no snapshot outlives its use.
        """
        engine = self._engine_for_reads()
        dbapi, pooled = self._reader(engine)  # the driver's own: see _run
        try:
            cursor = dbapi.cursor()
            try:
                if engine.dialect.name == "sqlite":
                    cursor.execute("BEGIN")
                yield cursor, engine.dialect
            finally:
                cursor.close()
        finally:
            try:
                dbapi.rollback()
            finally:
                if pooled:
                    dbapi.close()

    def _run(self, cursor: Any, dialect: Any, block: Block, chunk: list[str]) -> Rows:
        """Run a block's SQL for ``chunk`` on the raw driver cursor — the one way any
        block is ever executed (serving, ``check`` and ``sample`` alike).

        The statement is compiled once per (block, number of IDs) with SQLAlchemy —
        bound parameters only, the expanding ``:ids`` rendered as placeholders — and
        then executed by the driver directly: SQLAlchemy's per-execution result
        machinery cost ~0.25 ms a block, more than the lookup itself. ``:ids`` may
        appear several times (``a IN :ids OR b IN :ids`` for pair tables): each
        placeholder is matched to its ID by name, not by position in ``chunk``.
        A database error is raised as SourceUnavailable naming the block.
        """
        key = (block.name, len(chunk))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = compile_block(block, dialect, len(chunk))
        sql, picks, positional = compiled
        try:
            if not positional:
                assert picks is not None
                cursor.execute(sql, {name: chunk[i] for name, i in picks})
            elif picks is None:
                cursor.execute(sql, chunk)
            else:
                cursor.execute(sql, [chunk[i] for i in picks])
            return Rows([d[0] for d in cursor.description], cursor.fetchall())
        except Exception as err:
            if not is_driver_error(err):
                raise
            cause = cause_of(err)
            raise SourceUnavailable(f"{self.department} database: mapping block "
                                    f"{block.name}: {cause}", block=block.name,
                                    cause=cause) from None

    def _layout(self, block: Block, fields: tuple[FieldSpec, ...], columns: tuple[str, ...]
                ) -> tuple[int, list[tuple[FieldSpec, int | None]]]:
        """Where the key and each field sit in a block's result columns (the same for
        every query of a block, so looked up once)."""
        key = (block.name, tuple(f.leaf for f in fields), columns)
        layout = self._layouts.get(key)
        if layout is None:
            layout = (column_index(columns, block.key, block),
                      [(f, None if f.column is None else column_index(columns, f.column, block))
                       for f in fields])
            self._layouts[key] = layout
        return layout

    def _fill(self, block: Block, fields: tuple[FieldSpec, ...], result: Any,
              given: Mapping[str, str], records: dict[str, Message]) -> int:
        """Set the block's fields from its rows; returns how many rows were the subjects'."""
        k, setters = self._layout(block, fields, tuple(result.keys()))
        parents, last = block.steps[:-1], block.steps[-1]
        seen: set[str] = set()
        record_type = self._m.record_type
        kept = 0
        for row in result:
            sid = norm(row[k])
            if sid not in given:
                continue  # a join or a careless SQL may return other persons: drop them
            kept += 1
            rec = records.get(sid)
            if rec is None:
                rec = records[sid] = record_type()
            msg: Any = rec
            for name, _ in parents:
                msg = getattr(msg, name)
            if last[1]:
                msg = getattr(msg, last[0]).add()
            else:
                if sid in seen:
                    continue  # singular part: the first row wins (order by in the SQL)
                seen.add(sid)
                msg = getattr(msg, last[0])
                msg.SetInParent()
            for spec, i in setters:
                if i is None:
                    value = spec.constant
                else:
                    try:
                        value = spec.convert(row[i])
                    except ValueProblem as err:
                        log.warning("mapping %s: %s (column %s) skipped: %s",
                                    self.department, spec.leaf, spec.column, err)
                        continue
                if value is None:
                    continue
                target = msg
                for name in spec.steps[:-1]:
                    target = getattr(target, name)
                if spec.is_date:
                    d = getattr(target, spec.steps[-1])
                    d.year, d.month, d.day = value
                else:
                    setattr(target, spec.steps[-1], value)
        return kept

    def _db_key(self) -> tuple[str, ...]:
        if self._m.database_env is not None and self._m.database is None:
            return ("database_env",)
        return ("database",) if self._m.database is not None else ("department",)

    def _url(self) -> str:
        if self._override:
            return self._override
        m = self._m
        if m.database_env:
            value = self._environ.get(m.database_env)
            if value:
                return value
            if m.database is None:
                raise MappingError(f"environment variable {m.database_env} is not set")
        if m.database is None:
            raise MappingError("no database configured")
        return m.database.replace("{here}", m.here.as_posix())

    def _engine_for_reads(self) -> Any:
        engine = self._engine
        if engine is not None:
            return engine
        with self._lock:
            if self._engine is None:
                try:
                    self._engine = read_only_engine(self._url())
                except MappingError as err:
                    raise SourceUnavailable(f"{self.department}: {err}") from None
            return self._engine

    def _connect(self) -> Any:
        return self._engine_for_reads().connect()

    def _check_block(self, block: Block) -> list[tuple[tuple[str, ...], str]]:
        """Run the block for one probe ID exactly as serving would, then look up its
        key and field columns among the columns it returned."""
        out: list[tuple[tuple[str, ...], str]] = []
        try:
            with self._reading() as (cursor, dialect):
                columns = list(self._run(cursor, dialect, block, [PROBE_ID]).keys())
        except SourceUnavailable as err:
            if err.block is None:
                raise  # the database itself, not this block: one problem for the file
            return [((*block.at, "sql"), f"the SQL fails: {detail_of(err.cause)}")]
        lower = {c.lower() for c in columns}
        returned = ", ".join(columns)
        if block.key and block.key.lower() not in lower:
            out.append(((*block.at, "key"), f"key column {block.key!r} is not among the "
                        f"columns the SQL returns ({returned})"))
        for f in block.fields:
            if f.column is not None and f.column.lower() not in lower:
                at = (*f.at, "column") if f.at else f.at
                out.append((at, f"column {f.column!r} is not among the columns the SQL "
                            f"returns ({returned})"))
        return out

    def _check_as_of(self, conn: Any, as_of: AsOfQuery) -> list[tuple[tuple[str, ...], str]]:
        try:
            value = conn.execute(as_of.statement).scalar()
        except SQLAlchemyError as err:
            conn.rollback()
            return [(as_of.at, f"the SQL fails: {reason_of(err)}")]
        try:
            parsed = as_of.parse(value)
        except ValueProblem as err:
            return [(as_of.at, f"the SQL returns {value!r}: {err}")]
        if parsed is None:
            return [(as_of.at, "the SQL returns no date (empty table?)")]
        return []


def _wanted(leaf: str, paths: frozenset[str]) -> bool:
    if leaf in paths:
        return True
    return any(leaf.startswith(p + ".") or p.startswith(leaf + ".") for p in paths)

"""Recomputing a whole log from its stored rows, naming the first damaged one.

:func:`verify_log` is the body of :meth:`AuditLog.verify_all`, split from the store so
the one place that reads every stored byte can treat every byte as hostile. Whatever a
tamperer (or a failing disk) leaves in a row — other bytes, other types, text that is
not UTF-8 — ends in :class:`TamperError` naming the table and the row, leaf or subtree,
never in a driver's exception: ``hedui audit verify`` prints it as one line,
``AUDIT LOG DAMAGED: …``.

What cannot be proved: the ``created_at`` times are not signed (the checkpoint format
has no time); verification only checks that they are times.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from nacl.signing import VerifyKey
from sqlalchemy import Connection, and_, bindparam, func, inspect, or_, select
from sqlalchemy.exc import SQLAlchemyError

from hedui.audit.checkpoint import Checkpoint, open_checkpoint
from hedui.audit.errors import CheckpointError, StoreError, TamperError
from hedui.audit.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash
from hedui.audit.meta import (
    as_stored,
    database_error,
    load_key_check,
    load_meta,
    stored_bytes,
    stored_text,
)
from hedui.audit.meta import stored_time as _stored_time
from hedui.audit.proof_build import CompactRange, NodeID
from hedui.audit.schema import AuditTables, row_hash

if TYPE_CHECKING:
    from hedui.audit.store import AuditLog

#: leaves per chunk streamed by verify_log (bounds its memory)
VERIFY_CHUNK = 1 << 14


class _Where:
    """The table and row being read, so an unforeseen fault still names its place."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        self.text = "the log's tables"


@contextmanager
def damage_named(where: _Where) -> Iterator[None]:
    """Turn an exception a damaged value may raise into :class:`TamperError` at ``where``;
    a database that cannot be read at all is damage too, a lost connection is not."""
    try:
        yield
    except (TamperError, StoreError):
        raise
    except SQLAlchemyError as exc:
        raise database_error(exc, where.text) from exc
    except (ValueError, TypeError, KeyError, OverflowError, UnicodeError,
            CheckpointError) as exc:
        raise TamperError(f"{where.text} holds a value no hedui wrote "
                          f"({type(exc).__name__}: {exc})") from exc


def stored_checkpoint(tables: AuditTables, size: int, note: object, *, key_name: str,
                      verify_key: VerifyKey, origin: str) -> Checkpoint:
    """The checkpoint in stored row ``size``, verified; :class:`TamperError` otherwise."""
    text = stored_text(note, f"table {tables.checkpoints.name}, checkpoint {size}, note")
    try:
        cp = open_checkpoint(text, key_name, verify_key)
    except CheckpointError as exc:
        raise TamperError(
            f"stored checkpoint {size} is invalid: {exc}", checkpoint_size=size
        ) from exc
    if cp.origin != origin:
        raise TamperError(
            f"signed checkpoint {size} is for the log {cp.origin!r}, but table "
            f"{tables.meta.name} names the log {origin!r}: its origin or this checkpoint "
            "row was changed",
            checkpoint_size=size,
        )
    if cp.size != size:
        raise TamperError(
            f"stored checkpoint {size} holds the signed note for size {cp.size}: its row "
            "was changed",
            checkpoint_size=size,
        )
    return cp


def verify_log(log: AuditLog, conn: Connection) -> int:
    """Check every stored row of ``log`` inside ``conn``'s snapshot (see verify_all);
    return the number of leaves."""
    where = _Where()
    with damage_named(where):
        t = log.tables
        where.text = f"table {t.meta.name}"
        meta = load_meta(conn, t)
        if meta.origin != log.origin:
            raise StoreError(f"this audit log's origin is {meta.origin!r}, not {log.origin!r}")
        if meta.key_name != log.key_name or meta.vkey != log.vkey:
            raise StoreError(f"this audit log is signed by {meta.vkey}, not {log.vkey}")
        where.text = f"table {t.pseudonym_key.name}"
        if inspect(conn).has_table(t.pseudonym_key.name, schema=t.schema):
            load_key_check(conn, t)
        n, roots = _verify_tree(conn, t, where)
        where.text = f"table {t.leaves.name} and {t.nodes.name} beyond leaf {n}"
        _check_end(conn, t, n)
        _verify_checkpoints(log, conn, n, roots, where)
        return n


def _verify_tree(conn: Connection, t: AuditTables, where: _Where
                 ) -> tuple[int, dict[int, bytes]]:
    d = conn.dialect.name
    cp_sizes = set(conn.execute(select(t.checkpoints.c.size)).scalars())
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    cr = CompactRange()
    n = 0
    lc = t.leaves.c
    leaf_sql = (
        # read as stored: a tamperer may store text where bytes belong; it must read as
        # bytes (and fail its leaf hash) rather than crash the driver's text decoding
        select(lc.idx, as_stored(lc.entry, d), as_stored(lc.leaf_hash, d),
               as_stored(lc.row_hash, d))
        .where(lc.idx >= bindparam("lo"), lc.idx < bindparam("hi"))
        .order_by(lc.idx)
    )
    name = t.leaves.name
    while True:
        lo, hi = n, n + VERIFY_CHUNK
        where.text = f"table {t.nodes.name} over leaves {lo}..{hi - 1}"
        stored = _completed_nodes(conn, t, lo, hi)
        where.text = f"table {name} from leaf {lo}"
        for idx, entry, lh, rh in conn.execute(leaf_sql, {"lo": lo, "hi": hi}):
            where.text = f"table {name}, leaf {n}"
            if idx != n:
                raise TamperError(
                    f"leaf {n} is missing (the next stored leaf is {idx})", leaf_index=n
                )
            h = leaf_hash(stored_bytes(entry, f"table {name}, leaf {n}, entry"))
            if h != stored_bytes(lh, f"table {name}, leaf {n}, leaf_hash"):
                raise TamperError(
                    f"leaf {n} was changed: its entry does not match its stored leaf hash",
                    leaf_index=n,
                )
            if stored_bytes(rh, f"table {name}, leaf {n}, row_hash") != row_hash(n, h):
                raise TamperError(
                    f"leaf {n} was moved or rewritten: its row is not bound to index {n}",
                    leaf_index=n,
                )
            for level, i, nh in cr.append(h)[1:]:
                _check_node(stored, level, i, nh)
            n += 1
            if n in cp_sizes:
                roots[n] = cr.root()
        if n < hi:
            return n, roots


def _completed_nodes(conn: Connection, t: AuditTables, lo: int, hi: int
                     ) -> dict[NodeID, bytes]:
    """Stored subtrees of level >= 1 whose last leaf is in ``[lo, hi)``."""
    c = t.nodes.c
    ranges = []
    for level in range(1, 64):
        first, last = lo >> level, (hi >> level) - 1
        if first <= last:
            ranges.append(and_(c.level == level, c.idx.between(first, last)))
        elif hi >> level == 0:
            break
    if not ranges:
        return {}
    rows = conn.execute(
        select(c.level, c.idx, as_stored(c.hash, conn.dialect.name)).where(or_(*ranges)))
    out: dict[NodeID, bytes] = {}
    for level, i, h in rows:
        where = f"table {t.nodes.name}, subtree (level {level}, index {i}), hash"
        out[(level, i)] = stored_bytes(h, where)
        if len(out[(level, i)]) != HASH_SIZE:
            raise TamperError(f"{where} is {len(out[(level, i)])} bytes, not {HASH_SIZE}",
                              node=(level, i))
    return out


def _check_node(stored: dict[NodeID, bytes], level: int, i: int, computed: bytes) -> None:
    got = stored.get((level, i))
    first, last = i << level, ((i + 1) << level) - 1
    if got is None:
        raise TamperError(
            f"the stored hash of subtree (level {level}, index {i}) over leaves "
            f"{first}..{last} is missing",
            node=(level, i),
        )
    if got == computed:
        return
    if level == 1:  # both leaves passed their own checks: the pair was rewritten
        raise TamperError(
            f"leaves {first} and {last} do not hash to their stored parent: leaf "
            f"{first} or {last} was rewritten",
            leaf_index=first,
            node=(level, i),
        )
    raise TamperError(  # its children matched, so this stored hash itself was changed
        f"the stored hash of subtree (level {level}, index {i}) over leaves "
        f"{first}..{last} was changed",
        node=(level, i),
    )


def _check_end(conn: Connection, t: AuditTables, n: int) -> None:
    """No leaf or subtree row may lie beyond the ``n`` leaves read in order."""
    lc, nc = t.leaves.c, t.nodes.c
    count, low, high = conn.execute(
        select(func.count(), func.min(lc.idx), func.max(lc.idx))
    ).one()
    if low is not None and low < 0:
        raise TamperError(f"a leaf row has the invalid index {low}", leaf_index=low)
    if high is not None and high >= n:
        raise TamperError(f"leaf {n} is missing (stored leaves go on to {high})", leaf_index=n)
    if count != n:  # defensive: unreachable with a primary key on idx
        raise TamperError(f"{count} leaf rows for {n} leaves", leaf_index=n)
    expected = n - n.bit_count()
    if conn.execute(select(func.count()).select_from(t.nodes)).scalar() == expected:
        return
    beyond = or_(
        nc.level < 1,
        nc.level > 63,
        nc.idx < 0,
        *[and_(nc.level == lv, nc.idx >= n >> lv) for lv in range(1, 64)],
    )
    row = conn.execute(select(nc.level, nc.idx).where(beyond).order_by(nc.idx).limit(1)).first()
    if row is not None:
        raise TamperError(
            f"stored subtree (level {row.level}, index {row.idx}) covers leaves beyond "
            f"the {n} stored: leaves from {n} on are missing",
            leaf_index=n,
            node=(row.level, row.idx),
        )
    raise TamperError(f"table {t.nodes.name} does not have the {expected} rows of {n} leaves")


def _verify_checkpoints(log: AuditLog, conn: Connection, n: int, roots: dict[int, bytes],
                        where: _Where) -> None:
    t = log.tables
    c = t.checkpoints.c
    d = conn.dialect.name
    rows = conn.execute(
        select(c.size, as_stored(c.note, d), as_stored(c.created_at, d)).order_by(c.size))
    for size, note, created in rows:
        where.text = f"table {t.checkpoints.name}, checkpoint {size}"
        cp = stored_checkpoint(t, size, note, key_name=log.key_name,
                               verify_key=log.verify_key, origin=log.origin)
        _stored_time(created, f"{where.text}, created_at")
        if size > n:
            raise TamperError(
                f"checkpoint {size} was signed but the log has only {n} leaves: "
                f"leaves from {n} on are missing",
                leaf_index=n,
                checkpoint_size=size,
            )
        if not hmac.compare_digest(cp.root, roots[size]):
            raise TamperError(
                f"checkpoint {size} does not match the stored leaves: the log's first "
                f"{size} leaves were rewritten after it was signed",
                checkpoint_size=size,
            )

"""The database itself refuses to change or remove audit rows (both backends)."""

from __future__ import annotations

import pytest
from audit_testlib import table
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from hedui.audit.store import AuditLog

CHANGES = {
    "leaves": ("UPDATE {t} SET entry = :b WHERE idx = 0", "DELETE FROM {t} WHERE idx = 0"),
    "nodes": ("UPDATE {t} SET hash = :b WHERE level = 1", "DELETE FROM {t} WHERE level = 1"),
    "checkpoints": ("UPDATE {t} SET note = 'x'", "DELETE FROM {t}"),
    "meta": ("UPDATE {t} SET origin = 'x'", "DELETE FROM {t}"),
}


@pytest.fixture
def filled(log: AuditLog) -> AuditLog:
    log.append_many([b"a", b"b", b"c", b"d"])
    log.checkpoint()
    return log


@pytest.mark.parametrize("name", sorted(CHANGES))
@pytest.mark.parametrize("op", ["update", "delete"])
def test_update_and_delete_are_refused(
    filled: AuditLog, raw_engine: Engine, backend: dict[str, object], name: str, op: str
) -> None:
    sql = CHANGES[name][0 if op == "update" else 1].format(t=table(backend, name))
    params = {"b": b"forged"} if ":b" in sql else {}
    with pytest.raises(DBAPIError, match="append-only"), raw_engine.begin() as conn:
        conn.execute(text(sql), params)
    filled.verify_all()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_insert_or_replace_is_refused(
    filled: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    """REPLACE deletes without firing delete triggers: insert triggers must catch it."""
    leaves = table(backend, "leaves")
    for sql in [
        f"INSERT OR REPLACE INTO {leaves} VALUES (1, x'00', x'00', x'00')",
        f"INSERT INTO {leaves} VALUES (9, x'00', x'00', x'00')",  # a gap
        f"INSERT OR REPLACE INTO {table(backend, 'nodes')} VALUES (1, 0, x'00')",
        f"INSERT OR REPLACE INTO {table(backend, 'checkpoints')} VALUES (4, 'x', '2024')",
        f"INSERT OR REPLACE INTO {table(backend, 'meta')} VALUES (1, 'o', 'k', 'v', 1, '2024')",
    ]:
        with pytest.raises(DBAPIError, match="append-only"), raw_engine.begin() as conn:
            conn.execute(text(sql))
    filled.verify_all()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_truncate_and_upsert_are_refused(
    filled: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    for name in CHANGES:
        with pytest.raises(DBAPIError, match="append-only"), raw_engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table(backend, name)} CASCADE"))
    leaves = table(backend, "leaves")
    with pytest.raises(DBAPIError, match="append-only"), raw_engine.begin() as conn:
        conn.execute(text(
            f"INSERT INTO {leaves} VALUES (0, 'x', 'x', 'x') "
            "ON CONFLICT (idx) DO UPDATE SET entry = excluded.entry"
        ))  # fmt: skip
    filled.verify_all()

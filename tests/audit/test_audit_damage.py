"""Damage to any stored byte is named by the real `hedui audit verify`, never a traceback.

An attacker (or a failing disk) drops the append-only triggers and flips one bit of one
stored value — in every kind of column the log has: entry bytes, hashes, indexes, signed
notes, the meta row's text and numbers, the pseudonym key check, the times. The
command must exit 1 with one line ``AUDIT LOG DAMAGED: …`` naming the table, row, leaf,
subtree or checkpoint. The ``created_at`` times and the check value's hex digits are not
signed: a flip that leaves a valid time (or valid hex) is undetectable by verify, so for
those the test accepts "intact" too, never a crash (the check value is then refused
by the next search: tests/audit/test_audit_key_check.py).
"""

from __future__ import annotations

import contextlib
import io
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from audit_testlib import KEY_NAME, ORIGIN, drop_triggers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey
from sqlalchemy import create_engine, text

from hedui import cli
from hedui.audit.store import AuditLog

KEY = bytes(range(32))
N = 13  # an odd size: the right edge has subtrees of several levels
LOCATION = re.compile(
    r"leaf \d+|leaves \d+|checkpoint \d+|subtree \(level \S+, index \S+\)|table audit_\w+"
    r"|the database file")


@dataclass(frozen=True)
class Column:
    table: str
    column: str
    where: str  # picks the row
    kind: str  # blob | text | int | time
    signed: bool = True  # False: verify cannot tell every flip (an unsigned value)


COLUMNS = [
    Column("audit_leaves", "entry", "idx = 5", "blob"),
    Column("audit_leaves", "leaf_hash", "idx = 12", "blob"),
    Column("audit_leaves", "row_hash", "idx = 0", "blob"),
    Column("audit_leaves", "idx", "idx = 6", "int"),
    Column("audit_nodes", "hash", "level = 2 AND idx = 1", "blob"),
    Column("audit_nodes", "level", "level = 1 AND idx = 5", "int"),
    Column("audit_nodes", "idx", "level = 3 AND idx = 0", "int"),
    Column("audit_checkpoints", "note", "size = 8", "text"),
    Column("audit_checkpoints", "size", "size = 13", "int"),
    Column("audit_checkpoints", "created_at", "size = 4", "time", signed=False),
    Column("audit_meta", "origin", "id = 1", "text"),
    Column("audit_meta", "key_name", "id = 1", "text"),
    Column("audit_meta", "vkey", "id = 1", "text"),
    Column("audit_meta", "layout", "id = 1", "int"),
    Column("audit_meta", "created_at", "id = 1", "time", signed=False),
    Column("audit_pseudonym_key", "check_value", "id = 1", "text", signed=False),
    Column("audit_pseudonym_key", "created_at", "id = 1", "time", signed=False),
]


def hedui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hedui.cli", *args], capture_output=True,
                          text=True, timeout=120)


def make_log(url: str) -> None:
    """13 entries, checkpoints at 4, 8 and 13, the pseudonym key's check value."""
    log = AuditLog.create(url, origin=ORIGIN, key_name=KEY_NAME,
                          signing_key=SigningKey(b"\x09" * 32), pseudonym_key=KEY)
    for i in range(N):
        log.append(f"access {i}: case c-{i % 3}, purpose dibao".encode())
        if i + 1 in (4, 8, N):
            log.checkpoint()
    log.close()


def assert_damage_named(result: subprocess.CompletedProcess, col: Column) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    if not col.signed and result.returncode == 0:
        assert "intact" in result.stdout
        return
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("AUDIT LOG DAMAGED: "), line
    assert LOCATION.search(line), line


# ------------------------------------------------------------------------ SQLite


def _sqlite_flip(path: Path, col: Column, position: int, bit: int) -> bool:
    """Flip one bit of the stored value, keeping its storage class; False: the database
    refused the result (a constraint the attacker cannot drop without rebuilding)."""
    conn = sqlite3.connect(path)
    try:
        for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        sql_where = f"FROM {col.table} WHERE {col.where}"
        if col.kind == "int":
            (value,) = conn.execute(f"SELECT {col.column} {sql_where}").fetchone()
            new: object = value ^ (1 << (bit + 8 * position) % 63)
            setter = "?"
        else:
            (raw,) = conn.execute(f"SELECT CAST({col.column} AS BLOB) {sql_where}").fetchone()
            data = bytearray(raw)
            data[position % len(data)] ^= 1 << bit
            new = bytes(data)
            setter = "?" if col.kind == "blob" else "CAST(? AS TEXT)"
        try:
            conn.execute(f"UPDATE {col.table} SET {col.column} = {setter} WHERE {col.where}",
                         (new,))
        except sqlite3.IntegrityError:  # an index moved onto another row's, id != 1
            return False
        conn.commit()
        return True
    finally:
        conn.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "audit.sqlite"
    make_log(f"sqlite:///{path}")
    return path


@pytest.mark.parametrize("col", COLUMNS, ids=lambda c: f"{c.table}.{c.column}")
def test_a_flipped_bit_in_sqlite_is_named_by_the_command(col: Column, pristine: Path,
                                                         tmp_path: Path) -> None:
    """One flip per column kind through the real command, in its own process."""
    path = tmp_path / "audit.sqlite"
    path.write_bytes(pristine.read_bytes())
    assert _sqlite_flip(path, col, 1, 7 if col.kind != "int" else 4)
    assert_damage_named(hedui("audit", "verify", "--db", f"sqlite:///{path}"), col)


def _verify_in_process(url: str) -> subprocess.CompletedProcess:
    """The same command through hedui.cli.main, so hypothesis can try many flips; an
    exception escaping it is what a user would see as a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["audit", "verify", "--db", url])
    return subprocess.CompletedProcess([], code, out.getvalue(), err.getvalue())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(col=st.sampled_from(COLUMNS), position=st.integers(0, 400), bit=st.integers(0, 7))
def test_any_flipped_bit_in_sqlite_is_named(col: Column, position: int, bit: int,
                                            pristine: Path, tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    path.write_bytes(pristine.read_bytes())
    assume(_sqlite_flip(path, col, position, bit))
    assert_damage_named(_verify_in_process(f"sqlite:///{path}"), col)


def test_a_checkpoint_note_that_is_not_utf8_is_named(pristine: Path, tmp_path: Path) -> None:
    """The reported crash: the note's first byte becomes 0xF4, which is not UTF-8 here."""
    path = tmp_path / "audit.sqlite"
    path.write_bytes(pristine.read_bytes())
    col = Column("audit_checkpoints", "note", "size = 8", "text")
    assert _sqlite_flip(path, col, 0, 7)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT CAST(note AS BLOB) FROM audit_checkpoints WHERE size = 8"
                        ).fetchone()[0][:1] == bytes([ord("t") ^ 0x80])
    conn.close()
    result = hedui("audit", "verify", "--db", f"sqlite:///{path}")
    assert_damage_named(result, col)
    assert "checkpoint 8" in result.stderr and "UTF-8" in result.stderr


@pytest.mark.parametrize(("sql", "where"), [
    ("UPDATE audit_leaves SET leaf_hash = 'not bytes' WHERE idx = 3", "leaf 3"),
    ("UPDATE audit_nodes SET hash = 42 WHERE level = 1 AND idx = 0", "subtree (level 1"),
    ("UPDATE audit_nodes SET level = 'x' WHERE level = 2 AND idx = 0", "subtree (level 2"),
    ("UPDATE audit_checkpoints SET note = x'00ff' WHERE size = 4", "checkpoint 4"),
    ("UPDATE audit_checkpoints SET created_at = 'yesterday' WHERE size = 8", "checkpoint 8"),
    ("UPDATE audit_meta SET layout = 'one'", "audit_meta"),
    ("UPDATE audit_meta SET vkey = x'ff'", "audit_meta"),
    ("UPDATE audit_pseudonym_key SET check_value = 'abc'", "audit_pseudonym_key"),
    ("INSERT INTO audit_pseudonym_key VALUES (2, 'x', 'y')", None),  # CHECK (id = 1)
    ("DELETE FROM audit_meta", "meta rows"),
])
def test_a_value_of_another_type_is_named(pristine: Path, tmp_path: Path, sql: str,
                                          where: str | None) -> None:
    """SQLite lets any type sit in any column: text for bytes, bytes for text."""
    path = tmp_path / "audit.sqlite"
    path.write_bytes(pristine.read_bytes())
    conn = sqlite3.connect(path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    try:
        conn.execute(sql)
    except sqlite3.IntegrityError:
        assert where is None  # refused by a constraint even without the triggers
        return
    finally:
        conn.commit()
        conn.close()
    result = hedui("audit", "verify", "--db", f"sqlite:///{path}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("AUDIT LOG DAMAGED: ") and where in result.stderr


def test_a_damaged_database_file_is_one_line(pristine: Path, tmp_path: Path) -> None:
    """Bytes flipped in the file itself, under SQLite: damage or intact, never a crash."""
    raw = bytearray(pristine.read_bytes())
    seen = set()
    for offset in range(100, len(raw), max(1, len(raw) // 12)):
        path = tmp_path / f"file-{offset}.sqlite"
        flipped = bytearray(raw)
        flipped[offset] ^= 0x5A
        path.write_bytes(bytes(flipped))
        result = hedui("audit", "verify", "--db", f"sqlite:///{path}")
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.count("\n") <= 1
        assert result.returncode in (0, 1, 2), result
        seen.add(result.returncode)
    assert 1 in seen or 2 in seen


# -------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_log(pg_url: str, pg_schema: str) -> tuple[str, dict[str, object]]:
    """A log in its own schema, reached through search_path as the CLI sees it."""
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {pg_schema}"))
    engine.dispose()
    sep = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{sep}options=-csearch_path%3D{pg_schema}"
    make_log(url)
    return url, {"url": url, "schema": pg_schema}


PG_COLUMNS = [c for c in COLUMNS if c.kind != "time"]


@pytest.mark.postgres
@pytest.mark.parametrize("col", PG_COLUMNS, ids=lambda c: f"{c.table}.{c.column}")
@pytest.mark.parametrize(("position", "bit"), [(3, 0), (17, 5)])
def test_a_flipped_bit_in_postgres_is_named(col: Column, position: int, bit: int,
                                            pg_log: tuple[str, dict[str, object]]) -> None:
    url, backend = pg_log
    engine = create_engine(url)
    drop_triggers(engine, backend)
    schema = backend["schema"]
    with engine.begin() as conn:
        q = f"FROM {schema}.{col.table} WHERE {col.where}"
        value = conn.execute(text(f"SELECT {col.column} {q}")).scalar_one()
        if col.kind == "int":
            new: object = value ^ (1 << (bit + 8 * position) % 15)  # fits a smallint
        else:
            data = bytearray(value.encode() if isinstance(value, str) else value)
            data[position % len(data)] ^= 1 << bit
            new = bytes(data)
            if col.kind == "text":
                try:  # PostgreSQL refuses text that is not UTF-8 itself
                    new = bytes(data).decode("utf-8")
                except UnicodeDecodeError:
                    pytest.skip("PostgreSQL stores only valid UTF-8 text")
                if "\x00" in new:
                    pytest.skip("PostgreSQL text cannot hold NUL")
        exists = conn.execute(text(f"SELECT count(*) FROM {schema}.{col.table} WHERE "
                                   f"{col.column} = :v"), {"v": new}).scalar()
        if exists:
            pytest.skip("the flipped index is another row's")
        conn.execute(text(f"UPDATE {schema}.{col.table} SET {col.column} = :v "
                          f"WHERE {col.where}"), {"v": new})
    engine.dispose()
    assert_damage_named(hedui("audit", "verify", "--db", url), col)

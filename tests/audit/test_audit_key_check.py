"""A log keeps a check value of its pseudonym key and refuses any other key.

Searching with the wrong key used to print "(no entries)" and exit 0 — a false "nobody
read your data". Now the search, the subject report, and any writer (a gateway or agent
opening its log at start) with another key are refused in one line; a log without a
check value (older releases) records it on first use and says so.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_testlib import KEY_NAME, ORIGIN, table
from nacl.signing import SigningKey
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from hedui.audit import migrations as audit_migrations
from hedui.audit.checkpoint import format_vkey
from hedui.audit.entries import AccessRecorder
from hedui.audit.errors import PseudonymError
from hedui.audit.meta import PseudonymKeyError
from hedui.audit.migrations import baseline
from hedui.audit.pseudonym import Pseudonymizer, key_check_value
from hedui.audit.schema import LAYOUT_VERSION, make_tables
from hedui.audit.store import AuditLog
from hedui.keys import keyfile
from hedui.v1 import audit_pb2

PERSON = "110101199003074477"
KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def hedui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hedui.cli", *args], capture_output=True,
                          text=True, timeout=120)


def _secret(path: Path, key: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, key.hex().encode())
    os.close(fd)
    return path


def _record(log: AuditLog, key: bytes) -> None:
    rec = AccessRecorder(log, actor="spiffe://test.hedui.example/gateway/center",
                         pseudonymizer=Pseudonymizer(key))
    for dept in ("banks", "tax"):
        rec.record(audit_pb2.AUDIT_KIND_QUERY_SENT, operator="op-1001", case_id="case-1",
                   purpose="dibao", department=dept, id_numbers=[PERSON])


def test_the_check_value_is_a_keyed_hash_of_a_fixed_text() -> None:
    a = key_check_value(KEY_A)
    assert len(a) == 32 and int(a, 16) >= 0 and a == Pseudonymizer(KEY_A).check_value()
    assert a != key_check_value(KEY_B)
    assert a not in Pseudonymizer(KEY_A).pseudonym(PERSON)  # not a pseudonym of anyone
    with pytest.raises(PseudonymError):
        key_check_value(b"short")


# ------------------------------------------------------------------ the library


def test_a_writer_with_another_key_is_refused_at_open(
        make_log: Callable[..., AuditLog], backend: dict[str, object]) -> None:
    """What the gateway and each agent do at start: open their log with their key."""
    log = make_log(pseudonym_key=KEY_A)
    assert log.key_check_recorded  # a new log records its key's check value
    _record(log, KEY_A)
    log.close()
    assert not make_log(pseudonym_key=KEY_A).key_check_recorded
    with pytest.raises(PseudonymKeyError, match="not the one this audit log is written with"):
        make_log(pseudonym_key=KEY_B)
    engine = create_engine(str(backend["url"]))
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f"UPDATE {table(backend, 'pseudonym_key')} "
                              "SET check_value = :v"), {"v": key_check_value(KEY_B)})
    finally:
        engine.dispose()


def test_a_log_without_a_check_value_records_it_on_first_use(
        make_log: Callable[..., AuditLog]) -> None:
    log = make_log()  # as a gateway before this release: no pseudonym key given
    _record(log, KEY_A)
    log.close()
    first = make_log(pseudonym_key=KEY_A)
    assert first.key_check_recorded
    first.close()
    with pytest.raises(PseudonymKeyError):
        make_log(pseudonym_key=KEY_B)


def test_a_read_only_open_cannot_record_and_is_refused(
        make_log: Callable[..., AuditLog], backend: dict[str, object],
        signing_key: SigningKey) -> None:
    make_log().close()
    with pytest.raises(PseudonymKeyError, match="read-only"):
        AuditLog.open(str(backend["url"]), origin=ORIGIN, key_name=KEY_NAME,
                      verify_key=signing_key.verify_key, schema=backend["schema"],  # type: ignore[arg-type]
                      pseudonym_key=KEY_A)


def _layout1_log(url: str, schema: str | None, key: SigningKey) -> None:
    """A log as the release before migrations made it: four tables, no version table."""
    engine: Engine = create_engine(url)
    t = make_tables("", schema)
    try:
        with engine.begin() as conn:
            baseline.install_layout1(conn, "", schema)
            conn.execute(t.meta.insert().values(
                id=1, origin=ORIGIN, key_name=KEY_NAME, vkey=format_vkey(KEY_NAME, key.verify_key),
                layout=LAYOUT_VERSION, created_at=dt.datetime.now(dt.UTC)))
    finally:
        engine.dispose()


def test_an_older_log_is_migrated_when_a_writer_brings_its_key(
        backend: dict[str, object], signing_key: SigningKey) -> None:
    url, schema = str(backend["url"]), backend["schema"]
    _layout1_log(url, schema, signing_key)  # type: ignore[arg-type]
    with AuditLog.open(url, origin=ORIGIN, key_name=KEY_NAME, signing_key=signing_key,
                       schema=schema) as old:  # type: ignore[arg-type]
        _record(old, KEY_A)
        old.checkpoint()
    assert audit_migrations.current(url, schema=schema) is None  # type: ignore[arg-type]
    with AuditLog.open(url, origin=ORIGIN, key_name=KEY_NAME, signing_key=signing_key,
                       schema=schema, pseudonym_key=KEY_A) as log:  # type: ignore[arg-type]
        assert log.key_check_recorded
        assert log.verify_all() == 2
    assert audit_migrations.current(url, schema=schema) == audit_migrations.HEAD  # type: ignore[arg-type]
    engine = create_engine(url)
    try:
        assert inspect(engine).has_table("audit_pseudonym_key", schema=schema)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    with pytest.raises(PseudonymKeyError):
        AuditLog.open(url, origin=ORIGIN, key_name=KEY_NAME, signing_key=signing_key,
                      schema=schema, pseudonym_key=KEY_B)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the command


@pytest.fixture()
def old_log(tmp_path: Path) -> tuple[str, Path, Path]:
    """A log written without a check value, and the right and the wrong key files."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    key = SigningKey(b"\x03" * 32)
    keyfile.write_private_key(tmp_path / "log.key", key)
    with AuditLog.create(url, origin=ORIGIN, key_name=KEY_NAME, signing_key=key) as log:
        _record(log, KEY_A)
        log.checkpoint()
    return url, _secret(tmp_path / "right.key", KEY_A), _secret(tmp_path / "wrong.key", KEY_B)


def test_search_records_the_check_value_on_first_use_and_says_so(old_log) -> None:
    url, right, _ = old_log
    first = hedui("audit", "search", "--db", url, "--id", PERSON, "--pseudonym-key",
                  str(right), "--json")
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.splitlines()) == 2  # banks and tax
    assert "recorded" in first.stderr and first.stderr.count("\n") == 1
    again = hedui("audit", "search", "--db", url, "--id", PERSON, "--pseudonym-key",
                  str(right))
    assert again.returncode == 0 and again.stderr == ""


@pytest.mark.parametrize("command", ["search", "subject-report"])
def test_the_wrong_key_is_refused_in_one_line(old_log, command: str) -> None:
    url, right, wrong = old_log
    assert hedui("audit", "search", "--db", url, "--pseudonym-key", str(right)).returncode == 0
    result = hedui("audit", command, "--db", url, "--id", PERSON, "--pseudonym-key",
                   str(wrong))
    assert result.returncode == 2, result
    assert "(no entries)" not in result.stdout and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "pseudonym key given is not the one this audit log is written with" in result.stderr
    # nothing was written with the wrong key: the log still verifies, same size
    verify = hedui("audit", "verify", "--db", url)
    assert verify.returncode == 0 and "intact: 3 entries" in verify.stdout


def test_a_writer_with_the_wrong_key_is_refused_after_a_search_recorded_it(old_log) -> None:
    url, right, _ = old_log
    assert hedui("audit", "search", "--db", url, "--pseudonym-key", str(right)).returncode == 0
    with pytest.raises(PseudonymKeyError):
        AuditLog.open(url, origin=ORIGIN, key_name=KEY_NAME,
                      signing_key=SigningKey(b"\x03" * 32), pseudonym_key=KEY_B)

"""Fixtures for the audit log tests: keys, and one log per backend (SQLite, PostgreSQL).

PostgreSQL tests use the server at ``HEDUI_TEST_PG`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and skip with the reason when it
cannot be reached. Each test gets its own schema, dropped with CASCADE afterwards (the
append-only triggers refuse row deletes, and go with their schema).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from audit_testlib import DEFAULT_PG, KEY_NAME, ORIGIN
from nacl.signing import SigningKey
from sqlalchemy import create_engine, text

from hedui.audit.store import AuditLog

_pg_state: dict[str, str | None] = {}


def pg_url_or_reason() -> tuple[str | None, str | None]:
    """The PostgreSQL URL if a server answers there, else the reason it does not."""
    url = os.environ.get("HEDUI_TEST_PG", DEFAULT_PG)
    if "url" not in _pg_state:
        try:
            engine = create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["url"], _pg_state["reason"] = url, None
        except Exception as exc:  # any failure means: no usable server
            _pg_state["url"] = None
            _pg_state["reason"] = (
                f"PostgreSQL at {url} unavailable ({type(exc).__name__}); "
                "set HEDUI_TEST_PG to a reachable server"
            )
    return _pg_state["url"], _pg_state["reason"]


@pytest.fixture(scope="session")
def pg_url() -> str:
    url, reason = pg_url_or_reason()
    if url is None:
        pytest.skip(reason or "PostgreSQL unavailable")
    return url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh schema name for one test; the schema is dropped (CASCADE) afterwards."""
    schema = f"t_audit_{uuid.uuid4().hex[:12]}"
    yield schema
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey(b"\x07" * 32)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    """Where a log lives: ``{"url": ..., "schema": ...}`` for SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return {"url": f"sqlite:///{tmp_path / 'audit.db'}", "schema": None}
    url = request.getfixturevalue("pg_url")
    return {"url": url, "schema": request.getfixturevalue("pg_schema")}


@pytest.fixture
def make_log(
    backend: dict[str, object], signing_key: SigningKey
) -> Iterator[Callable[..., AuditLog]]:
    """Open (creating on first use) the test's log; every opened log is closed at the end."""
    opened: list[AuditLog] = []

    def _make(**kwargs: object) -> AuditLog:
        args: dict[str, object] = {
            "origin": ORIGIN,
            "key_name": KEY_NAME,
            "signing_key": signing_key,
            "schema": backend["schema"],
            "create": True,
        }
        args.update(kwargs)
        log = AuditLog.open(backend["url"], **args)  # type: ignore[arg-type]
        opened.append(log)
        return log

    yield _make
    for log in opened:
        log.close()


@pytest.fixture
def log(make_log: Callable[..., AuditLog]) -> AuditLog:
    return make_log()


@pytest.fixture
def raw_engine(backend: dict[str, object]) -> Iterator[object]:
    """A plain engine on the log's database: what an attacker with SQL access holds."""
    engine = create_engine(str(backend["url"]))
    yield engine
    engine.dispose()

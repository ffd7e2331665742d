"""Constants and helpers shared by the audit tests (imported as ``audit_testlib``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORIGIN = "test.hedui.example/audit"
KEY_NAME = "test-gateway"

#: the repository's root (tests/audit/ is two levels below it)
REPO_ROOT = Path(__file__).resolve().parents[2]
#: RFC 6962 vectors from transparency-dev/merkle, kept beside the repository, never in it
MERKLE_TESTDATA = REPO_ROOT / ".." / "shared" / "testdata" / "merkle"


def table(backend: dict[str, object], name: str) -> str:
    """Qualified name of one of the log's tables, for raw SQL."""
    schema = backend["schema"]
    return f"{schema}.audit_{name}" if schema else f"audit_{name}"


def drop_triggers(engine: Engine, backend: dict[str, object]) -> None:
    """Drop the log's protective triggers, as an attacker with SQL access would."""
    with engine.begin() as conn:
        if backend["schema"] is None:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            for (name,) in names.all():
                conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            rows = conn.execute(
                text(
                    "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c "
                    "ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND NOT t.tgisinternal"
                ),
                {"s": backend["schema"]},
            ).all()
            for tg, rel in rows:
                conn.execute(text(f"DROP TRIGGER {tg} ON {backend['schema']}.{rel}"))

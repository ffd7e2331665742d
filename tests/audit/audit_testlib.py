"""Constants and helpers shared by the audit tests (imported as ``audit_testlib``)."""

from __future__ import annotations

from pathlib import Path

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

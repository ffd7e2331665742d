"""The offline round trip with the gateway's case database and audit log on PostgreSQL.

Every other offline test runs the gateway on SQLite, but production gateways share one
PostgreSQL case database (replicas) and audit log. This test proves the offline tables
(``offline_queries``, ``offline_bundles``) and the bundle commands work there too: a case
waits for the offline department, `hedui bundle export` → `hedui agent answer-bundle` →
`hedui bundle import` decides it, and importing the same answers again is refused in one
line without touching a row.

PostgreSQL: ``HEDUI_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
one fresh database per test, dropped afterwards; skipped with the reason when unreachable.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from offline_testlib import OFFLINE, Site

from hedui.v1 import case_pb2

PG = os.environ.get("HEDUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OFFLINE_TABLES = ("offline_queries", "offline_bundles")

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (URL) for this test only; dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    dsn = PG.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())
        pytest.skip(f"PostgreSQL not reachable at {PG} (set HEDUI_TEST_PG): {reason}")
    name = f"hedui_offline_{uuid.uuid4().hex[:10]}"
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{PG.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture()
def pg_site(tmp_path: Path, pg_database: str) -> Iterator[Site]:
    """The offline deployment, its gateway's case database and audit log on PostgreSQL."""
    site = Site(tmp_path, cases_db=pg_database, audit_db=pg_database)
    try:
        site.start()
        yield site
    finally:
        site.stop()


def test_offline_round_trip_on_postgres(pg_site: Site, tmp_path: Path) -> None:
    site = pg_site
    work = tmp_path / "usb"
    work.mkdir()

    # the online departments answer; the case waits for the offline one
    case = site.new_case("eligible")
    states = {d.department: d.state for d in case.departments}
    assert states[OFFLINE] == case_pb2.DepartmentStatus.STATE_AWAITING_OFFLINE, states

    exported = site.export(work / "queries.bundle")
    assert exported.returncode == 0, exported.stderr
    assert "for provident-fund sealed into" in exported.stdout, exported.stdout
    answered = site.answer(work / "queries.bundle", work / "answers.bundle")
    assert answered.returncode == 0, answered.stderr
    assert "1 answered, 0 refused" in answered.stdout, answered.stdout
    imported = site.import_(work / "answers.bundle")
    assert imported.returncode == 0, imported.stderr
    assert "imported: 1 answered, 0 refused" in imported.stdout, imported.stdout

    decided = site.get_case(case.case_id)
    assert decided.state == case_pb2.CASE_STATE_DECIDED, decided
    assert decided.outcome == case_pb2.OUTCOME_ELIGIBLE
    assert {d.state for d in decided.departments} == {
        case_pb2.DepartmentStatus.STATE_ANSWERED}

    # it really was PostgreSQL: the offline tables hold the trip, no SQLite file exists
    offline = site.table_rows(*OFFLINE_TABLES)
    assert len(offline["offline_queries"]) == 1, offline
    assert len(offline["offline_bundles"]) == 2, offline  # the export and the import
    assert not (site.state / "cases.sqlite").exists()
    assert not (site.state / "audit.sqlite").exists()

    # the same answers bundle again: one line, non-zero, not a row changed
    before = site.snapshot()
    again = site.import_(work / "answers.bundle")
    assert again.returncode != 0, again.stdout
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "imported before" in lines[0], again.stderr
    assert "Traceback" not in again.stderr
    assert site.table_rows(*OFFLINE_TABLES) == offline
    site.assert_only_refusal_logged(before, "BUNDLE_ALREADY_IMPORTED")
    assert site.get_case(case.case_id).state == case_pb2.CASE_STATE_DECIDED

    verified = site.cli("audit", "verify", "--db", site.audit_url())
    assert verified.returncode == 0, verified.stderr

"""Schema migrations (Alembic) of the case database and the audit log, on both backends.

The upgrade tests play "the next release": they copy the shipped migration folder, add
a second revision beside ``0001`` and upgrade a database that the current release made
and filled. Data must survive, the audit log must still verify and its triggers must
still refuse UPDATE and DELETE. The drift tests make ``head`` equal what the code
creates today, so a schema change without a revision fails here.

PostgreSQL: ``HEDUI_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
one fresh schema per test, dropped afterwards; skipped with the reason when unreachable.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from nacl.signing import SigningKey
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from hedui.audit import migrations as audit_migrations
from hedui.audit.checkpoint import format_vkey
from hedui.audit.migrations.runner import MigrationError
from hedui.audit.schema import LAYOUT_VERSION, install, make_tables
from hedui.audit.store import AuditLog
from hedui.gateway import migrations as case_migrations
from hedui.gateway import offline as offline_mod
from hedui.gateway import store as store_mod
from hedui.gateway.store import CaseStore

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORIGIN = "test.hedui.example/gateway/audit"
KEY_NAME = "test.hedui.example/gateway/center"
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
#: the case database's head revision in this release
HEAD = case_migrations.REVERIFICATION

# ------------------------------------------------------------------ the "next release"

#: A second case-database revision, as the next release might ship it. decided_at: the
#: time a case was first decided (updated_at moves on every retry/report), which yearly
#: re-verification needs; the index serves "cases stuck in QUERYING since …" sweeps and
#: `hedui case list --state`. Old code keeps working: the column is nullable.
CASES_NEXT = '''"""cases.decided_at and an index on (state, updated_at)."""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("cases", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_cases_state_updated_at", "cases", ["state", "updated_at"])


def downgrade():
    raise NotImplementedError
'''

#: The next audit revision: an index for "the checkpoint in force at time T" (witnesses,
#: officers' reports) and a nullable column, added to tables that carry triggers.
AUDIT_NEXT = '''"""audit_checkpoints: index on created_at, nullable published_to."""
import sqlalchemy as sa
from alembic import op

from hedui.audit.migrations import tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    t = tables()
    op.add_column(t.checkpoints.name, sa.Column("published_to", sa.Text(), nullable=True),
                  schema=t.schema)
    op.create_index(f"{t.prefix}audit_checkpoints_created_at", t.checkpoints.name,
                    ["created_at"], schema=t.schema)


def downgrade():
    raise NotImplementedError
'''


def next_release(tmp_path: Path, package: Path, name: str, source: str) -> Path:
    """A copy of a shipped migration folder with one more revision."""
    folder = tmp_path / f"next-{package.parent.name}"
    shutil.copytree(package, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / name).write_text(source, encoding="utf-8")
    return folder


# ------------------------------------------------------------------------ backends

_pg: dict[str, str | None] = {}


def _pg_url() -> tuple[str | None, str]:
    url = os.environ.get("HEDUI_TEST_PG", DEFAULT_PG)
    if "ok" not in _pg:
        try:
            engine = create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg["ok"], _pg["reason"] = url, ""
        except Exception as exc:  # any failure: no usable server
            _pg["ok"] = None
            _pg["reason"] = (f"PostgreSQL at {url} unavailable ({type(exc).__name__}); "
                             "set HEDUI_TEST_PG to a reachable server")
    return _pg["ok"], str(_pg["reason"])


class Backend:
    """Where one test's databases live: a SQLite folder or a fresh PostgreSQL schema."""

    def __init__(self, kind: str, tmp_path: Path, pg_url: str | None = None) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.pg_url = pg_url
        self.schema = f"t_mig_{uuid.uuid4().hex[:12]}" if kind == "postgres" else None
        if self.schema:
            with self.admin() as conn:
                conn.execute(text(f"CREATE SCHEMA {self.schema}"))

    def admin(self):
        engine = create_engine(str(self.pg_url))
        return _disposing(engine)

    def cases_url(self, name: str = "cases") -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_path / (name + '.sqlite')}"
        sep = "&" if "?" in str(self.pg_url) else "?"
        return f"{self.pg_url}{sep}options=-csearch_path%3D{self.schema}"

    def audit(self, name: str = "audit") -> tuple[str, str | None]:
        """(url, schema) of an audit log."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_path / (name + '.sqlite')}", None
        return str(self.pg_url), f"{self.schema}_{name}"

    def drop(self) -> None:
        if self.schema:
            with self.admin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
                for extra in ("audit", "made", "migrated", "old"):
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema}_{extra} CASCADE"))


class _disposing:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self):
        self._cm = self.engine.begin()
        return self._cm.__enter__()

    def __exit__(self, *exc):
        try:
            return self._cm.__exit__(*exc)
        finally:
            self.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "postgres":
        url, reason = _pg_url()
        if url is None:
            pytest.skip(reason)
        b = Backend("postgres", tmp_path, url)
    else:
        b = Backend("sqlite", tmp_path)
    yield b
    b.drop()


def _engine(url: str) -> Engine:
    return create_engine(url)


# ------------------------------------------------------------- case database: rows


def fill_cases(store: CaseStore, case_id: str = "case-1") -> None:
    store.insert_case({
        "case_id": case_id, "state": "INCOMPLETE", "programme": "dibao", "region": "310000",
        "authorization_number": "SQ-2026-1", "operator": "op-1001",
        "members_sealed": b"\x01sealed", "outcome": "", "report_digest": b"",
        "created_at": NOW, "updated_at": NOW, "version": 0, "claimed_by": "",
        "batch_key": f"batch.csv#{case_id}",
    }, ["banks", "tax"])
    with store.tx() as conn:
        conn.execute(store_mod.authorizations.insert().values(
            number=f"SQ-{case_id}", programme="dibao", covered="p1,p2",
            signed_on="2026-11-01", valid_from="2026-11-01", valid_until="2027-10-31",
            document_sha256="ab" * 32, revoked=False, revocation_reason="",
            registered_by="op-1001", registered_at=NOW))
        store.add_audit_leaves(conn, case_id, [0, 1, 2])


def check_cases(store: CaseStore, case_id: str = "case-1") -> None:
    row = store.get(case_id)
    assert row is not None and row.state == "INCOMPLETE"
    assert row.members_sealed == b"\x01sealed" and row.created_at == NOW
    assert [d["department"] for d in store.departments(case_id)] == ["banks", "tax"]
    assert store.audit_leaves(case_id) == [0, 1, 2]
    assert store.case_by_batch_key(f"batch.csv#{case_id}").case_id == case_id


# ------------------------------------------------------------- case database: tests


def code_metadata() -> MetaData:
    """Every table the code keeps in the case database: store.py and offline.py."""
    combined = MetaData()
    for md in (store_mod.metadata, offline_mod.metadata):
        for table in md.tables.values():
            table.to_metadata(combined)
    return combined


def test_case_head_is_what_the_code_creates(backend: Backend) -> None:
    """Drift: head == store.py + offline.py; fails when a table change has no revision."""
    url = backend.cases_url()
    assert case_migrations.upgrade(url) == HEAD
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, code_metadata())
    finally:
        engine.dispose()
    diffs = [d for d in diffs
             if not (d[0] == "remove_table" and d[1].name == case_migrations.VERSION_TABLE)]
    assert diffs == [], (
        "the case tables in gateway/store.py or offline.py differ from the migrations' head; add a "
        f"revision in gateway/migrations/versions/: {diffs}")


def test_case_first_revisions_reproduce_the_release_before_migrations_exactly(
        tmp_path: Path) -> None:
    """SQLite keeps each CREATE statement: 0001 + 0002 must emit the very ones that
    release's create_all did (frozen in baseline.py)."""
    from hedui.gateway.migrations import baseline

    made, migrated = tmp_path / "made.sqlite", tmp_path / "migrated.sqlite"
    engine = create_engine(f"sqlite:///{made}")
    baseline.metadata.create_all(engine)
    baseline.offline.create_all(engine)
    engine.dispose()
    case_migrations.upgrade(f"sqlite:///{migrated}", target=case_migrations.OFFLINE)
    assert _sqlite_schema(made) == _sqlite_schema(migrated, skip="cases_alembic_version")


def fill_before_0003(url: str) -> None:
    """A case row as the release before 0003 wrote it (its frozen table: no application
    date), created at NOW."""
    from hedui.gateway.migrations import baseline

    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(baseline.cases.insert().values(
                case_id="case-old", state="DECIDED", programme="dibao", region="310000",
                authorization_number="SQ-2026-9", operator="op-1001",
                members_sealed=b"\x01sealed", outcome="OUTCOME_ELIGIBLE", report_digest=b"",
                created_at=NOW, updated_at=NOW + dt.timedelta(days=40), version=3,
                claimed_by="", batch_key=None))
    finally:
        engine.dispose()


def test_0003_gives_old_cases_the_date_they_were_created(backend: Backend) -> None:
    """Old rows are assessed as of the day they were opened, as they were before 0003."""
    url = backend.cases_url()
    assert case_migrations.upgrade(url, target=case_migrations.OFFLINE) == "0002"
    fill_before_0003(url)
    assert case_migrations.upgrade(url) == HEAD
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text(
                "SELECT application_date, state_reason FROM cases WHERE case_id = 'case-old'"
            )).one()
    finally:
        engine.dispose()
    assert tuple(stored) == (NOW.date().isoformat(), None)
    store = CaseStore(url)
    try:
        row = store.get("case-old")
        assert row is not None and row.application_date == NOW.date()
        assert row.state_reason == ""
    finally:
        store.close()


def test_a_row_written_without_application_date_reads_as_its_creation_date(
        backend: Backend) -> None:
    """A replica of the previous release inserts NULL during a rolling update."""
    url = backend.cases_url()
    case_migrations.upgrade(url)
    store = CaseStore(url)
    try:
        fill_cases(store)  # no application_date key, as the previous release's code
        row = store.get("case-1")
        assert row is not None and row.application_date == NOW.date()
    finally:
        store.close()


def test_case_upgrade_from_previous_release(backend: Backend, tmp_path: Path) -> None:
    url = backend.cases_url()
    nxt = next_release(tmp_path, case_migrations.SCRIPT_LOCATION, "0008_decided_at.py",
                       CASES_NEXT)
    # the release in production: at its head, in use
    assert case_migrations.upgrade(url, script_location=nxt, target=HEAD) == HEAD
    store = CaseStore(url)
    fill_cases(store)
    store.close()
    # the next release upgrades it
    assert case_migrations.upgrade(url, script_location=nxt) == "0008"
    assert case_migrations.current(url) == "0008"
    engine = _engine(url)
    try:
        insp = inspect(engine)
        assert "decided_at" in {c["name"] for c in insp.get_columns("cases")}
        assert "ix_cases_state_updated_at" in {i["name"] for i in insp.get_indexes("cases")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT decided_at FROM cases")).scalar() is None
    finally:
        engine.dispose()
    # data survived, and the old code still runs against the new schema (rolling update)
    store = CaseStore(url)
    try:
        check_cases(store)
        fill_cases(store, "case-2")
        check_cases(store, "case-2")
    finally:
        store.close()
    # upgrading again is a no-op
    assert case_migrations.upgrade(url, script_location=nxt) == "0008"


@pytest.mark.parametrize("used_offline", [False, True])
def test_case_database_made_before_migrations_is_adopted(backend: Backend,
                                                         used_offline: bool) -> None:
    url = backend.cases_url()
    case_migrations.upgrade(url, target=case_migrations.OFFLINE)  # that release's tables
    fill_before_0003(url)
    # the release before migrations: its tables, no version table (and the offline
    # tables only where the offline desk had been used)
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {case_migrations.VERSION_TABLE}"))
        if not used_offline:
            conn.execute(text("DROP TABLE offline_queries"))
            conn.execute(text("DROP TABLE offline_bundles"))
    engine.dispose()
    assert case_migrations.current(url) is None
    assert case_migrations.upgrade(url) == HEAD
    engine = _engine(url)
    try:
        insp = inspect(engine)
        assert insp.has_table("offline_queries") and insp.has_table("offline_bundles")
    finally:
        engine.dispose()
    store = CaseStore(url)
    try:
        row = store.get("case-old")
        assert row is not None and row.version == 3 and row.application_date == NOW.date()
    finally:
        store.close()


def test_case_database_of_unknown_shape_is_refused(backend: Backend) -> None:
    url = backend.cases_url()
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE cases (case_id VARCHAR(64) PRIMARY KEY, x TEXT)"))
    finally:
        engine.dispose()
    with pytest.raises(MigrationError, match="refusing to guess"):
        case_migrations.upgrade(url)


@pytest.mark.postgres
def test_replicas_starting_together_migrate_once(tmp_path: Path) -> None:
    url, reason = _pg_url()
    if url is None:
        pytest.skip(reason)
    b = Backend("postgres", tmp_path, url)
    try:
        results: list[object] = []

        def go() -> None:
            try:
                results.append(case_migrations.upgrade(b.cases_url()))
            except Exception as exc:
                results.append(exc)

        threads = [threading.Thread(target=go) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == [HEAD] * 4
    finally:
        b.drop()


# ------------------------------------------------------------------- audit log


def _open_log(url: str, schema: str | None, key: SigningKey) -> AuditLog:
    return AuditLog.open(url, origin=ORIGIN, key_name=KEY_NAME, signing_key=key, schema=schema,
                         create=True)


def _refuses_changes(url: str, schema: str | None) -> None:
    t = make_tables("", schema)
    q = f"{schema}." if schema else ""
    engine = _engine(url)
    try:
        for sql in (f"UPDATE {q}{t.leaves.name} SET entry = :b WHERE idx = 0",
                    f"DELETE FROM {q}{t.leaves.name} WHERE idx = 0",
                    f"UPDATE {q}{t.checkpoints.name} SET note = 'forged'",
                    f"DELETE FROM {q}{t.checkpoints.name}",
                    f"UPDATE {q}{t.meta.name} SET origin = 'forged'"):
            params = {"b": b"forged"} if ":b" in sql else {}
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql), params)
    finally:
        engine.dispose()


def test_audit_head_is_install(backend: Backend) -> None:
    """head == audit.schema.install(): same tables, columns, indexes and triggers."""
    made_url, made_schema = backend.audit("made")
    migrated_url, migrated_schema = backend.audit("migrated")
    if backend.kind == "sqlite":
        made_url, migrated_url = (f"sqlite:///{backend.tmp_path / 'made.sqlite'}",
                                  f"sqlite:///{backend.tmp_path / 'migrated.sqlite'}")
    engine = _engine(made_url)
    try:
        with engine.begin() as conn:
            install(conn, make_tables("", made_schema))
    finally:
        engine.dispose()
    assert audit_migrations.upgrade(migrated_url, schema=migrated_schema) == \
        audit_migrations.HEAD
    if backend.kind == "sqlite":
        assert _sqlite_schema(backend.tmp_path / "made.sqlite") == _sqlite_schema(
            backend.tmp_path / "migrated.sqlite", skip="audit_alembic_version")
    else:
        assert _pg_schema(made_url, made_schema) == _pg_schema(
            migrated_url, migrated_schema, skip="audit_alembic_version")
    _refuses_changes_empty_ok(migrated_url, migrated_schema)


def _refuses_changes_empty_ok(url: str, schema: str | None) -> None:
    """The triggers exist: a DELETE on the empty leaves table is still refused on PG
    (statement-level TRUNCATE) and an insert out of order is refused on SQLite."""
    t = make_tables("", schema)
    q = f"{schema}." if schema else ""
    engine = _engine(url)
    try:
        sql = (f"TRUNCATE {q}{t.leaves.name}" if engine.dialect.name == "postgresql"
               else f"INSERT INTO {t.leaves.name} VALUES (5, x'00', x'00', x'00')")
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def test_audit_upgrade_from_previous_release(backend: Backend, tmp_path: Path) -> None:
    url, schema = backend.audit()
    key = SigningKey(b"\x05" * 32)
    nxt = next_release(tmp_path, audit_migrations.SCRIPT_LOCATION, "0003_checkpoints.py",
                       AUDIT_NEXT)
    # the release in production: a log at its head (migrated, then used by the gateway)
    head = audit_migrations.HEAD
    assert audit_migrations.upgrade(url, head, schema=schema, script_location=nxt) == head
    t = make_tables("", schema)
    engine = _engine(url)
    try:
        # the meta row AuditLog.open(create=True) writes after install(); today it will not
        # write it into tables that a migration made (see the report: audit/store.py)
        with engine.begin() as conn:
            conn.execute(t.meta.insert().values(
                id=1, origin=ORIGIN, key_name=KEY_NAME,
                vkey=format_vkey(KEY_NAME, key.verify_key), layout=LAYOUT_VERSION,
                created_at=NOW))
    finally:
        engine.dispose()
    with _open_log(url, schema, key) as log:
        log.append_many([f"entry {i}".encode() for i in range(11)])
        log.checkpoint()
        root_before = log.checkpoint()
    # the next release upgrades it, while nothing else writes
    assert audit_migrations.upgrade(url, schema=schema, script_location=nxt) == "0003"
    engine = _engine(url)
    try:
        insp = inspect(engine)
        cols = {c["name"] for c in insp.get_columns(t.checkpoints.name, schema=schema)}
        assert "published_to" in cols
        assert "audit_checkpoints_created_at" in {
            i["name"] for i in insp.get_indexes(t.checkpoints.name, schema=schema)}
    finally:
        engine.dispose()
    _refuses_changes(url, schema)
    with _open_log(url, schema, key) as log:
        log.verify_all()
        log.append_many([b"after the upgrade"])
        after = log.checkpoint()
        log.verify_all()
    assert _size(after) == 12 and _size(root_before) == 11


def test_audit_log_made_before_migrations_is_adopted(backend: Backend) -> None:
    url, schema = backend.audit()
    key = SigningKey(b"\x06" * 32)
    with _open_log(url, schema, key) as log:
        log.append_many([b"a", b"b", b"c"])
        log.checkpoint()
    # the release before migrations left the same tables without a version table
    engine = _engine(url)
    with engine.begin() as conn:
        qualified = f"{schema}." if schema else ""
        conn.execute(text(f"DROP TABLE {qualified}{audit_migrations.version_table()}"))
    engine.dispose()
    assert audit_migrations.current(url, schema=schema) is None
    # made by this release's install(): adopted at head (a layout-1 log at 0001 and
    # upgraded: tests/audit/test_audit_key_check.py)
    assert audit_migrations.upgrade(url, schema=schema) == audit_migrations.HEAD
    assert audit_migrations.upgrade(url, schema=schema) == audit_migrations.HEAD
    _refuses_changes(url, schema)
    with _open_log(url, schema, key) as log:
        log.verify_all()


def test_two_logs_in_one_database_keep_separate_histories(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    assert audit_migrations.upgrade(url, prefix="gw_") == audit_migrations.HEAD
    assert audit_migrations.current(url) is None
    assert audit_migrations.upgrade(url, prefix="officer_") == audit_migrations.HEAD
    assert case_migrations.upgrade(url) == HEAD  # the case tables may live there too
    names = set(inspect(create_engine(url)).get_table_names())
    assert {"gw_audit_alembic_version", "officer_audit_alembic_version",
            "cases_alembic_version", "gw_audit_leaves", "officer_audit_leaves",
            "cases"} <= names


# ------------------------------------------------------------------------ helpers


def _size(note: str) -> int:
    """The tree size line of a signed checkpoint note (origin, size, root, …)."""
    return int(note.splitlines()[1])


def _sqlite_schema(path: Path, skip: str = "") -> list[tuple[str, str, str]]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        conn.close()
    return [(t, n, s or "") for t, n, s in rows if not (skip and n.find(skip) >= 0)]


def _pg_schema(url: str, schema: str | None, skip: str = "") -> dict[str, object]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            cols = conn.execute(text(
                "SELECT table_name, column_name, data_type, is_nullable FROM "
                "information_schema.columns WHERE table_schema = :s "
                "ORDER BY table_name, ordinal_position"), {"s": schema}).all()
            trig = conn.execute(text(
                "SELECT c.relname, t.tgname, t.tgtype FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = :s AND NOT t.tgisinternal "
                "ORDER BY 1, 2"), {"s": schema}).all()
            idx = conn.execute(text(
                "SELECT tablename, indexname, replace(indexdef, :s || '.', '') "
                "FROM pg_indexes WHERE schemaname = :s ORDER BY 1, 2"), {"s": schema}).all()
    finally:
        engine.dispose()
    def keep(name: str) -> bool:
        return not skip or skip not in name

    return {"columns": [tuple(r) for r in cols if keep(r[0])],
            "triggers": [tuple(r) for r in trig if keep(r[0])],
            "indexes": [(a, b, c) for a, b, c in idx if keep(a)]}


def test_a_log_created_by_the_code_can_be_stamped_in_its_creating_transaction(
        tmp_path: Path) -> None:
    """What AuditLog.open(create=True) should do after install(): stamp head right away."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            install(conn, make_tables())
            audit_migrations.stamp(conn)
    finally:
        engine.dispose()
    assert audit_migrations.current(url) == audit_migrations.HEAD
    assert audit_migrations.upgrade(url) == audit_migrations.HEAD


def test_migrate_gateway_brings_both_databases_of_a_config_to_head(tmp_path: Path) -> None:
    from hedui.gateway import sandbox

    sb = sandbox.provision(tmp_path / "sb", persons=20)
    lines = case_migrations.migrate_gateway(str(sb.gateway_config))
    assert lines == [f"case database at revision {HEAD}",
                     f"audit log at revision {audit_migrations.HEAD}"]

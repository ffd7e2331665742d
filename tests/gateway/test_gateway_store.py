"""The case store on both backends: its statements run on the driver's own cursor, so
these check what SQLAlchemy used to guarantee — timestamps kept exactly as SQLAlchemy
keeps them (its own queries, retention for one, compare them), compare-and-set that
reports who was first, and a decision that stores nothing when it loses.

PostgreSQL: ``HEDUI_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
one fresh schema per test, dropped afterwards; skipped with the reason when unreachable.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from hedui.gateway import migrations as case_migrations
from hedui.gateway.store import CaseStore, DepartmentPart, authorizations, cases

PG = os.environ.get("HEDUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = dt.datetime(2026, 11, 2, 9, 30, 0, 120, tzinfo=dt.UTC)
QUERYING, DECIDED = "CASE_STATE_QUERYING", "CASE_STATE_DECIDED"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
        schema = None
    else:
        schema = f"t_store_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG)
        try:
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        except OperationalError as exc:
            admin.dispose()
            pytest.skip(f"PostgreSQL not reachable at {PG}: {exc}")
        sep = "&" if "?" in PG else "?"
        url = f"{PG}{sep}options=-csearch_path%3D{schema}"
    case_migrations.upgrade(url)
    s = CaseStore(url)
    try:
        yield s
    finally:
        s.close()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def _open(store: CaseStore, case_id: str = "case-1", state: str = QUERYING) -> None:
    store.insert_case({
        "case_id": case_id, "state": state, "programme": "dibao", "region": "310000",
        "authorization_number": "SQ-1", "operator": "op-1", "members_sealed": b"\x01m",
        "outcome": "", "report_digest": b"", "created_at": NOW, "updated_at": NOW,
        "version": 3, "claimed_by": "r1", "batch_key": None,
    }, ["tax", "banks"])


def test_timestamps_are_kept_as_sqlalchemy_keeps_them(store: CaseStore) -> None:
    _open(store)
    with store.read() as conn:
        assert conn.execute(select(cases.c.created_at)).scalar().replace(tzinfo=dt.UTC) == NOW
    row = store.get("case-1")
    assert row is not None and row.created_at == NOW and row.updated_at == NOW
    assert [(d["department"], d["state"], d["updated_at"]) for d in store.departments("case-1")] \
        == [("banks", "PENDING", NOW), ("tax", "PENDING", NOW)]
    assert [r.case_id for r in store.list(state=QUERYING, programme="dibao", limit=5,
                                          offset=0)] == ["case-1"]


def test_answers_and_parts_are_stored_and_erased_after_retention(store: CaseStore) -> None:
    _open(store)
    answer = {"case_id": "case-1", "department": "tax", "agent": "spiffe://a/tax",
              "query_digest": b"q" * 32, "answer_digest": b"a" * 32, "answer_sealed": b"s",
              "received_at": NOW, "erase_after": NOW + dt.timedelta(days=1), "erased_at": None}
    later = NOW + dt.timedelta(minutes=1)
    with store.tx() as conn:
        store.save_answers(conn, [answer])
        store.save_answers(conn, [answer | {"answer_sealed": b"s2"}])  # replaces, not adds
        store.set_departments(conn, [DepartmentPart("case-1", "tax", "ANSWERED", "", b"a" * 32,
                                                    2, later)])
        store.add_audit_leaves(conn, "case-1", [7, 3])
        assert store.departments("case-1", conn)[1]["state"] == "ANSWERED"
    [stored] = store.answers_of("case-1")
    assert stored["answer_sealed"] == b"s2" and stored["erase_after"] is not None
    tax = store.departments("case-1")[1]
    assert (tax["attempts"], tax["answer_digest"], tax["updated_at"]) == (2, b"a" * 32, later)
    assert store.audit_leaves("case-1") == [3, 7]
    # retention compares the driver-written timestamp in SQLAlchemy's own query
    assert store.erase_expired_answers(NOW) == []
    assert store.erase_expired_answers(NOW + dt.timedelta(days=2)) == [("case-1", "tax")]
    assert store.answers_of("case-1")[0]["answer_sealed"] is None


def test_transition_and_decide_are_compare_and_set(store: CaseStore) -> None:
    _open(store)
    with store.tx() as conn:
        assert not store.transition(conn, "case-1", from_states=["CASE_STATE_OPEN"],
                                    expect_version=3, to_state=QUERYING, now=NOW)
        assert not store.decide(conn, "case-1", expect_version=2, outcome="OUTCOME_ELIGIBLE",
                                digest=b"d", sealed_report=b"r", now=NOW)
    assert store.report("case-1") is None and store.get("case-1").version == 3
    with store.tx() as conn:
        assert store.decide(conn, "case-1", expect_version=3, outcome="OUTCOME_ELIGIBLE",
                            digest=b"d", sealed_report=b"r", now=NOW)
    row = store.get("case-1")
    assert (row.state, row.version, row.outcome, row.report_digest, row.claimed_by) == \
        (DECIDED, 4, "OUTCOME_ELIGIBLE", b"d", "")
    assert store.report("case-1") == b"r"
    with store.tx() as conn:
        assert store.transition(conn, "case-1", from_states=[DECIDED, QUERYING],
                                expect_version=4, to_state=QUERYING, now=NOW, claimed_by="r2")
    assert (store.get("case-1").version, store.get("case-1").claimed_by) == (5, "r2")


def test_authorization_reads_back_with_utc_timestamps(store: CaseStore) -> None:
    assert store.authorization("SQ-9") is None
    with store.tx() as conn:
        conn.execute(authorizations.insert().values(
            number="SQ-9", programme="dibao", covered="p1", signed_on="2026-11-01",
            valid_from="2026-11-01", valid_until="2027-10-31", document_sha256="ab" * 32,
            revoked=True, revoked_at=NOW, revocation_reason="withdrawn", registered_by="op-1",
            registered_at=NOW))
    r = store.authorization("SQ-9")
    assert r is not None and r["revoked"] and r["revoked_at"] == NOW
    assert r["registered_at"] == NOW and r["covered"] == "p1"


def test_a_search_finds_cases_by_member_key_dates_and_scope(store: CaseStore) -> None:
    """SearchCases' query on both databases: the keyed member digest (never a number),
    the opening instant range, the scope."""
    for n, (when, township) in enumerate([(NOW, "310112001"),
                                          (NOW - dt.timedelta(days=40), "310112002")]):
        store.insert_case({
            "case_id": f"case-{n}", "state": "CASE_STATE_OPEN", "programme": "dibao",
            "region": "310000", "authorization_number": "SQ-1", "operator": "op-1",
            "members_sealed": b"\x01m", "outcome": "", "report_digest": b"",
            "created_at": when, "updated_at": when, "version": 0, "claimed_by": "",
            "batch_key": None, "township": township,
        }, ["tax"], member_keys=[("k-shared", "id"), (f"k-name-{n}", "name")])
    found = store.search(member_key=("k-shared", "id"), limit=10, offset=0)
    assert [r.case_id for r in found] == ["case-0", "case-1"]  # newest first
    assert store.search(member_key=("k-shared", "name"), limit=10, offset=0) == []
    assert [r.case_id for r in store.search(member_key=("k-name-1", "name"), limit=10,
                                            offset=0)] == ["case-1"]
    recent = store.search(opened_from=NOW - dt.timedelta(days=1), limit=10, offset=0)
    assert [r.case_id for r in recent] == ["case-0"]
    older = store.search(opened_before=NOW - dt.timedelta(days=1), limit=10, offset=0)
    assert [r.case_id for r in older] == ["case-1"]
    scoped = store.search(member_key=("k-shared", "id"), townships=["310112002"], limit=10,
                          offset=0)
    assert [r.case_id for r in scoped] == ["case-1"]
    assert store.search(member_key=("k-shared", "id"), townships=[], limit=10, offset=0) == []
    assert [r.case_id for r in store.search(case_id="case-1", state="CASE_STATE_OPEN",
                                            limit=10, offset=0)] == ["case-1"]
    page = store.search(member_key=("k-shared", "id"), limit=1, offset=1)
    assert [r.case_id for r in page] == ["case-1"]


def test_cases_from_before_the_search_keys_get_theirs_at_start(store: CaseStore) -> None:
    """``member_keys.backfill``: every case without keys gets its members' digests, once;
    the keys hold no ID number and no name."""
    from types import SimpleNamespace

    from hedui.audit.pseudonym import Pseudonymizer
    from hedui.gateway import member_keys
    from hedui.v1 import case_pb2

    people = {"case-a": [case_pb2.Member(id_number="11010519491231002X", name="张 三")],
              "case-b": [case_pb2.Member(id_number="110105195001010012", name="李四")]}
    for case_id in people:
        _open(store, case_id)
    manager = SimpleNamespace(store=store,
                              recorder=SimpleNamespace(pseudonymizer=Pseudonymizer(b"k" * 32)),
                              members=lambda row: people[row.case_id])
    assert member_keys.backfill(manager) == 2
    assert member_keys.backfill(manager) == 0  # nothing left without keys
    p = manager.recorder.pseudonymizer
    assert member_keys.cases_with(store, p.pseudonym("11010519491231002x"), "id") == ["case-a"]
    assert member_keys.cases_with(store, p.name_key("张三"), "name") == ["case-a"]
    with store.read() as conn:
        keys = " ".join(r[0] for r in conn.execute(text("SELECT key FROM case_member_keys")))
    assert "110105" not in keys and "张" not in keys

"""The roster, re-verification runs and alerts on both backends: claims are exclusive
(threads and processes), a decision is stored once and only by its claimer, a dead
claimer's households are taken over, and the counts add up.

PostgreSQL: ``HEDUI_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
one fresh schema per test, dropped afterwards; skipped with the reason when unreachable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from hedui.gateway import migrations as case_migrations
from hedui.gateway.sealing import Vault
from hedui.gateway.store import CaseRow, make_engine
from hedui.gateway.store_alerts import AlertConflict, PendingAlert
from hedui.gateway.store_roster import ClaimLost, RosterEntry, RosterStore, roster
from hedui.v1 import case_pb2, records_pb2

PG = os.environ.get("HEDUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
KEY = b"\x07" * 32
STALE = dt.timedelta(minutes=10)


def pseudonym(id_number: str) -> str:
    return hashlib.sha256(b"test" + id_number.encode()).hexdigest()


@dataclass
class Db:
    url: str
    store: RosterStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    else:
        schema = f"t_roster_{uuid.uuid4().hex[:12]}"
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
    engine = make_engine(url)
    try:
        yield Db(url, RosterStore(engine, Vault(KEY), pseudonym=pseudonym))
    finally:
        engine.dispose()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def entry(i: int, township: str = "t01") -> RosterEntry:
    return RosterEntry(
        household_ref=f"H{i:04d}",
        members=[case_pb2.Member(id_number=f"ID-{i:04d}-A", name=f"张{i}",
                                 relation=records_pb2.RELATION_SELF),
                 case_pb2.Member(id_number=f"ID-{i:04d}-B", name=f"李{i}",
                                 relation=records_pb2.RELATION_SPOUSE)],
        region="320102", township=township, enrolled_on=dt.date(2025, 6, 1),
        authorization_number=f"SQ-{i}", consent_digest="ab" * 32,
        authorization_valid_until=dt.date(2028, 5, 31))


def fill(store: RosterStore, n: int, programme: str = "dibao") -> list[str]:
    return list(store.import_rows(programme, [entry(i, f"t{i % 3:02d}") for i in range(n)],
                                  source="import:0123456789abcdef", now=NOW).added)


def alert(grade: str) -> PendingAlert:
    return PendingAlert(grade, dt.date(2027, 3, 8), json.dumps({"grade": grade}).encode())


# ------------------------------------------------------------------ roster


def test_import_is_idempotent_and_members_are_sealed(db: Db) -> None:
    s = db.store
    added = fill(s, 5)
    assert len(added) == 5
    again = s.import_rows("dibao", [entry(i) for i in range(7)], source="import:x", now=NOW)
    assert len(again.added) == 2 and again.skipped == 5
    rows = s.list_active("dibao")
    assert len(rows) == 7 and s.list_active("tekun") == []
    row = s.roster_row(added[0])
    assert row is not None and row.enrolled_on == dt.date(2025, 6, 1)
    assert row.authorization_valid_until == dt.date(2028, 5, 31) and row.created_at == NOW
    assert b"ID-" not in row.members_sealed
    assert all(m.id_number.startswith("ID-") for m in s.members(row))
    assert row.applicant_pseudonym == pseudonym(s.members(row)[0].id_number)
    with s.read() as conn:
        raw = b"".join(bytes(r[0]) for r in conn.execute(roster.select().with_only_columns(
            roster.c.members_sealed)))
    assert b"ID-" not in raw


def test_enroll_from_a_case_and_again_refreshes_the_row(db: Db) -> None:
    s = db.store
    members = list(entry(1).members)
    case = CaseRow(case_id="case-9", state="CASE_STATE_DECIDED", programme="dibao",
                   region="320102", authorization_number="SQ-9", operator="op",
                   members_sealed=b"", outcome="OUTCOME_ELIGIBLE", report_digest=b"",
                   created_at=NOW, updated_at=NOW, version=3, claimed_by="",
                   application_date=dt.date(2027, 2, 1), township="t05",
                   applicant_key=pseudonym(members[0].id_number))
    rid = s.enroll_case(case, members, authorization={"valid_until": "2028-01-31",
                                                      "document_sha256": "cd" * 32}, now=NOW)
    row = s.roster_row(rid)
    assert row is not None and row.source == "case:case-9" and row.township == "t05"
    assert row.consent_digest == "cd" * 32 and row.enrolled_on == dt.date(2027, 2, 1)
    assert s.deactivate(rid) and s.list_active("dibao") == []
    # enrolled again (a newer case): the same row, active again; an import skips it
    assert s.enroll_case(case, members, now=NOW) == rid
    assert [r.roster_id for r in s.list_active("dibao")] == [rid]
    assert s.import_rows("dibao", [entry(1)], source="import:y").skipped == 1


# ------------------------------------------------------------------ runs


def test_a_run_covers_the_active_households_and_finishes(db: Db) -> None:
    s = db.store
    ids = fill(s, 6)
    s.deactivate(ids[0])
    run = s.create_run("dibao", dt.date(2027, 3, 1), "op-1", now=NOW)
    p = s.progress(run)
    assert p is not None and p.households == 5 and p.by_state["PENDING"] == 5
    assert p.state == "PENDING" and [r.run_id for r in s.resumable_runs()] == [run]
    got = s.claim(run, "w1", 10, STALE, now=NOW)
    assert sorted(r.roster_id for r in got) == sorted(ids[1:])
    assert not s.finish_run(run)
    grades = ["red", "orange", None, "yellow", "red"]
    for r, g in zip(got, grades, strict=True):
        s.record_decision(run, r.roster_id, "w1", "OUTCOME_ELIGIBLE", b"det", b"d" * 32,
                          alert(g) if g else None, now=NOW)
    p = s.progress(run)
    assert p is not None and p.by_state["DECIDED"] == 5 and p.done
    assert p.alerts == {"red": 2, "orange": 1, "yellow": 1}
    assert s.finish_run(run) and s.resumable_runs() == []
    assert s.claim(run, "w2", 10, STALE, now=NOW) == []
    counts = s.counts_by_grade_and_township()
    assert sum(counts.values()) == 4
    by_township = {t for _g, t in counts}
    assert by_township <= {"t00", "t01", "t02"}
    assert counts == {(a.grade, a.township): counts[(a.grade, a.township)]
                      for a in s.list_alerts()}
    reds = s.list_alerts(grade="red")
    assert len(reds) == 2 and all(a.programme == "dibao" for a in reds)
    assert s.alert_changes(reds[0]) == b'{"grade": "red"}'
    assert [a.grade for a in s.list_alerts()] == ["red", "red", "orange", "yellow"]
    assert s.list_alerts(townships=[]) == []


def test_record_decision_twice_is_refused_and_stores_nothing(db: Db) -> None:
    s = db.store
    fill(s, 1)
    run = s.create_run("dibao", dt.date(2027, 3, 1), "op-1", now=NOW)
    (r,) = s.claim(run, "w1", 5, STALE, now=NOW)
    with pytest.raises(ClaimLost):
        s.record_decision(run, r.roster_id, "w2", "OUTCOME_ELIGIBLE", b"x", b"x", None)
    assert s.record_decision(run, r.roster_id, "w1", "OUTCOME_ELIGIBLE", b"det", b"1" * 32,
                             alert("red"), now=NOW) is not None
    with pytest.raises(ClaimLost):
        s.record_decision(run, r.roster_id, "w1", "OUTCOME_INELIGIBLE", b"det2", b"2" * 32,
                          alert("red"), now=NOW)
    p = s.progress(run)
    assert p is not None and p.alerts["red"] == 1 and p.by_state["DECIDED"] == 1
    assert len(s.list_alerts()) == 1


def test_a_dead_claimers_households_are_taken_over(db: Db) -> None:
    s = db.store
    fill(s, 4)
    run = s.create_run("dibao", dt.date(2027, 3, 1), "op-1", now=NOW)
    dead = s.claim(run, "w-dead", 3, STALE, now=NOW)
    assert len(dead) == 3
    # not stale yet: only the fourth is left
    assert len(s.claim(run, "w2", 10, STALE, now=NOW + dt.timedelta(minutes=5))) == 1
    later = NOW + STALE + dt.timedelta(seconds=1)
    taken = s.claim(run, "w2", 10, STALE, now=later)
    assert sorted(r.roster_id for r in taken) == sorted(r.roster_id for r in dead)
    # the dead claimer wakes up: its decision is refused
    with pytest.raises(ClaimLost):
        s.record_decision(run, dead[0].roster_id, "w-dead", "OUTCOME_ELIGIBLE", b"x", b"x",
                          None)
    for r in taken:
        s.record_decision(run, r.roster_id, "w2", "OUTCOME_ELIGIBLE", b"ok", b"o" * 32, None)
    p = s.progress(run)
    assert p is not None and p.by_state == {"PENDING": 0, "CLAIMED": 1, "DECIDED": 3,
                                            "FAILED": 0}


def test_previous_determination_comes_from_the_earlier_run(db: Db) -> None:
    s = db.store
    (rid,) = fill(s, 1)
    first = s.create_run("dibao", dt.date(2026, 3, 1), "op-1", now=NOW)
    s.claim(first, "w", 1, STALE, now=NOW)
    s.record_decision(first, rid, "w", "OUTCOME_ELIGIBLE", b"report-2026", b"a" * 32, None,
                      now=NOW)
    second = s.create_run("dibao", dt.date(2027, 3, 1), "op-1", now=NOW)
    assert s.previous_determination(rid, before_run=second) == (first, b"a" * 32,
                                                                 b"report-2026")
    s.claim(second, "w", 1, STALE, now=NOW)
    s.record_failure(second, rid, "w", "tax did not answer", now=NOW)
    assert s.previous_determination(rid) == (first, b"a" * 32, b"report-2026")
    assert s.progress(second).by_state["FAILED"] == 1  # type: ignore[union-attr]
    assert s.cancel_run(second) and not s.cancel_run(second)


def test_claims_are_exclusive_across_threads(db: Db) -> None:
    s = db.store
    fill(s, 60)
    run = s.create_run("dibao", dt.date(2027, 3, 1), "op-1", now=NOW)
    taken: dict[str, list[str]] = {}

    def work(name: str) -> None:
        mine = taken.setdefault(name, [])
        while batch := s.claim(run, name, 4, STALE):
            for r in batch:
                s.record_decision(run, r.roster_id, name, "OUTCOME_ELIGIBLE", b"d", b"d", None)
                mine.append(r.roster_id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [r for rows in taken.values() for r in rows]
    assert len(every) == len(set(every)) == 60
    assert s.progress(run).by_state["DECIDED"] == 60  # type: ignore[union-attr]


WORKER = """
import datetime as dt, json, sys
from hedui.gateway.sealing import Vault
from hedui.gateway.store import make_engine
from hedui.gateway.store_roster import RosterStore
url, run, name = sys.argv[1:4]
engine = make_engine(url)
s = RosterStore(engine, Vault(b"\\x07" * 32))
mine = []
while batch := s.claim(run, name, 3, dt.timedelta(minutes=10)):
    for r in batch:
        s.record_decision(run, r.roster_id, name, "OUTCOME_ELIGIBLE", b"d", b"d", None)
        mine.append(r.roster_id)
engine.dispose()
print(json.dumps(mine))
"""


def test_claims_are_exclusive_across_processes(db: Db) -> None:
    s = db.store
    fill(s, 45)
    run = s.create_run("dibao", dt.date(2027, 3, 1), "op-1", now=NOW)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db.url, run, f"p{i}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    every: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        every += json.loads(out)
    assert len(every) == len(set(every)) == 45
    assert s.progress(run).by_state["DECIDED"] == 45  # type: ignore[union-attr]


def test_an_alert_is_acted_on_once(db: Db) -> None:
    s = db.store
    (rid,) = fill(s, 1)
    run = s.create_run("dibao", dt.date(2027, 3, 1), "op-1", now=NOW)
    s.claim(run, "w", 1, STALE, now=NOW)
    aid = s.record_decision(run, rid, "w", "OUTCOME_INELIGIBLE", b"d", b"d", alert("red"),
                            now=NOW)
    assert aid is not None
    row = s.act_on_alert(aid, "CONFIRMED", "op-2", "收入确有增加", now=NOW)
    assert row.state == "CONFIRMED" and row.acted_by == "op-2" and row.acted_at == NOW
    assert s.alert_note(row) == "收入确有增加" and "收入".encode() not in (row.note_sealed or b"")
    with pytest.raises(AlertConflict):
        s.act_on_alert(aid, "DISMISSED", "op-3", "no")
    with pytest.raises(ValueError):
        s.act_on_alert(aid, "OPEN", "op-3")
    assert s.list_alerts() == [] and len(s.list_alerts(state="CONFIRMED")) == 1
    assert s.counts_by_grade_and_township() == {}

"""A chunk of decisions commits whole or not at all, on both backends: every household
must still be its claimer's; alerts and the run's counts come with it; the previous
determinations of a chunk are read in one go."""

from __future__ import annotations

import datetime as dt

import pytest
from test_roster_store import NOW, STALE, Db, db, entry  # noqa: F401  (db: the fixture, both backends)

from hedui.gateway.store_alerts import PendingAlert
from hedui.gateway.store_decisions import Decided
from hedui.gateway.store_roster import ClaimLost


def _run(d: Db, n: int) -> tuple[str, list[str]]:
    d.store.import_rows("dibao", [entry(i) for i in range(n)], source="import:t")
    run_id = d.store.create_run("dibao", NOW.date(), "op-1001", now=NOW)
    rows = d.store.claim(run_id, "w1", n, STALE, now=NOW)
    return run_id, [r.roster_id for r in rows]


def _decided(roster_id: str, *, grade: str | None = None) -> Decided:
    alert = PendingAlert(grade, NOW.date() + dt.timedelta(days=7), b"{}") if grade else None
    return Decided(roster_id=roster_id, township="t01", outcome="OUTCOME_ELIGIBLE",
                   determination=b"env-" + roster_id.encode(),
                   digest=roster_id.encode().ljust(32, b"\0")[:32], alert=alert)


def test_a_chunk_commits_its_decisions_alerts_and_counts(db: Db) -> None:  # noqa: F811
    run_id, ids = _run(db, 6)
    alerts = db.store.record_decisions(
        run_id, "w1", [_decided(r, grade="red" if i < 2 else None) for i, r in enumerate(ids)],
        now=NOW)
    assert set(alerts) == set(ids[:2])
    p = db.store.progress(run_id)
    assert p is not None and p.by_state["DECIDED"] == 6 and p.alerts["red"] == 2
    assert len(db.store.list_alerts(run_id=run_id)) == 2


def test_a_chunk_with_one_household_taken_over_stores_nothing(db: Db) -> None:  # noqa: F811
    run_id, ids = _run(db, 4)
    # w1's claim went stale; w2 took the households over and decided one of them
    later = NOW + STALE + dt.timedelta(seconds=1)
    taken = db.store.claim(run_id, "w2", 1, STALE, now=later)
    assert len(taken) == 1
    with pytest.raises(ClaimLost):
        db.store.record_decisions(run_id, "w1", [_decided(r, grade="red") for r in ids],
                                  now=later)
    p = db.store.progress(run_id)
    assert p is not None and p.by_state["DECIDED"] == 0 and p.alerts.get("red", 0) == 0
    assert db.store.list_alerts(run_id=run_id) == []


def test_a_chunk_decided_twice_is_refused(db: Db) -> None:  # noqa: F811
    run_id, ids = _run(db, 3)
    db.store.record_decisions(run_id, "w1", [_decided(r) for r in ids], now=NOW)
    with pytest.raises(ClaimLost):
        db.store.record_decisions(run_id, "w1", [_decided(r) for r in ids], now=NOW)
    p = db.store.progress(run_id)
    assert p is not None and p.by_state["DECIDED"] == 3


def test_previous_determinations_of_a_chunk_are_the_latest_of_other_runs(db: Db) -> None:  # noqa: F811
    first, ids = _run(db, 3)
    db.store.record_decisions(first, "w1", [_decided(r) for r in ids], now=NOW)
    second = db.store.create_run("dibao", NOW.date(), "op-1001", now=NOW)
    db.store.claim(second, "w1", 3, STALE, now=NOW)
    found = db.store.previous_determinations(ids, before_run=second)
    assert set(found) == set(ids)
    assert all(run == first and raw == b"env-" + r.encode()
               for r, (run, _digest, raw) in found.items())
    assert db.store.previous_determinations(ids, before_run=first) == {}


def test_a_restarted_claimer_takes_its_own_households_back_at_once(db: Db) -> None:  # noqa: F811
    run_id, ids = _run(db, 5)  # all five CLAIMED by w1, which then "crashed"
    assert db.store.claim(run_id, "w1", 5, STALE, now=NOW) == []  # nothing free
    assert db.store.release_claims("w2") == 0  # another claimer's are left alone
    assert db.store.release_claims("w1") == 5
    again = db.store.claim(run_id, "w1", 5, STALE, now=NOW)
    assert sorted(r.roster_id for r in again) == sorted(ids)

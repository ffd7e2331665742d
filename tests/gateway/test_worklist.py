"""The worklist: due dates in working days, overdue, and the three actions with their
rules — a note or reason required, OPEN only, the audit entry never carrying the note."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedui.gateway import migrations as case_migrations
from hedui.gateway import worklist
from hedui.gateway.alerts import Snapshot, grade
from hedui.gateway.sealing import Vault
from hedui.gateway.store import make_engine
from hedui.gateway.store_roster import RosterEntry, RosterStore
from hedui.gateway.working_days import packaged
from hedui.v1 import audit_pb2, case_pb2, records_pb2

NOW = dt.datetime(2026, 9, 18, 2, 0, tzinfo=dt.UTC)  # Friday 10:00 in China
CAL = packaged()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RosterStore]:
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    case_migrations.upgrade(url)
    engine = make_engine(url)
    try:
        yield RosterStore(engine, Vault(b"\x09" * 32),
                          pseudonym=lambda n: hashlib.sha256(n.encode()).hexdigest())
    finally:
        engine.dispose()


def raise_alert(store: RosterStore, grade_: str = "red") -> str:
    rid = store.enroll("dibao", RosterEntry(
        household_ref="H1", members=[case_pb2.Member(id_number="X1", name="张三",
                                                     relation=records_pb2.RELATION_SELF)],
        region="320102", township="t01", enrolled_on=dt.date(2025, 1, 1),
        authorization_number="SQ-1"), source="import:ab", now=NOW)
    run = store.create_run("dibao", dt.date(2026, 9, 18), "op-1", now=NOW)
    store.claim(run, "w", 1, dt.timedelta(minutes=5), now=NOW)
    rules = (case_pb2.RuleResult(rule_id="income", figure_fen=120_000, limit_fen=100_000,
                                 verdict=case_pb2.RuleResult.VERDICT_FAIL),)
    a = grade(None, Snapshot(case_pb2.OUTCOME_INELIGIBLE, rules))
    assert a is not None
    pending = worklist.pending_alert(a, raised_at=NOW, calendar=CAL,
                                     days={"red": 5, "orange": 10, "yellow": 15})
    assert pending.grade == "red"
    alert_id = store.record_decision(run, rid, "w", "OUTCOME_INELIGIBLE", b"d", b"d" * 32,
                                     pending, now=NOW)
    assert alert_id is not None
    return alert_id


def test_due_dates_count_working_days_on_the_calendar() -> None:
    friday = dt.date(2026, 9, 18)
    # Sunday 09-20 is a make-up working day, 09-25 the Mid-Autumn holiday
    assert worklist.due_on("red", friday, CAL) == dt.date(2026, 9, 24)
    assert worklist.due_on("orange", friday, CAL) > worklist.due_on("red", friday, CAL)
    assert worklist.due_on("yellow", friday, CAL, {"yellow": 1}) == dt.date(2026, 9, 20)
    with pytest.raises(ValueError):
        worklist.due_on("purple", friday, CAL)


def test_an_alert_is_overdue_after_its_due_date_while_open(store: RosterStore) -> None:
    row = store.alert(raise_alert(store))
    assert row is not None and row.due_on == dt.date(2026, 9, 24)
    assert not worklist.is_overdue(row, dt.date(2026, 9, 24))
    assert worklist.is_overdue(row, dt.date(2026, 9, 25))
    assert worklist.working_days_left(row, dt.date(2026, 9, 18), CAL) == 5
    acted = worklist.confirm(store, row.alert_id, "op-2", "核实无误", now=NOW).alert
    assert not worklist.is_overdue(acted, dt.date(2026, 12, 1))


def test_confirm_needs_a_note_and_logs_no_note_text(store: RosterStore) -> None:
    alert_id = raise_alert(store)
    with pytest.raises(worklist.WorklistError) as err:
        worklist.confirm(store, alert_id, "op-2", "   ")
    assert err.value.code == "NOTE_REQUIRED"
    done = worklist.confirm(store, alert_id, "op-2", "已入户核实，工资上涨属实", now=NOW)
    assert done.alert.state == "CONFIRMED" and store.alert_note(done.alert).startswith("已入户")
    entry = done.audit
    assert entry["kind"] == audit_pb2.AUDIT_KIND_ALERT_ACTED == 40
    assert entry["operator"] == "op-2" and alert_id in entry["reason"]
    assert "confirmed" in entry["reason"] and "工资" not in str(entry)
    assert entry["pseudonyms"] == [done.alert.applicant_pseudonym]
    assert entry["purpose"] == "dibao" and entry["case_id"] == done.alert.run_id


def test_dismiss_needs_a_reason(store: RosterStore) -> None:
    alert_id = raise_alert(store)
    with pytest.raises(worklist.WorklistError) as err:
        worklist.dismiss(store, alert_id, "op-2", "")
    assert err.value.code == "REASON_REQUIRED"
    with pytest.raises(worklist.WorklistError) as err:
        worklist.dismiss(store, alert_id, "op-2", "x" * (worklist.MAX_NOTE + 1))
    assert err.value.code == "NOTE_TOO_LONG"
    done = worklist.dismiss(store, alert_id, "op-2", "一次性补发工资，不影响", now=NOW)
    assert done.alert.state == "DISMISSED" and "dismissed" in done.audit["reason"]
    assert "补发" not in done.audit["reason"]


def test_open_review_first_says_what_is_needed_then_records_the_case(
        store: RosterStore) -> None:
    alert_id = raise_alert(store)
    needed = worklist.open_review(store, alert_id, "op-2")
    assert isinstance(needed, worklist.ReviewNeeded)
    assert needed.programme == "dibao" and needed.township == "t01"
    assert alert_id in needed.repeat_reason
    assert store.alert(alert_id).state == "OPEN"  # type: ignore[union-attr]
    done = worklist.open_review(store, alert_id, "op-2", "case-77", now=NOW)
    assert isinstance(done, worklist.Acted)
    assert done.alert.state == "REVIEW_OPENED" and done.alert.review_case_id == "case-77"
    assert "case-77" in done.audit["reason"]


@pytest.mark.parametrize("second", ["confirm", "dismiss", "open_review", "open_review_id"])
def test_an_alert_acted_on_refuses_every_further_action(store: RosterStore,
                                                        second: str) -> None:
    alert_id = raise_alert(store)
    worklist.dismiss(store, alert_id, "op-2", "不属实")
    with pytest.raises(worklist.WorklistError) as err:
        if second == "confirm":
            worklist.confirm(store, alert_id, "op-3", "note")
        elif second == "dismiss":
            worklist.dismiss(store, alert_id, "op-3", "reason")
        elif second == "open_review":
            worklist.open_review(store, alert_id, "op-3")
        else:
            worklist.open_review(store, alert_id, "op-3", "case-1")
    assert err.value.code == "NOT_OPEN"
    assert store.alert(alert_id).acted_by == "op-2"  # type: ignore[union-attr]


def test_no_such_alert(store: RosterStore) -> None:
    with pytest.raises(worklist.WorklistError) as err:
        worklist.confirm(store, "al-none", "op-2", "note")
    assert err.value.code == "NO_SUCH_ALERT"

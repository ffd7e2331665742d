"""Scheduled re-verification: a programme is due months after its last run (or its first
enrolment), never while a run of it is open; a scheduled run is started only as an
active verifier named in ``[reverification] scheduled_by``, and says so in the log."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric
from test_roster_store import NOW, Db, db, entry  # noqa: F401  (db: the fixture, both backends)

from hedui.gateway import config as config_mod
from hedui.gateway import sandbox, server
from hedui.gateway.reverify_runner import reverifier_for
from hedui.gateway.reverify_schedule import Schedule, add_months, due_programmes, start_due
from hedui.v1 import audit_pb2, case_pb2, records_pb2


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(dt.date(2025, 6, 1), 12) == dt.date(2026, 6, 1)
    assert add_months(dt.date(2025, 8, 31), 6) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2025, 11, 15), 2) == dt.date(2026, 1, 15)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)),
       st.integers(min_value=1, max_value=60))
def test_add_months_moves_whole_months(day: dt.date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year - day.year) * 12 + later.month - day.month == months
    assert later.day == day.day or (
        later.day < day.day and (later + dt.timedelta(days=1)).day == 1)


def test_a_programme_is_due_a_year_after_its_first_enrolment(db: Db) -> None:  # noqa: F811
    db.store.import_rows("dibao", [entry(1), entry(2)], source="import:t")  # 2025-06-01
    yearly = Schedule("op-1001")
    assert due_programmes(db.store, yearly, dt.date(2026, 5, 31)) == []
    assert due_programmes(db.store, yearly, dt.date(2026, 6, 1)) == ["dibao"]
    half = Schedule("op-1001", programmes={"dibao": 6})
    assert due_programmes(db.store, half, dt.date(2025, 12, 1)) == ["dibao"]


def test_a_standard_that_says_half_yearly_makes_it_due_after_six_months(db: Db) -> None:  # noqa: F811
    import dataclasses as dc

    from hedui.gateway.standards import StandardsLibrary

    shipped = StandardsLibrary(Path(__file__).parents[2] / "deploy" / "standards")
    base = shipped.select("310000", "dibao", dt.date(2025, 12, 1))
    half = StandardsLibrary(standards=[dc.replace(base, reverify_every_months=6)])
    db.store.import_rows("dibao", [dc.replace(entry(1), region="310000")],
                         source="import:t")  # enrolled 2025-06-01
    on = dt.date(2025, 12, 1)
    assert due_programmes(db.store, Schedule("op-1001"), on, standards=shipped) == []
    assert due_programmes(db.store, Schedule("op-1001"), on, standards=half) == ["dibao"]
    # gateway.toml's programme months win over the standard's
    yearly = Schedule("op-1001", programmes={"dibao": 12})
    assert due_programmes(db.store, yearly, on, standards=half) == []


def test_a_standard_accepts_only_six_or_twelve_months() -> None:
    from hedui.gateway.standards import InvalidStandard, parse_standard_text

    text = (Path(__file__).parents[2] / "deploy" / "standards" /
            "shanghai-dibao-2021.toml").read_text(encoding="utf-8")
    head, sep, rest = text.partition("income_window_months")
    assert sep
    assert parse_standard_text(head + "reverify_every_months = 6\n" + sep + rest,
                               "t.toml").reverify_every_months == 6
    with pytest.raises(InvalidStandard, match="reverify_every_months"):
        parse_standard_text(head + "reverify_every_months = 9\n" + sep + rest, "t.toml")


def test_an_open_run_or_a_recent_one_makes_it_not_due(db: Db) -> None:  # noqa: F811
    db.store.import_rows("dibao", [entry(1)], source="import:t")
    run_id = db.store.create_run("dibao", dt.date(2026, 6, 1), "op-1001", now=NOW)
    assert due_programmes(db.store, Schedule("op-1001"), dt.date(2026, 7, 1)) == []
    db.store.cancel_run(run_id)  # a cancelled run does not count as done
    assert due_programmes(db.store, Schedule("op-1001"), dt.date(2026, 7, 1)) == ["dibao"]
    done = db.store.create_run("dibao", dt.date(2026, 7, 1), "op-1001", now=NOW)
    db.store.claim(done, "w", 10, dt.timedelta(minutes=5), now=NOW)
    for row in db.store.list_active("dibao"):
        db.store.record_failure(done, row.roster_id, "w", "test", now=NOW)
    assert db.store.finish_run(done)
    assert due_programmes(db.store, Schedule("op-1001"), dt.date(2027, 6, 30)) == []
    assert due_programmes(db.store, Schedule("op-1001"), dt.date(2027, 7, 1)) == ["dibao"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory):
    sb = sandbox.provision(tmp_path_factory.mktemp("schedule") / "site", persons=20,
                           people=True)
    gw = server.build(config_mod.load(sb.gateway_config))
    yield gw
    asyncio.run(gw.close())


def _entries(gw) -> list[audit_pb2.AuditEntry]:  # type: ignore[no-untyped-def]
    return [audit_pb2.AuditEntry.FromString(gw.audit_log.leaf(i))
            for i in range(gw.audit_log.size())]


def test_only_an_active_verifier_starts_scheduled_runs(gateway, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rv = reverifier_for(gateway, claimer="test")
    body = "31010119800101007"
    member = case_pb2.Member(id_number=body + ric.calc_check_digit(body + "0"), name="王七",
                             relation=records_pb2.RELATION_SELF)
    rv.roster.import_rows("low-income", [dataclasses.replace(entry(7), members=[member])],
                          source="import:t")
    today = dt.date(2026, 6, 1)

    def start(staff: str) -> list[str]:
        return list(asyncio.run(start_due(
            rv.roster, Schedule(staff), registry=gateway.cases.registry,
            recorder=gateway.cases.recorder, today=today)))

    assert start("") == [] and start("nobody-9999") == []
    assert start(sandbox.REVIEWER) == []  # a reviewer may not run re-verification
    (run_id,) = start(sandbox.VERIFIER)
    progress = rv.roster.progress(run_id)
    assert progress is not None and progress.started_by == sandbox.VERIFIER
    assert progress.programme == "low-income" and progress.as_of == today
    (logged,) = [e for e in _entries(gateway) if e.case_id == run_id]
    assert logged.kind == audit_pb2.AUDIT_KIND_REVERIFICATION_RUN
    assert logged.operator == sandbox.VERIFIER and logged.reason.startswith("scheduled")
    assert start(sandbox.VERIFIER) == []  # its run is open: not due again

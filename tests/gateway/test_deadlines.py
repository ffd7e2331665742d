"""Feedback deadlines: ``[deadlines]`` in gateway.toml, a deadline on the calendar, and
the store's overdue queries agreeing with the per-case deadline (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from hedui.gateway import config, deadlines, working_days
from hedui.gateway import migrations as case_migrations
from hedui.gateway.config import DeadlineSettings
from hedui.gateway.deadlines import CHINA, FeedbackDeadlines, deadline_of, working_days_for
from hedui.gateway.store import CaseStore, DepartmentPart

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "gateway.toml"
PG = os.environ.get("HEDUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CAL = working_days.packaged()
D = dt.date


def _gateway_toml(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return path


def _china(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=CHINA)


# ----------------------------------------------------------------- configuration


def test_defaults_without_a_deadlines_section(tmp_path: Path) -> None:
    loaded = config.load(_gateway_toml(tmp_path, ""))
    assert loaded.deadlines == DeadlineSettings(5, {}, None)
    assert loaded.retry_failed_every == 30 * 60 and loaded.retry_failed_per_sweep == 20
    assert working_days_for(loaded, "tax") == 5


def test_a_department_of_its_own_and_another_calendar(tmp_path: Path) -> None:
    own = tmp_path / "cal.toml"
    own.write_bytes((importlib.resources.files("hedui.gateway") / working_days.PACKAGED)
                    .read_bytes())
    loaded = config.load(_gateway_toml(tmp_path, (
        '[deadlines]\nworking_days = 7\ncalendar = "cal.toml"\n'
        "[deadlines.departments]\nbanks = 10\n")))
    assert working_days_for(loaded, "banks") == 10
    assert working_days_for(loaded, "tax") == 7
    assert loaded.deadlines.calendar == own.resolve()
    assert FeedbackDeadlines.from_config(loaded).calendar.source == str(own.resolve())


def test_retry_schedule_settings(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "[fanout]\n", "[fanout]\nretry_failed_every_minutes = 0\nretry_failed_per_sweep = 5\n")
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    loaded = config.load(path)
    assert loaded.retry_failed_every == 0 and loaded.retry_failed_per_sweep == 5


@pytest.mark.parametrize(("extra", "expected"), [
    ("[deadline]\nworking_days = 3\n",
     "[deadline] is not a known section; did you mean [deadlines]?"),
    ("[deadlines]\nworking_day = 3\n",
     "[deadlines] working_day is not a known key; did you mean working_days?"),
    ("[deadlines.departments]\nbank = 10\n",
     "bank is not a department; did you mean 'banks'?"),
    ("[deadlines.departments]\nbanks = 0\n", "banks = 0: a deadline is 1 to 60 working days"),
    ("[deadlines]\nworking_days = 0\n", "[deadlines] working_days: Input should be greater"),
    ('[deadlines]\nworking_days = "5"\n', "[deadlines] working_days: Input should be a valid "
                                         "integer"),
    ('[deadlines]\ncalendar = "nowhere.toml"\n', "[deadlines] calendar: calendar file"),
])
def test_a_typo_or_a_wrong_value_is_refused(tmp_path: Path, extra: str, expected: str) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.load(_gateway_toml(tmp_path, extra))
    message = str(caught.value)
    assert expected in message and "\n" not in message


def test_a_bad_calendar_file_stops_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "cal.toml").write_text(
        '[years.2027]\nnotice = "x"\n[[years.2027.holidays]]\nname = "元旦"\n'
        "first = 2027-01-01\nlast = 2027-01-01\nmake_up = [2027-01-04]\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match="2027-01-04 is a Monday"):
        config.load(_gateway_toml(tmp_path, '[deadlines]\ncalendar = "cal.toml"\n'))


# ------------------------------------------------------------------- deadlines


def test_deadline_across_national_day_2026_with_its_make_up_days() -> None:
    """Opened Wednesday 09-30, 5 working days: 10-01…07 off, Saturday 10-10 worked —
    10-08 Thu, 10-09 Fri, 10-10 Sat, 10-12 Mon, 10-13 Tue."""
    settings_ = DeadlineSettings(working_days=5, departments={"banks": 10})
    assert deadline_of(_china(2026, 9, 30), "tax", settings_, CAL) == D(2026, 10, 13)
    # banks, 10: … 10-14 Wed, 10-15, 10-16, 10-19 Mon, 10-20 Tue
    assert deadline_of(_china(2026, 9, 30), "banks", settings_, CAL) == D(2026, 10, 20)
    # opened on the make-up Sunday 09-20: the day itself does not count
    assert deadline_of(_china(2026, 9, 20), "tax", settings_, CAL) == D(2026, 9, 28)


def test_the_opening_day_is_china_s_date() -> None:
    """23:30 UTC on 09-17 is already Friday 09-18 in China."""
    late = dt.datetime(2026, 9, 17, 23, 30, tzinfo=dt.UTC)
    assert deadlines.china_date(late) == D(2026, 9, 18)
    assert deadline_of(late, "tax", DeadlineSettings(), CAL) == D(2026, 9, 24)


@settings(max_examples=150, deadline=None)
@given(opened=st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 10, 31)),
       after=st.integers(min_value=0, max_value=40), n=st.integers(min_value=1, max_value=15))
def test_the_cutoff_agrees_with_each_deadline(opened: dt.date, after: int, n: int) -> None:
    """Opened before the cutoff ⇔ today is after the deadline (the store's query and
    the case's own flag never disagree)."""
    today = opened + dt.timedelta(days=after)
    at = dt.datetime.combine(opened, dt.time(12), CHINA)
    due = CAL.add_working_days(opened, n)
    assert (at < deadlines.cutoff(today, n, CAL)) == deadlines.is_overdue(due, today)


# ------------------------------------------------------------------ the store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    else:
        schema = f"t_deadline_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG)
        try:
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        except OperationalError as exc:
            admin.dispose()
            pytest.skip(f"PostgreSQL not reachable at {PG}: {exc}")
        url = f"{PG}{'&' if '?' in PG else '?'}options=-csearch_path%3D{schema}"
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


def _case(store: CaseStore, case_id: str, opened: dt.datetime, *,
          state: str = "CASE_STATE_INCOMPLETE", programme: str = "dibao",
          parts: dict[str, str]) -> None:
    store.insert_case({
        "case_id": case_id, "state": state, "programme": programme, "region": "310000",
        "authorization_number": "SQ-1", "operator": "op-1", "members_sealed": b"\x01",
        "outcome": "", "report_digest": b"", "created_at": opened.astimezone(dt.UTC),
        "updated_at": opened.astimezone(dt.UTC), "version": 1, "claimed_by": "",
        "batch_key": None, "township": "310101001",
    }, sorted(parts))
    with store.tx() as conn:
        store.set_departments(conn, [
            DepartmentPart(case_id, d, s, "", b"", 1, opened) for d, s in parts.items()
            if s != "PENDING"])


def test_overdue_cases_and_counts(store: CaseStore) -> None:
    """Today Monday 2026-10-12; tax 5 working days, banks 10. A case of Tuesday 09-29 is
    due 10-12 for tax (in time today), 10-19 for banks; one of Monday 09-21 is late for
    tax (due 09-28), due today for banks (the make-up Saturday 10-10 is its 9th day)."""
    fd = FeedbackDeadlines(DeadlineSettings(5, {"banks": 10}), CAL)
    today = D(2026, 10, 12)
    _case(store, "late", _china(2026, 9, 21), parts={"tax": "FAILED", "banks": "PENDING",
                                                       "housing": "ANSWERED"})
    _case(store, "in-time", _china(2026, 9, 29), parts={"tax": "PENDING", "banks": "PENDING"})
    _case(store, "offline-late", _china(2026, 9, 21), state="CASE_STATE_AWAITING_OFFLINE_ANSWER",
          parts={"provident-fund": "AWAITING_OFFLINE", "tax": "ANSWERED"})
    _case(store, "cancelled", _china(2026, 9, 1), state="CASE_STATE_CANCELLED",
          parts={"tax": "PENDING"})
    _case(store, "answered", _china(2026, 9, 1), state="CASE_STATE_AWAITING_REVIEW",
          parts={"tax": "ANSWERED"})
    cut = fd.cutoffs(today)
    rows = store.list_overdue(cutoffs=cut, state=None, limit=10, offset=0)
    assert [r.case_id for r in rows] == ["late", "offline-late"]
    assert [r.case_id for r in store.list_overdue(
        cutoffs=cut, state="CASE_STATE_INCOMPLETE", limit=10, offset=0)] == ["late"]
    assert store.list_overdue(cutoffs=cut, state=None, limit=10, offset=0,
                              programmes=["low-income"]) == []
    assert store.list_overdue(cutoffs=cut, state=None, limit=10, offset=0, townships=[]) == []
    counts = deadlines.overdue_counts(store, fd, _china(2026, 10, 12, 9))
    assert counts["tax"] == 1 and counts["provident-fund"] == 1
    assert counts["banks"] == 0 and counts["housing"] == 0
    assert set(counts) >= {"tax", "banks", "housing", "public-security"}
    # the next day banks is late on the 09-21 case
    assert deadlines.overdue_counts(store, fd, _china(2026, 10, 13, 9))["banks"] == 1
    # a week later the 09-29 case is late for tax (due 10-12) but not yet for banks (10-19)
    later = deadlines.overdue_counts(store, fd, _china(2026, 10, 19, 9))
    assert later["tax"] == 2 and later["banks"] == 1
    # and the per-case deadlines say the same
    assert deadlines.is_overdue(fd.due(rows[0].created_at, "tax"), today)
    assert not deadlines.is_overdue(fd.due(rows[0].created_at, "banks"), today)


def test_mark_queried(store: CaseStore) -> None:
    opened = _china(2026, 10, 12)
    _case(store, "c", opened, parts={"tax": "PENDING", "banks": "PENDING"})
    asked = dt.datetime(2026, 10, 12, 3, 0, 0, 5, tzinfo=dt.UTC)
    with store.tx() as conn:
        store.mark_queried(conn, "c", ["tax"], asked)
    with store.read() as conn:
        got = dict(conn.execute(text(
            "SELECT department, queried_at FROM case_departments WHERE case_id = 'c'")).all())
    assert got["banks"] is None
    value = got["tax"]
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    assert parsed.replace(tzinfo=dt.UTC) == asked or parsed == asked

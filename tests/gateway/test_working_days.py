"""The working-day calendar: the State Council's notices as data, and counting on them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from hedui.gateway import working_days
from hedui.gateway.working_days import CalendarError, WorkCalendar

D = dt.date
CAL = working_days.packaged()
#: every day the packaged notices cover
covered = st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 11, 30))


def test_the_packaged_calendar_holds_the_2025_and_2026_notices() -> None:
    assert CAL.years() == [2025, 2026]
    assert "packaged" in CAL.source
    notice = CAL.notices[2025]
    assert notice.title == "国务院办公厅关于2025年部分节假日安排的通知"
    assert notice.document == "国办发明电〔2024〕12号"
    assert CAL.notices[2026].published == D(2025, 11, 4)


@pytest.mark.parametrize("day", [
    D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11),
    D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20),
    D(2026, 10, 10),
])
def test_make_up_days_are_weekend_days_worked(day: dt.date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_working_day(day)


@pytest.mark.parametrize("day", [
    D(2025, 1, 1), D(2025, 1, 28), D(2025, 2, 4), D(2025, 5, 5), D(2025, 6, 2),
    D(2025, 10, 8), D(2026, 1, 2), D(2026, 2, 23), D(2026, 4, 6), D(2026, 5, 5),
    D(2026, 6, 19), D(2026, 9, 25), D(2026, 10, 7),
])
def test_holiday_weekdays_are_off(day: dt.date) -> None:
    assert day.weekday() < 5
    assert not CAL.is_working_day(day)


def test_ordinary_days() -> None:
    assert CAL.is_working_day(D(2026, 3, 2))  # a Monday
    assert not CAL.is_working_day(D(2026, 3, 7))  # a Saturday
    assert CAL.is_working_day(D(2025, 10, 9))  # the Thursday after National Day 2025


def test_a_case_opened_before_the_mid_autumn_holiday_2026() -> None:
    """Friday 09-18, 5 working days: Sunday 09-20 (make-up) counts, so Thursday 09-24 —
    the 25th is the Mid-Autumn holiday."""
    assert CAL.add_working_days(D(2026, 9, 18), 5) == D(2026, 9, 24)
    assert CAL.add_working_days(D(2026, 9, 18), 6) == D(2026, 9, 28)
    assert working_days.add_working_days(D(2026, 9, 18), 0) == D(2026, 9, 18)
    assert working_days.working_days_between(D(2026, 9, 18), D(2026, 9, 28)) == 6
    assert working_days.is_working_day(D(2026, 9, 20))


def test_spring_festival_2026_spans_nine_days_off() -> None:
    # opened on the make-up Saturday 02-14: the next working day is 02-24
    assert CAL.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert CAL.working_days_between(D(2026, 2, 13), D(2026, 2, 23)) == 1  # 02-14 only


@settings(max_examples=120, deadline=None)
@given(start=covered, n=st.integers(min_value=1, max_value=30))
def test_adding_then_counting_gives_n_and_a_working_day(start: dt.date, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert CAL.is_working_day(due)
    assert due > start
    assert CAL.working_days_between(start, due) == n
    assert CAL.working_days_between(due, start) == -n
    # the day before the deadline is one working day short
    assert CAL.working_days_between(start, due - dt.timedelta(days=1)) == n - 1


@settings(max_examples=100, deadline=None)
@given(a=covered, b=covered, n=st.integers(min_value=1, max_value=20))
def test_monotonic(a: dt.date, b: dt.date, n: int) -> None:
    early, late = sorted((a, b))
    assert CAL.add_working_days(early, n) <= CAL.add_working_days(late, n)
    assert CAL.add_working_days(early, n) <= CAL.add_working_days(early, n + 1)


@settings(max_examples=100, deadline=None)
@given(end=covered, n=st.integers(min_value=1, max_value=20))
def test_counting_back(end: dt.date, n: int) -> None:
    back = CAL.nth_working_day_back(end, n)
    assert CAL.is_working_day(back)
    assert CAL.working_days_between(back - dt.timedelta(days=1), end) == n


def test_a_year_outside_the_calendar_counts_weekends_and_warns_once() -> None:
    calendar = working_days.load(_packaged_path())  # a fresh one: nothing warned yet
    with structlog.testing.capture_logs() as logs:
        assert calendar.is_working_day(D(2027, 1, 1))  # a Friday: a holiday really
        assert not calendar.is_working_day(D(2027, 1, 2))
        assert calendar.add_working_days(D(2027, 1, 1), 1) == D(2027, 1, 4)
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == [
        "calendar for 2027 not loaded: counting weekends only"]


def _packaged_path() -> Path:
    import importlib.resources

    return Path(str(importlib.resources.files("hedui.gateway") / working_days.PACKAGED))


GOOD = """
[years.2027]
notice = "国务院办公厅关于2027年部分节假日安排的通知"
[[years.2027.holidays]]
name = "元旦"
first = 2027-01-01
last = 2027-01-03
make_up = [2027-01-09]
"""


def test_an_own_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "cal.toml"
    path.write_text(GOOD, encoding="utf-8")
    calendar = working_days.calendar_at(path)
    assert calendar.years() == [2027] and calendar.source == str(path)
    assert not calendar.is_working_day(D(2027, 1, 1))
    assert calendar.is_working_day(D(2027, 1, 9))


@pytest.mark.parametrize(("change", "words"), [
    (("make_up = [2027-01-09]", "make_up = [2027-01-08]"), "2027-01-08 is a Friday"),
    (("make_up = [2027-01-09]", "make_up = [2026-01-10]"), "2026-01-10 is not in 2027"),
    (("first = 2027-01-01", "first = 2027-01-05"), "is before first"),
    (("name =", "nmae ="), "did you mean 'name'"),
    (("[years.2027]\n", "[years.2027]\nnotic = 1\n"), "did you mean 'notice'"),
    (("[years.2027]", "[years.27]"), "a year is four digits"),
    (("make_up = [2027-01-09]", "make_up = [2027-01-02]"), "inside the holiday"),
])
def test_a_bad_calendar_is_one_line_naming_the_file(tmp_path: Path, change: tuple[str, str],
                                                    words: str) -> None:
    path = tmp_path / "cal.toml"
    text = GOOD.replace(*change)
    if change[0] == "[years.2027]":
        text = text.replace("years.2027.", "years.27.")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as raised:
        working_days.load(path)
    message = str(raised.value)
    assert words in message and str(path) in message and "\n" not in message


def test_a_missing_calendar_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="does not exist"):
        working_days.calendar_at(tmp_path / "nowhere.toml")


def test_without_notices_only_weekends_are_off() -> None:
    empty = WorkCalendar(frozenset(), frozenset(), {})
    assert empty.add_working_days(D(2026, 9, 18), 5) == D(2026, 9, 25)

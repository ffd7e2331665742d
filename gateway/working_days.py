"""Working days on the official calendar: holidays off, make-up working days on.

A department's feedback deadline (协查反馈时限) is so many working days, and in China a
working day is not simply Monday to Friday: the State Council's yearly notice moves
days around each holiday (a Sunday before the Spring Festival is worked, the Monday
after is not). The notices are data (``calendar/cn-workdays.toml``, package data of
``hedui.gateway``), checked on load so a typo cannot make a Tuesday a holiday unseen.

A year the calendar lacks is counted with weekends only, with one warning per year in
the log: deadlines stay defined (and err by a holiday at most) until the administrator
adds the next notice.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from pydantic import Field, field_validator, model_validator

from hedui.config_schema import ConfigProblem, Section, did_you_mean, load_toml
from hedui.errors import HeduiError

log = structlog.get_logger("hedui.gateway")

#: the calendar shipped with hedui (package data)
PACKAGED = "calendar/cn-workdays.toml"
_YEAR = re.compile(r"(19|20|21)[0-9]{2}")
_ONE_DAY = dt.timedelta(days=1)


class CalendarError(HeduiError):
    """The working-day calendar file is missing or wrong; the message says where."""

    exit_code = 2


def _plain_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"must be a date (2026-10-01), not a date and time ({value})")
    return value


class _Table(Section):
    """A table inside ``[years.…]``: an unknown key refused with the name it resembles
    (the schema's own hint does not reach into tables keyed by year)."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key not in known:
                    hint = did_you_mean(str(key), known) or f" (known: {', '.join(known)})"
                    raise ValueError(f"{key} is not a known key{hint}")
        return data


class _Holiday(_Table):
    name: str = Field(min_length=1)
    first: dt.date
    last: dt.date
    #: 调休上班: Saturdays or Sundays worked for this holiday
    make_up: list[dt.date] = Field(default_factory=list)

    _first = field_validator("first", "last")(_plain_date)

    @field_validator("make_up")
    @classmethod
    def _weekend(cls, days: list[dt.date]) -> list[dt.date]:
        for day in days:
            _plain_date(day)
            if day.weekday() < 5:
                raise ValueError(f"{day} is a {day:%A}: a make-up working day (调休上班) is a "
                                 "Saturday or a Sunday")
        return days

    @model_validator(mode="after")
    def _ordered(self) -> _Holiday:
        if self.last < self.first:
            raise ValueError(f"{self.name}: last ({self.last}) is before first ({self.first})")
        if (self.last - self.first).days > 14:
            raise ValueError(f"{self.name}: {self.first} to {self.last} is longer than any "
                             "holiday of the notices (two weeks)")
        inside = [d for d in self.make_up if self.first <= d <= self.last]
        if inside:
            raise ValueError(f"{self.name}: make-up day {inside[0]} is inside the holiday")
        return self


class _Year(_Table):
    #: the notice's title, its document number (国办发明电〔…〕…号) and date
    notice: str = Field(min_length=1)
    document: str = ""
    published: dt.date | None = None
    holidays: list[_Holiday] = Field(min_length=1)


class _File(Section):
    years: dict[str, _Year] = Field(min_length=1)

    @model_validator(mode="after")
    def _years(self) -> _File:
        for year, table in self.years.items():
            if not _YEAR.fullmatch(year):
                raise ValueError(f"[years.{year}]: a year is four digits (2026)")
            for h in table.holidays:
                for day in (h.first, h.last, *h.make_up):
                    if day.year != int(year):
                        raise ValueError(f"[years.{year}] {h.name}: {day} is not in {year}")
        return self


@dataclass(frozen=True)
class Notice:
    """One year's State Council notice, for display (the console, ``hedui`` tools)."""

    year: int
    title: str
    document: str
    published: dt.date | None


@dataclass
class WorkCalendar:
    """Which days are working days, from the notices loaded; weekends beyond them."""

    holidays: frozenset[dt.date]
    make_up: frozenset[dt.date]
    notices: dict[int, Notice]
    #: where the calendar came from (a path, or "hedui (packaged)"), for display
    source: str = ""
    _warned: set[int] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def years(self) -> list[int]:
        """The years the calendar holds a notice for, ascending."""
        return sorted(self.notices)

    def is_working_day(self, day: dt.date) -> bool:
        if day.year not in self.notices:
            self._warn(day.year)
            return day.weekday() < 5
        if day in self.make_up:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def _warn(self, year: int) -> None:
        with self._lock:
            if year in self._warned:
                return
            self._warned.add(year)
        log.warning(f"calendar for {year} not loaded: counting weekends only",
                    source=self.source, years=self.years())

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself never counts: a case
        opened on a Friday has its first working day on Monday, or on a make-up Sunday);
        ``start`` for 0."""
        if n < 0:
            raise ValueError("a number of working days is 0 or more")
        day = start
        while n:
            day += _ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b`` (negative when ``b`` is
        before ``a``): ``working_days_between(a, add_working_days(a, n)) == n``."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for k in range(1, (b - a).days + 1)
                   if self.is_working_day(a + dt.timedelta(days=k)))

    def nth_working_day_back(self, end: dt.date, n: int) -> dt.date:
        """The ``n``-th working day counting back from ``end`` (``end`` counts if it is
        one); ``n`` ≥ 1. A case opened before it has ``n`` working days done by ``end``."""
        if n < 1:
            raise ValueError("count back 1 working day or more")
        day = end
        while True:
            if self.is_working_day(day):
                n -= 1
                if not n:
                    return day
            day -= _ONE_DAY


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    return (first + dt.timedelta(days=k) for k in range((last - first).days + 1))


def _build(raw: _File, source: str) -> WorkCalendar:
    holidays: set[dt.date] = set()
    make_up: set[dt.date] = set()
    notices = {}
    for year, table in raw.years.items():
        notices[int(year)] = Notice(int(year), table.notice, table.document, table.published)
        for h in table.holidays:
            holidays.update(_days(h.first, h.last))
            make_up.update(h.make_up)
    clash = sorted(holidays & make_up)
    if clash:
        raise CalendarError(f"{source}: {clash[0]} is both a holiday and a make-up working day")
    return WorkCalendar(frozenset(holidays), frozenset(make_up), notices, source=source)


def load(path: str | Path) -> WorkCalendar:
    """A calendar file, validated; one line naming the file and the problem if wrong."""
    path = Path(path)
    if not path.is_file():
        raise CalendarError(f"calendar file {path} does not exist")
    try:
        raw, _ = load_toml(_File, path)
    except ConfigProblem as exc:
        raise CalendarError(str(exc)) from None
    return _build(raw, str(path))


@functools.lru_cache(maxsize=1)
def packaged() -> WorkCalendar:
    """The calendar shipped with hedui (found in an installed package as well)."""
    resource = importlib.resources.files("hedui.gateway").joinpath(PACKAGED)
    with importlib.resources.as_file(resource) as path:
        calendar = load(path)
    calendar.source = "hedui (packaged cn-workdays.toml)"
    return calendar


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> WorkCalendar:
    return load(path)


def calendar_at(path: Path | None) -> WorkCalendar:
    """The calendar at ``path`` (re-read when the file changes), or the packaged one."""
    if path is None:
        return packaged()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise CalendarError(f"calendar file {path} does not exist") from None
    return _load_cached(str(path), mtime)


def is_working_day(day: dt.date, calendar: WorkCalendar | None = None) -> bool:
    """``day`` is a working day on ``calendar`` (the packaged one by default)."""
    return (calendar or packaged()).is_working_day(day)


def add_working_days(start: dt.date, n: int, calendar: WorkCalendar | None = None) -> dt.date:
    """The ``n``-th working day after ``start`` (see ``WorkCalendar.add_working_days``)."""
    return (calendar or packaged()).add_working_days(start, n)


def working_days_between(a: dt.date, b: dt.date, calendar: WorkCalendar | None = None) -> int:
    """Working days after ``a`` up to and including ``b``."""
    return (calendar or packaged()).working_days_between(a, b)

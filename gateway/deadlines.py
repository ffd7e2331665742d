"""Departments' feedback deadlines (协查反馈时限) on cases, and who is overdue.

The pilot plan gives each department a time to answer a verification request. Here it
is so many working days (``[deadlines]`` in gateway.toml, one number per department
or the default), counted on the official calendar (``working_days``) from the day the
case was opened, in China's time: a case opened on Friday 2026-09-18 with 5 working
days is due on Thursday 2026-09-24 (Sunday 09-20 is a make-up working day; 09-25 the
Mid-Autumn holiday). A department still waiting — pending, failed, or awaiting its
offline answer — on a day after its deadline is overdue.

"Overdue" is also asked of the store for whole lists (``ListCases(overdue_only)``, the
statistics), where one deadline per case cannot be computed: since the deadline only
moves later as the opening does, each department has one *cutoff* instant — cases it
still owes that were opened before it are overdue today — and the store compares
``created_at`` with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hedui.china_time import CHINA, china_date
from hedui.gateway.config import DeadlineSettings, GatewayConfig
from hedui.gateway.working_days import WorkCalendar, calendar_at
from hedui.keys.identity import DEPARTMENTS

if TYPE_CHECKING:
    from hedui.gateway.store import CaseStore

#: department states that still owe an answer (``case_departments.state``)
WAITING = ("PENDING", "FAILED", "AWAITING_OFFLINE")
#: case states whose departments owe nothing any more
CLOSED = ("CASE_STATE_DECIDED", "CASE_STATE_CANCELLED")


class _HasDeadlines(Protocol):
    deadlines: DeadlineSettings


def _settings(config: GatewayConfig | DeadlineSettings | _HasDeadlines) -> DeadlineSettings:
    return config if isinstance(config, DeadlineSettings) else config.deadlines


def working_days_for(config: GatewayConfig | DeadlineSettings, department: str) -> int:
    """The department's feedback deadline in working days (its own, else the default)."""
    s = _settings(config)
    return s.departments.get(department, s.working_days)


def deadline_of(opened_at: dt.datetime, department: str,
                config: GatewayConfig | DeadlineSettings, calendar: WorkCalendar) -> dt.date:
    """The working day by which ``department`` should have answered a case opened at
    ``opened_at``: its deadline's number of working days after the opening day (China's
    date); the opening day itself never counts."""
    return calendar.add_working_days(china_date(opened_at),
                                     working_days_for(config, department))


def is_overdue(deadline: dt.date, today: dt.date) -> bool:
    """Past the deadline: the deadline day itself is still in time."""
    return today > deadline


def cutoff(today: dt.date, working_days: int, calendar: WorkCalendar) -> dt.datetime:
    """The instant (UTC) before which a case opened is overdue today for a department
    of ``working_days``: midnight in China of the ``working_days``-th working day
    counting back from yesterday. Opened on day D, the deadline is past iff ``working_
    days`` working days lie after D up to yesterday, iff D is before that day."""
    first_late = calendar.nth_working_day_back(today - dt.timedelta(days=1), working_days)
    return dt.datetime.combine(first_late, dt.time(), CHINA).astimezone(dt.UTC)


@dataclass(frozen=True)
class Cutoffs:
    """Each department's cutoff today, and the default one for departments not named."""

    by_department: dict[str, dt.datetime]
    default: dt.datetime


@dataclass(frozen=True)
class FeedbackDeadlines:
    """The deadlines a gateway applies: its ``[deadlines]`` and the calendar."""

    settings: DeadlineSettings
    calendar: WorkCalendar

    @classmethod
    def from_config(cls, config: GatewayConfig | DeadlineSettings) -> FeedbackDeadlines:
        settings = _settings(config)
        return cls(settings, calendar_at(settings.calendar))

    @classmethod
    def default(cls) -> FeedbackDeadlines:
        return cls.from_config(DeadlineSettings())

    def working_days(self, department: str) -> int:
        return working_days_for(self.settings, department)

    def due(self, opened_at: dt.datetime, department: str) -> dt.date:
        return deadline_of(opened_at, department, self.settings, self.calendar)

    def cutoffs(self, today: dt.date) -> Cutoffs:
        """Every configured department's cutoff today (``cutoff``)."""
        by_days: dict[int, dt.datetime] = {}

        def at(days: int) -> dt.datetime:
            if days not in by_days:
                by_days[days] = cutoff(today, days, self.calendar)
            return by_days[days]

        return Cutoffs({d: at(n) for d, n in self.settings.departments.items()},
                       at(self.settings.working_days))


def today_in_china(now: dt.datetime) -> dt.date:
    return china_date(now)


def overdue_counts(store: CaseStore, deadlines: FeedbackDeadlines, now: dt.datetime, *,
                   programmes: Sequence[str] | None = None,
                   townships: Sequence[str] | None = None) -> dict[str, int]:
    """Department → how many open cases it owes an answer past its deadline today
    (every department listed, 0 when none); ``programmes``/``townships`` limit the
    count to a reader's scope as ``ListCases`` does."""
    counted = store.overdue_counts(deadlines.cutoffs(today_in_china(now)),
                                   programmes=programmes, townships=townships)
    return {d: counted.get(d, 0) for d in _all(counted)}


def _all(extra: Iterable[str]) -> list[str]:
    return [*DEPARTMENTS, *sorted(set(extra) - set(DEPARTMENTS))]

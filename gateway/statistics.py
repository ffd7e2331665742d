"""The office's figures (``GetStatistics``): cases by programme, month, township and
outcome; each department's answer times and overdue count. Counts and durations only,
never a person, and only of the reader's scope: a township clerk's figures are their
townships', a programme's staff their programmes' — the same scope ``ListCases``
applies, so a figure never reveals a case its reader could not list.

The database aggregates (``store_statistics``); Python only names the groups. Figures
are served again for a minute (``Recent``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING

from google.protobuf import timestamp_pb2

from hedui.china_time import CHINA
from hedui.gateway import access
from hedui.gateway.case_errors import CaseError
from hedui.gateway.deadlines import overdue_counts
from hedui.gateway.store_statistics import Window, answer_times, case_counts, state_counts
from hedui.keys.identity import DEPARTMENTS
from hedui.v1 import common_pb2, office_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager

DECIDED = "CASE_STATE_DECIDED"
#: how long computed figures are served again (``Recent``)
FRESH_SECONDS = 60.0


def outcome_word(state: str, outcome: str) -> str:
    """``eligible`` … for a decided case, else its state (``open``, ``awaiting_review``)."""
    if state == DECIDED and outcome:
        return outcome.removeprefix("OUTCOME_").lower()
    return state.removeprefix("CASE_STATE_").lower()


def _day(d: common_pb2.Date, what: str) -> dt.date | None:
    if not (d.year or d.month or d.day):
        return None
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        raise CaseError(f"{what} {d.year:04d}-{d.month:02d}-{d.day:02d} is not a real date",
                        "MALFORMED_REQUEST") from None


def _china_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.UTC)


def window(request: office_pb2.GetStatisticsRequest, person: access.Person) -> Window:
    """Cases opened from ``opened_from`` through ``opened_until`` (China's days), in
    ``person``'s scope (empty townships or programmes: the whole county, every one)."""
    first = _day(request.opened_from, "opened_from")
    last = _day(request.opened_until, "opened_until")
    if first and last and last < first:
        raise CaseError("opened_until is before opened_from", "MALFORMED_REQUEST")
    return Window(
        since=_china_midnight(first) if first else None,
        before=_china_midnight(last + dt.timedelta(days=1)) if last else None,
        programmes=person.programmes or None, townships=person.townships or None)


def compute(cases: CaseManager, request: office_pb2.GetStatisticsRequest,
            person: access.Person) -> office_pb2.Statistics:
    """The figures for ``person`` (their scope), as of now."""
    now = cases.clock()
    where = window(request, person)
    counted: Counter[tuple[str, str, str, str]] = Counter()
    departments = []
    if request.counts_only:
        for state, outcome, n in state_counts(cases.store, where):
            counted["", "", "", outcome_word(state, outcome)] += n
    else:
        for programme, month, township, state, outcome, n in case_counts(cases.store, where):
            counted[programme, month or "", township, outcome_word(state, outcome)] += n
        times = {t.department: t for t in answer_times(cases.store, where)}
        overdue = overdue_counts(cases.store, cases.deadlines, now,
                                 programmes=where.programmes, townships=where.townships)
        for d in [*DEPARTMENTS, *sorted((set(times) | set(overdue)) - set(DEPARTMENTS))]:
            t = times.get(d)
            departments.append(office_pb2.DepartmentTimes(
                department=d, answers=t.answers if t else 0,
                median_seconds=t.median_seconds if t else 0.0,
                p95_seconds=t.p95_seconds if t else 0.0, overdue=overdue.get(d, 0)))
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(now.astimezone(dt.UTC).replace(tzinfo=None))
    return office_pb2.Statistics(
        counts=[office_pb2.CaseCount(programme=p, month=m, township=t, outcome=o, cases=n)
                for (p, m, t, o), n in sorted(counted.items())],
        departments=departments, computed_at=stamp)


class Recent:
    """Figures computed in the last :data:`FRESH_SECONDS`, per request and scope.

    A county's answer times take seconds to aggregate over every department's parts,
    and My work asks for counts on every visit: figures a minute old are what every
    dashboard shows (``computed_at`` says when), and they keep each page quick."""

    def __init__(self, fresh_seconds: float = FRESH_SECONDS, most: int = 256) -> None:
        self.fresh = fresh_seconds
        self.most = most
        self._lock = threading.Lock()
        self._kept: dict[tuple, tuple[float, office_pb2.Statistics]] = {}

    def figures(self, cases: CaseManager, request: office_pb2.GetStatisticsRequest,
                person: access.Person) -> office_pb2.Statistics:
        key = (request.opened_from.SerializeToString(), request.opened_until.SerializeToString(),
               request.counts_only, person.programmes, person.townships)
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and now - kept[0] < self.fresh:
                return kept[1]
        figures = compute(cases, request, person)
        with self._lock:
            if len(self._kept) >= self.most:
                self._kept = {k: v for k, v in self._kept.items() if now - v[0] < self.fresh}
                if len(self._kept) >= self.most:
                    self._kept.clear()
            self._kept[key] = (now, figures)
        return figures

"""The statistics' SQL: case counts and department answer times, aggregated by the
database (a county's 100k cases are never read row by row into Python).

Same style as ``store_queries``: driver SQL on the store's cursor, ``_mark`` the
placeholder, ``_to_db`` timestamps as the database keeps them. The two dialects differ
only in how an instant becomes a China month and a duration becomes seconds (China
keeps no daylight saving time: UTC+8 all year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hedui.gateway.store import CaseStore

#: where an answer time starts: when the department was asked, else the opening
_STARTED = "COALESCE(cd.queried_at, cases.created_at)"


@dataclass(frozen=True)
class Window:
    """Cases opened in [since, before) (either open-ended), within a reader's scope:
    None for no limit, an empty tuple for a scope that holds nothing."""

    since: dt.datetime | None = None
    before: dt.datetime | None = None
    programmes: Sequence[str] | None = None
    townships: Sequence[str] | None = None


@dataclass(frozen=True)
class AnswerTimes:
    department: str
    answers: int
    median_seconds: float
    p95_seconds: float


def _month(store: CaseStore, column: str) -> str:
    if store.local:  # SQLite keeps UTC instants as text
        return f"strftime('%Y-%m', {column}, '+8 hours')"
    return f"to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


def _milliseconds(store: CaseStore, end: str, start: str) -> str:
    """Whole milliseconds from ``start`` to ``end``, never negative (clocks of two
    replicas may disagree by a little)."""
    if store.local:
        return (f"MAX(0, CAST(ROUND((julianday({end}) - julianday({start})) * 86400000.0) "
                "AS INTEGER))")
    return f"GREATEST(0, CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start})) * 1000) AS BIGINT))"


def _where(store: CaseStore, window: Window) -> tuple[str, list[Any]] | None:
    """The ``cases`` clauses of the window; None when its scope holds nothing."""
    scope = store._scope(window.programmes, window.townships)
    if scope is None:
        return None
    clauses, params = scope
    m = store._mark
    if window.since is not None:
        clauses.append(f"cases.created_at >= {m}")
        params.append(store._to_db(window.since))
    if window.before is not None:
        clauses.append(f"cases.created_at < {m}")
        params.append(store._to_db(window.before))
    return " AND ".join(clauses) or "1 = 1", params


def case_counts(store: CaseStore, window: Window) -> list[tuple[str, str, str, str, str, int]]:
    """(programme, China month, township, state, outcome, cases) of the window's cases."""
    where = _where(store, window)
    if where is None:
        return []
    clause, params = where
    month = _month(store, "cases.created_at")
    sql = (f"SELECT cases.programme, {month}, COALESCE(cases.township, ''), cases.state, "
           f"cases.outcome, COUNT(*) FROM cases WHERE {clause} "
           f"GROUP BY cases.programme, {month}, COALESCE(cases.township, ''), cases.state, "
           "cases.outcome")
    with store._cursor(None) as cur:
        cur.execute(sql, params)
        return [(p, mo, t or "", s, o or "", int(n)) for p, mo, t, s, o, n in cur.fetchall()]


def answer_times(store: CaseStore, window: Window) -> list[AnswerTimes]:
    """Each department's answered queries in the window's cases: how many, and the
    median and 95th percentile (nearest rank, to the millisecond) of the time from
    query to answer. The database groups equal times and ranks the groups — far
    fewer than the answers — so nothing sorts every answer of a county."""
    where = _where(store, window)
    if where is None:
        return []
    clause, params = where
    ms = _milliseconds(store, "cd.updated_at", _STARTED)
    sql = (
        f"WITH timed AS (SELECT cd.department AS department, {ms} AS ms "
        "FROM case_departments cd JOIN cases ON cases.case_id = cd.case_id "
        f"WHERE cd.state = 'ANSWERED' AND {clause}), "
        "grouped AS (SELECT department, ms, COUNT(*) AS k FROM timed GROUP BY department, ms), "
        "ranked AS (SELECT department, ms, "
        "SUM(k) OVER (PARTITION BY department ORDER BY ms) AS upto, "
        "SUM(k) OVER (PARTITION BY department) AS n FROM grouped) "
        "SELECT department, MAX(n), MIN(CASE WHEN 2 * upto >= n THEN ms END), "
        "MIN(CASE WHEN 100 * upto >= 95 * n THEN ms END) "
        "FROM ranked GROUP BY department ORDER BY department")
    with store._cursor(None) as cur:
        cur.execute(sql, params)
        return [AnswerTimes(d, int(n), int(med or 0) / 1000, int(p95 or 0) / 1000)
                for d, n, med, p95 in cur.fetchall()]


def state_counts(store: CaseStore, window: Window) -> list[tuple[str, str, int]]:
    """(state, outcome, cases) of the window's cases: My work's counts, one grouping
    the state index answers without reading months or townships."""
    where = _where(store, window)
    if where is None:
        return []
    clause, params = where
    sql = (f"SELECT cases.state, cases.outcome, COUNT(*) FROM cases WHERE {clause} "
           "GROUP BY cases.state, cases.outcome")
    with store._cursor(None) as cur:
        cur.execute(sql, params)
        return [(s, o or "", int(n)) for s, o, n in cur.fetchall()]

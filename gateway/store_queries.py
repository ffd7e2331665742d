"""The case store's list queries beyond one case: overdue parts, failed parts to retry,
searches (``CaseStore`` inherits them; apart so store.py keeps the single-case steps).

Driver SQL on the store's cursor, as the case steps are: ``_mark`` the paramstyle's
placeholder, ``_to_db`` timestamps as the database keeps them, ``_row`` a CaseRow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hedui.gateway.store import CaseRow

def _columns() -> str:
    from hedui.gateway.store import _CASE_COLUMNS  # store.py imports this module first
    return ", ".join(f"cases.{c}" for c in _CASE_COLUMNS)


class CaseQueries:
    """Queries over many cases (mixed into ``CaseStore``)."""

    _mark: str
    _to_db: Callable[[Any], Any]

    if TYPE_CHECKING:
        def _cursor(self, conn: Connection | None) -> AbstractContextManager[Any]: ...
        def _row(self, r: Sequence[Any]) -> CaseRow: ...

    # ------------------------------------------- feedback deadlines and retries
    # (``hedui.gateway.deadlines``, ``hedui.gateway.retry_schedule``)

    def mark_queried(self, conn: Connection, case_id: str, departments: Sequence[str],
                     now: dt.datetime) -> None:
        """The departments were asked for the case now (``queried_at``, answer times)."""
        if departments:
            with self._cursor(conn) as cur:
                cur.executemany(
                    f"UPDATE case_departments SET queried_at = {self._mark} "
                    f"WHERE case_id = {self._mark} AND department = {self._mark}",
                    [(self._to_db(now), case_id, d) for d in departments])

    def _overdue_clause(self, cutoffs: Any) -> tuple[str, list[Any]]:
        """SQL (on ``case_departments cd`` joined to ``cases``) for a part owed past its
        deadline: still waiting, in an open case opened before its department's cutoff
        (``deadlines.Cutoffs``)."""
        m = self._mark
        waiting = ("PENDING", "FAILED", "AWAITING_OFFLINE")
        closed = ("CASE_STATE_DECIDED", "CASE_STATE_CANCELLED")
        named = list(cutoffs.by_department.items())
        per = [f"(cd.department = {m} AND cases.created_at < {m})" for _ in named]
        params: list[Any] = [*waiting, *closed]
        for department, at in named:
            params += [department, self._to_db(at)]
        if named:
            per.append(f"(cd.department NOT IN ({', '.join([m] * len(named))}) "
                       f"AND cases.created_at < {m})")
            params += [d for d, _ in named]
        else:
            per.append(f"cases.created_at < {m}")
        params.append(self._to_db(cutoffs.default))
        sql = (f"cd.state IN ({m}, {m}, {m}) AND cases.state NOT IN ({m}, {m}) "
               f"AND ({' OR '.join(per)})")
        return sql, params

    def _scope(self, programmes: Sequence[str] | None, townships: Sequence[str] | None
               ) -> tuple[list[str], list[Any]] | None:
        """``cases`` clauses limiting to a reader's scope; None when it holds nothing."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (("programme", programmes), ("township", townships)):
            if values is None:
                continue
            if not values:
                return None
            clauses.append(f"cases.{column} IN ({', '.join([self._mark] * len(values))})")
            params.extend(values)
        return clauses, params

    def list_overdue(self, *, cutoffs: Any, state: str | None, limit: int, offset: int,
                     programmes: Sequence[str] | None = None,
                     townships: Sequence[str] | None = None) -> list[CaseRow]:
        """``list`` limited to cases with a department past its deadline, newest first."""
        scope = self._scope(programmes, townships)
        if scope is None:
            return []
        clauses, params = scope
        if state:
            clauses.append(f"cases.state = {self._mark}")
            params.append(state)
        overdue, overdue_params = self._overdue_clause(cutoffs)
        clauses.append("EXISTS (SELECT 1 FROM case_departments cd WHERE "
                       f"cd.case_id = cases.case_id AND {overdue})")
        params.extend(overdue_params)
        columns = _columns()
        sql = (f"SELECT {columns} FROM cases WHERE {' AND '.join(clauses)} "
               f"ORDER BY cases.created_at DESC, cases.case_id "
               f"LIMIT {self._mark} OFFSET {self._mark}")
        with self._cursor(None) as cur:
            cur.execute(sql, [*params, limit, offset])
            rows = cur.fetchall()
        return [self._row(r) for r in rows]

    def overdue_counts(self, cutoffs: Any, *, programmes: Sequence[str] | None = None,
                       townships: Sequence[str] | None = None) -> dict[str, int]:
        """Department → parts it owes past its deadline in open cases (of the scope)."""
        scope = self._scope(programmes, townships)
        if scope is None:
            return {}
        clauses, params = scope
        overdue, overdue_params = self._overdue_clause(cutoffs)
        sql = ("SELECT cd.department, COUNT(*) FROM case_departments cd JOIN cases ON "
               f"cases.case_id = cd.case_id WHERE {' AND '.join([*clauses, overdue])} "
               "GROUP BY cd.department")
        with self._cursor(None) as cur:
            cur.execute(sql, [*params, *overdue_params])
            return {d: int(n) for d, n in cur.fetchall()}

    def failed_parts(self, *, limit: int, offset: int = 0) -> list[tuple[str, str, str]]:
        """(case id, department, reason) of FAILED parts of INCOMPLETE cases, the cases
        left alone longest first (an automatic retry moves a case to the back)."""
        m = self._mark
        sql = ("SELECT cd.case_id, cd.department, cd.reason FROM case_departments cd "
               f"JOIN cases ON cases.case_id = cd.case_id WHERE cases.state = {m} "
               f"AND cd.state = {m} ORDER BY cases.updated_at, cd.case_id, cd.department "
               f"LIMIT {m} OFFSET {m}")
        with self._cursor(None) as cur:
            cur.execute(sql, ("CASE_STATE_INCOMPLETE", "FAILED", limit, offset))
            return [(c, d, r or "") for c, d, r in cur.fetchall()]

    def search(self, *, member_key: tuple[str, str] | None = None, case_id: str = "",
               opened_from: dt.datetime | None = None, opened_before: dt.datetime | None = None,
               state: str | None = None, programmes: Sequence[str] | None = None,
               townships: Sequence[str] | None = None, limit: int, offset: int
               ) -> list[CaseRow]:
        """Cases matching every filter given, newest first: a member's keyed digest
        (``member_key``: (key, kind), ``member_keys``), the case id, opened in
        [``opened_from``, ``opened_before``), the state, within the scope."""
        scope = self._scope(programmes, townships)
        if scope is None:
            return []
        clauses, params = scope
        m = self._mark
        if member_key is not None:
            clauses.append("cases.case_id IN (SELECT k.case_id FROM case_member_keys k "
                           f'WHERE k."key" = {m} AND k.kind = {m})')
            params += list(member_key)
        if case_id:
            clauses.append(f"cases.case_id = {m}")
            params.append(case_id)
        if opened_from is not None:
            clauses.append(f"cases.created_at >= {m}")
            params.append(self._to_db(opened_from))
        if opened_before is not None:
            clauses.append(f"cases.created_at < {m}")
            params.append(self._to_db(opened_before))
        if state:
            clauses.append(f"cases.state = {m}")
            params.append(state)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (f"SELECT {_columns()} FROM cases{where} ORDER BY cases.created_at DESC, "
               f"cases.case_id LIMIT {m} OFFSET {m}")
        with self._cursor(None) as cur:
            cur.execute(sql, [*params, limit, offset])
            rows = cur.fetchall()
        return [self._row(r) for r in rows]

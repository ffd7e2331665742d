"""What the re-verification service does for a person: start and follow runs, read and
act on change alerts — within their scope, each access to a household in the log.

The person (and their role) is established by the guard; here their scope is applied:
runs of the programmes they serve, alerts of their townships. An alert names a
household: listing alerts shows the applicant's name masked and is one ALERT_VIEWED
entry naming every listed household's members; reading one alert's figures is an entry
of its own; acting on it is ALERT_ACTED (never with the note's text).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from hedui import china_time
from hedui.gateway import access, worklist
from hedui.gateway import alerts as alerts_mod
from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.masking import mask_name
from hedui.gateway.store_alerts import AlertRow
from hedui.gateway.store_roster import RosterStore, RunProgress, applicant_of
from hedui.gateway.store_roster import reverification_runs as runs_table
from hedui.v1 import audit_pb2, common_pb2, reverification_pb2

R = reverification_pb2
MAX_ALERTS = 500


@dataclass
class ReverificationDesk:
    """The service's operations, over the case manager's parts and the roster store."""

    cases: object  # hedui.gateway.cases.CaseManager (its recorder, registry, bundle)
    roster: RosterStore
    #: wakes the gateway's runner when a run is started
    wake: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ runs

    async def start_run(self, request: R.StartRunRequest) -> R.RunStatus:
        person = self._person(request.operator)
        self.cases.require_programme(request.programme)  # type: ignore[attr-defined]
        access.require_scope(person, request.programme, None, what="this programme's roster")
        as_of = (dt.date(request.as_of.year, request.as_of.month, request.as_of.day)
                 if request.HasField("as_of") else china_time.today())
        run_id = await asyncio.to_thread(self.roster.create_run, request.programme, as_of,
                                         person.staff_id)
        await self.cases.recorder.record_async(  # type: ignore[attr-defined]
            audit_pb2.AUDIT_KIND_REVERIFICATION_RUN, operator=person.staff_id,
            case_id=run_id, purpose=request.programme,
            reason=f"started as of {as_of.isoformat()}, worked by the gateway")
        self.wake()
        return await self.get_run(R.GetRunRequest(operator=person.staff_id, run_id=run_id))

    async def get_run(self, request: R.GetRunRequest) -> R.RunStatus:
        person = self._person(request.operator)
        progress = await asyncio.to_thread(self.roster.progress, request.run_id)
        if progress is None:
            raise CaseError(f"no re-verification run {request.run_id}", "RUN_NOT_FOUND")
        access.require_scope(person, progress.programme, None, what="this run")
        return run_status(progress)

    async def list_runs(self, request: R.ListRunsRequest) -> R.ListRunsResponse:
        person = self._person(request.operator)
        programmes = [request.programme] if request.programme else list(person.programmes)
        if request.programme:
            access.require_scope(person, request.programme, None, what="this programme")
        query = select(runs_table.c.run_id).order_by(runs_table.c.created_at.desc()).limit(50)
        if programmes:
            query = query.where(runs_table.c.programme.in_(programmes))

        def read() -> list[RunProgress]:
            with self.roster.read() as conn:
                ids = list(conn.execute(query).scalars())
            return [p for p in (self.roster.progress(i) for i in ids) if p is not None]

        return R.ListRunsResponse(runs=[run_status(p) for p in await asyncio.to_thread(read)])

    # ---------------------------------------------------------------- alerts

    async def list_alerts(self, request: R.ListAlertsRequest, *, client: str = ""
                          ) -> R.ListAlertsResponse:
        person = self._person(request.operator)
        if request.grade and request.grade not in alerts_mod.GRADES:
            raise CaseError(f"grade {request.grade!r} is not red, orange or yellow",
                            "BAD_GRADE")
        townships: Sequence[str] | None = list(person.townships) or None
        if request.township:
            if townships is not None and request.township not in townships:
                raise NotAllowed(f"township {request.township} is outside your scope",
                                 "OUTSIDE_SCOPE")
            townships = [request.township]
        state = None if request.state == "ALL" else (request.state or "OPEN")
        rows = await asyncio.to_thread(
            self.roster.list_alerts, state=state, grade=request.grade or None,
            townships=townships, run_id=request.run_id or None, limit=MAX_ALERTS)
        rows = [r for r in rows if not person.programmes or r.programme in person.programmes]
        shown, pseudonyms = [], []
        for row in rows:
            alert, members = await asyncio.to_thread(self._alert, row, with_changes=False)
            shown.append(alert)
            pseudonyms += members
        if rows:
            await self.cases.recorder.record_async(  # type: ignore[attr-defined]
                audit_pb2.AUDIT_KIND_ALERT_VIEWED, operator=person.staff_id,
                case_id=request.run_id, pseudonyms=pseudonyms, client=client,
                reason=f"{len(rows)} change alerts listed, names masked")
        return R.ListAlertsResponse(alerts=shown)

    async def get_alert(self, request: R.GetAlertRequest, *, client: str = "") -> R.Alert:
        person = self._person(request.operator)
        row = await self._scoped_alert(person, request.alert_id)
        alert, pseudonyms = await asyncio.to_thread(self._alert, row, with_changes=True)
        await self.cases.recorder.record_async(  # type: ignore[attr-defined]
            audit_pb2.AUDIT_KIND_ALERT_VIEWED, operator=person.staff_id, case_id=row.run_id,
            purpose=row.programme, pseudonyms=pseudonyms, client=client,
            reason=f"alert {row.alert_id} ({row.grade}) read with its figures")
        return alert

    async def act(self, request: R.ActOnAlertRequest, *, client: str = "") -> R.Alert:
        person = self._person(request.operator)
        row = await self._scoped_alert(person, request.alert_id)
        A = R.ActOnAlertRequest
        try:
            if request.action == A.ACTION_CONFIRM:
                acted = await asyncio.to_thread(worklist.confirm, self.roster, row.alert_id,
                                                person.staff_id, request.note)
            elif request.action == A.ACTION_DISMISS:
                acted = await asyncio.to_thread(worklist.dismiss, self.roster, row.alert_id,
                                                person.staff_id, request.note)
            elif request.action == A.ACTION_OPEN_REVIEW:
                if not request.review_case_id.strip():
                    raise CaseError("open the review case (入户核查) first and name it",
                                    "REVIEW_CASE_REQUIRED")
                acted = await asyncio.to_thread(
                    worklist.open_review, self.roster, row.alert_id, person.staff_id,
                    request.review_case_id, request.note)
            else:
                raise CaseError("say what to do: confirm, open a review or dismiss",
                                "BAD_ALERT_ACTION")
        except worklist.WorklistError as exc:
            raise CaseError(str(exc), _WORKLIST_REASONS.get(exc.code, "MALFORMED_REQUEST")
                            ) from None
        assert isinstance(acted, worklist.Acted)
        await self.cases.recorder.record_async(  # type: ignore[attr-defined]
            **acted.audit, client=client)
        alert, _ = await asyncio.to_thread(self._alert, acted.alert, with_changes=False)
        return alert

    async def count_alerts(self, request: R.AlertCountsRequest) -> R.AlertCounts:
        person = self._person(request.operator)
        today = china_time.today()
        counts = await asyncio.to_thread(self.roster.counts_by_grade_and_township)
        overdue = await asyncio.to_thread(self.roster.counts_by_grade_and_township,
                                          overdue_on=today)
        towns: dict[str, R.AlertCounts.Township] = {}
        for (grade, town), n in counts.items():
            if person.townships and town not in person.townships:
                continue
            t = towns.setdefault(town, R.AlertCounts.Township(township=town))
            setattr(t, grade, getattr(t, grade) + n)
        for (_grade, town), n in overdue.items():
            if town in towns:
                towns[town].overdue += n
        return R.AlertCounts(townships=[towns[t] for t in sorted(towns)])

    # ---------------------------------------------------------------- helpers

    def _person(self, operator: str) -> access.Person:
        if not operator:
            raise NotAllowed("the request names no operator (staff id)", "NO_OPERATOR")
        return self.cases.person(operator)  # type: ignore[attr-defined]

    async def _scoped_alert(self, person: access.Person, alert_id: str) -> AlertRow:
        row = await asyncio.to_thread(self.roster.alert, alert_id)
        if row is None:
            raise CaseError(f"no alert {alert_id}", "ALERT_NOT_FOUND")
        access.require_scope(person, row.programme, row.township, what="this alert")
        return row

    def _alert(self, row: AlertRow, *, with_changes: bool) -> tuple[R.Alert, list[str]]:
        """The alert as shown, and the pseudonyms of the household's members."""
        household = self.roster.roster_row(row.roster_id)
        members = self.roster.members(household) if household is not None else []
        name = mask_name(applicant_of(members).name) if members else ""
        out = R.Alert(
            alert_id=row.alert_id, run_id=row.run_id, grade=row.grade, township=row.township,
            programme=row.programme, state=row.state,
            due_on=common_pb2.Date(year=row.due_on.year, month=row.due_on.month,
                                   day=row.due_on.day),
            overdue=worklist.is_overdue(row, china_time.today()),
            applicant_masked=name, acted_by=row.acted_by, review_case_id=row.review_case_id)
        if with_changes:
            alert = alerts_mod.Alert.from_json(self.roster.alert_changes(row))
            out.changes.extend(R.AlertChange(
                grade=c.grade, kind=c.kind, rule_id=c.rule_id, text_zh=c.text_zh,
                text_en=c.text_en, department=c.department) for c in alert.changes)
        pseudonym = self.cases.recorder.pseudonymizer.pseudonym  # type: ignore[attr-defined]
        return out, [pseudonym(m.id_number) for m in members]


_WORKLIST_REASONS = {"NO_SUCH_ALERT": "ALERT_NOT_FOUND", "NOT_OPEN": "ALERT_NOT_OPEN",
                     "NOTE_REQUIRED": "NOTE_REQUIRED", "REASON_REQUIRED": "REASON_REQUIRED",
                     "NOTE_TOO_LONG": "NOTE_TOO_LONG"}


def run_status(p: RunProgress) -> R.RunStatus:
    s = p.by_state
    return R.RunStatus(
        run_id=p.run_id, programme=p.programme, state=p.state, started_by=p.started_by,
        as_of=common_pb2.Date(year=p.as_of.year, month=p.as_of.month, day=p.as_of.day),
        households=p.households, pending=s.get("PENDING", 0), claimed=s.get("CLAIMED", 0),
        decided=s.get("DECIDED", 0), failed=s.get("FAILED", 0),
        alerts_red=p.alerts.get("red", 0), alerts_orange=p.alerts.get("orange", 0),
        alerts_yellow=p.alerts.get("yellow", 0))

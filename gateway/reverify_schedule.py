"""When a programme's roster is due for re-verification, and starting the runs due.

Beneficiaries are re-verified yearly, half-yearly where the published rule says so (the
standard's ``reverify_every_months``); gateway.toml's ``[reverification]`` gives the
default (``every_months``) and may set a programme's months outright (``programmes``).
A programme is due ``months`` after its last run's date — or, never run,
after its earliest enrolment — unless a run of it is still open. A scheduled run is the
accountable verifier's (``scheduled_by``): their staff id is on it and on every entry it
writes, and they must be an active verifier when it starts, or nothing starts (logged).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import func, select

from hedui.gateway import access
from hedui.gateway.standards import NoStandard
from hedui.gateway.store_roster import RosterStore, reverification_runs, roster
from hedui.v1 import audit_pb2

log = structlog.get_logger("hedui.gateway.reverify")


@dataclass(frozen=True)
class Schedule:
    """``[reverification]``: whose scheduled runs are, and the months between runs."""

    scheduled_by: str = ""
    every_months: int = 12
    programmes: Mapping[str, int] = field(default_factory=dict)

    def months(self, programme: str, region: str = "", today: dt.date | None = None,
               standards: object = None) -> int:
        """gateway.toml's months for the programme, else its standard's
        ``reverify_every_months`` (in force today for the region), else every_months."""
        if programme in self.programmes:
            return self.programmes[programme]
        if standards is not None and region and today is not None:
            try:
                return standards.select(region, programme, today).reverify_every_months  # type: ignore[attr-defined]
            except NoStandard:
                pass
        return self.every_months

    @classmethod
    def from_config(cls, config: object) -> Schedule:
        return cls(getattr(config, "reverify_scheduled_by", ""),
                   getattr(config, "reverify_every_months", 12),
                   dict(getattr(config, "reverify_programme_months", {})))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_programmes(store: RosterStore, schedule: Schedule, today: dt.date, *,
                   standards: object = None) -> list[str]:
    """Programmes with households on their roster whose next run is due by ``today``."""
    runs = reverification_runs
    with store.read() as conn:
        rows = conn.execute(
            select(roster.c.programme, func.min(roster.c.enrolled_on), func.min(roster.c.region))
            .where(roster.c.active.is_(True)).group_by(roster.c.programme)).all()
        last = dict(conn.execute(
            select(runs.c.programme, func.max(runs.c.as_of))
            .where(runs.c.state != "CANCELLED").group_by(runs.c.programme)).all())
        open_runs = set(conn.execute(select(runs.c.programme).where(
            runs.c.state.in_(("PENDING", "RUNNING")))).scalars())
    due = []
    for programme, first, region in sorted(rows):
        if programme in open_runs:
            continue
        since = last.get(programme) or first
        if add_months(since, schedule.months(programme, region, today, standards)) <= today:
            due.append(programme)
    return due


async def start_due(store: RosterStore, schedule: Schedule, *, registry: object,
                    recorder: object, today: dt.date, standards: object = None
                    ) -> Sequence[str]:
    """Start a run for each programme due; returns the run ids."""
    if not schedule.scheduled_by:
        return ()
    due = due_programmes(store, schedule, today, standards=standards)
    if not due:
        return ()
    try:
        person = registry.require_active(schedule.scheduled_by)  # type: ignore[attr-defined]
    except Exception as exc:  # not on the registry, or disabled: nobody answers for it
        log.error("scheduled re-verification not started: [reverification] scheduled_by "
                  "is not an active staff member", staff=schedule.scheduled_by,
                  error=str(exc), due=due)
        return ()
    if person.role_for(access.Action.RUN_REVERIFICATION) is None:
        log.error("scheduled re-verification not started: [reverification] scheduled_by "
                  "may not run re-verification (a verifier may)", staff=person.staff_id)
        return ()
    started = []
    for programme in due:
        run_id = store.create_run(programme, today, person.staff_id)
        await recorder.record_async(  # type: ignore[attr-defined]
            audit_pb2.AUDIT_KIND_REVERIFICATION_RUN, operator=person.staff_id,
            case_id=run_id, purpose=programme,
            reason=f"scheduled as of {today.isoformat()}")
        started.append(run_id)
    return started

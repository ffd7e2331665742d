"""Re-verification runs worked inside the gateway process: runs started through the
service, and any left RUNNING or PENDING by a replica that stopped, resumed at start.

The runner is one task per replica; several replicas (or a ``hedui reverify resume``
beside them) share a run safely through the roster store's claims. A run's failure is
logged and the runner goes on: the run stays RUNNING and is taken up again at the next
wake-up (a minute, or a new run started).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import Sequence

import structlog

from hedui import china_time
from hedui.gateway.reverify import Reverifier
from hedui.gateway.reverify_schedule import Schedule, start_due
from hedui.gateway.store_roster import RosterStore

log = structlog.get_logger("hedui.gateway.reverify")

#: how often the runner looks for runs left open when nobody wakes it
IDLE_SECONDS = 60.0


def reverifier_for(gw, *, claimer: str | None = None, chunk_size: int = 500  # type: ignore[no-untyped-def]
                   ) -> Reverifier:
    """The re-verification parts of a built gateway (``hedui.gateway.server.build``)."""
    m = gw.cases
    roster = RosterStore(gw.store.engine, m.vault, pseudonym=m.recorder.pseudonymizer.pseudonym)
    return Reverifier(
        gateway_id=m.gateway_id, signing_key=m.signing_key, bundle=m.bundle, roster=roster,
        standards=m.standards, recorder=m.recorder, client_for=m.fanout.client_for,
        checkpoint=m.fanout.checkpoint, pseudonym=m.recorder.pseudonymizer.pseudonym,
        agent_witness=m.fanout.agent_witness, calendar=m.deadlines.calendar,
        claimer=claimer or f"{m.replica}/{os.getpid()}", chunk_size=chunk_size)


def replica_reverifier(gw) -> Reverifier:  # type: ignore[no-untyped-def]
    """The gateway process's own: claims under the replica's stable name (``[gateway]
    replica``, else host:port), so after a restart it takes its households back."""
    return reverifier_for(gw, claimer=f"gateway:{gw.cases.replica}")


class Runner:
    """Works open runs until stopped; ``wake`` after a run is started."""

    def __init__(self, reverifier: Reverifier, *, idle: float = IDLE_SECONDS,
                 schedule: Schedule | None = None, registry: object = None) -> None:
        self.reverifier = reverifier
        self.idle = idle
        self.schedule = schedule or Schedule()
        #: the staff registry, for the accountable person of scheduled runs
        self.registry = registry
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        released = await asyncio.to_thread(self.reverifier.roster.release_claims,
                                           self.reverifier.claimer)
        if released:
            log.info("households this replica held when it stopped are taken back",
                     households=released, claimer=self.reverifier.claimer)
        while not stop.is_set():
            await self.start_scheduled()
            await self.work_open_runs()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                waiting = asyncio.create_task(self._wake.wait())
                stopping = asyncio.create_task(stop.wait())
                try:
                    await asyncio.wait({waiting, stopping}, timeout=self.idle,
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiting.cancel()
                    stopping.cancel()

    async def start_scheduled(self) -> Sequence[str]:
        """Start the runs the schedule says are due (none without ``scheduled_by``)."""
        if not self.schedule.scheduled_by or self.registry is None:
            return ()
        try:
            return await start_due(self.reverifier.roster, self.schedule,
                                   registry=self.registry, recorder=self.reverifier.recorder,
                                   today=china_time.today(),
                                   standards=self.reverifier.standards)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database hiccup: the next wake-up tries again
            log.error("scheduled re-verification check failed", error=str(exc))
            return ()

    async def work_open_runs(self) -> int:
        """Work every open run once to its end (as far as this replica can); how many."""
        rv = self.reverifier
        worked = 0
        for progress in await asyncio.to_thread(rv.roster.resumable_runs):
            try:
                started = dt.datetime.now(dt.UTC)
                done = await rv.run(progress.run_id, operator=progress.started_by)
                worked += 1
                log.info("re-verification run worked", run_id=done.run_id, state=done.state,
                         decided=done.by_state.get("DECIDED", 0),
                         seconds=round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the run stays open; the next wake-up resumes it
                log.error("re-verification run failed; it is resumed later",
                          run_id=progress.run_id, error=str(exc))
        return worked

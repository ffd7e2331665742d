"""What the re-verification tests share: households put on a programme's roster (as
the gateway's roster import does, in-process beside the running gateway) and a run
waited for until the gateway has worked it."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from console_site import ConsoleSite

from hedui.gateway import config as config_mod
from hedui.gateway import sandbox, server
from hedui.gateway.reverify_runner import reverifier_for
from hedui.gateway.store_roster import RosterEntry
from hedui.v1 import case_pb2
from hedui.v1 import reverification_pb2 as rv


def import_roster(site: ConsoleSite, n: int, *, prefix: str = "page") -> None:
    """``n`` of the sandbox's households on the dibao roster, in the clerk's township."""
    entries = []
    for i in range(n):
        sample = site.samples[i % len(site.samples)]
        members = [case_pb2.Member(id_number=m["id_number"], name=m["name"],
                                   relation=m.get("relation", 1)) for m in sample["members"]]
        entries.append(RosterEntry(
            household_ref=f"{prefix}-{i}", members=members, region="310000",
            township=sandbox.TOWNSHIP, enrolled_on=dt.date(2025, 1, 1),
            authorization_number=f"SQ-{prefix.upper()}-{i:04d}",
            consent_digest=hashlib.sha256(f"{prefix}-{i}".encode()).hexdigest()))

    async def work() -> None:
        gw = server.build(config_mod.load(site.sb.gateway_config))
        try:
            reverifier_for(gw, claimer="import").roster.import_rows(
                "dibao", entries, source=f"import:{prefix}")
        finally:
            await gw.close()

    # in a thread of its own: a caller may hold a running loop (Playwright's sync API)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work()).result()


def wait_finished(site: ConsoleSite, run_id: str, *, timeout: float = 120) -> rv.RunStatus:
    """The run once FINISHED (or as it stands after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    with site.person(sandbox.VERIFIER) as c:
        while True:
            run = c.call(c.reverify.GetRun, rv.GetRunRequest(run_id=run_id))
            if run.state == "FINISHED" or time.monotonic() > deadline:
                return run
            time.sleep(0.3)

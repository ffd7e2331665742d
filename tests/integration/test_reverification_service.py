"""The re-verification service of a real gateway process with its eight agents, called
with personal certificates: a verifier starts a run and the gateway works it in the
background; the township's clerk sees only their township's alerts, reads one (logged
with the household's members), confirms it (logged without the note), and cannot act on
an alert of another township or act twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time

import grpc
import pytest
from people_site import PeopleSite, refusal

from hedui.gateway import config as config_mod
from hedui.gateway import sandbox, server
from hedui.gateway.reverify_runner import reverifier_for
from hedui.gateway.store_roster import RosterEntry
from hedui.v1 import audit_pb2, case_pb2
from hedui.v1 import reverification_pb2 as rv

K = audit_pb2
OTHER_TOWNSHIP = "310112002"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = PeopleSite(tmp_path_factory.mktemp("rv-service"), seed=41)
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def _import(site: PeopleSite, n: int) -> None:
    entries = []
    for i in range(n):
        sample = site.samples[i % len(site.samples)]
        members = [case_pb2.Member(id_number=m["id_number"], name=m["name"],
                                   relation=m.get("relation", 1)) for m in sample["members"]]
        entries.append(RosterEntry(
            household_ref=f"svc-{i}", members=members, region="310000",
            township=sandbox.TOWNSHIP if i % 2 else OTHER_TOWNSHIP,
            enrolled_on=dt.date(2025, 1, 1), authorization_number=f"SQ-SVC-{i:04d}",
            consent_digest=hashlib.sha256(f"svc-{i}".encode()).hexdigest()))

    async def work() -> None:
        gw = server.build(config_mod.load(site.sb.gateway_config))
        try:
            reverifier_for(gw, claimer="import").roster.import_rows(
                "dibao", entries, source="import:svc")
        finally:
            await gw.close()

    asyncio.run(work())


def _wait_finished(site: PeopleSite, run_id: str) -> rv.RunStatus:
    deadline = time.monotonic() + 120
    with site.person(sandbox.VERIFIER) as c:
        while True:
            run = c.call(c.reverify.GetRun, rv.GetRunRequest(run_id=run_id))
            if run.state == "FINISHED" or time.monotonic() > deadline:
                return run
            time.sleep(0.2)


def test_a_run_started_through_the_service_is_worked_and_its_alerts_acted_on(
        site: PeopleSite) -> None:
    n = min(24, len(site.samples))
    _import(site, n)
    with site.person(sandbox.VERIFIER) as c:
        started = c.call(c.reverify.StartRun, rv.StartRunRequest(programme="dibao"))
    assert started.households == n and started.state in ("PENDING", "RUNNING", "FINISHED")
    run = _wait_finished(site, started.run_id)
    assert run.state == "FINISHED" and run.decided == n
    raised = run.alerts_red + run.alerts_orange + run.alerts_yellow
    assert raised > 0, "the sandbox's ineligible households raise alerts on a first run"

    with site.person(sandbox.CLERK) as c:
        mine = c.call(c.reverify.ListAlerts, rv.ListAlertsRequest(run_id=run.run_id)).alerts
        counts = c.call(c.reverify.CountAlerts, rv.AlertCountsRequest())
    assert mine and {a.township for a in mine} == {sandbox.TOWNSHIP}
    assert all(a.applicant_masked.endswith("*") for a in mine)
    assert [t.township for t in counts.townships] == [sandbox.TOWNSHIP]
    with site.person(sandbox.VERIFIER) as c:  # the county's verifier sees both townships
        every = c.call(c.reverify.ListAlerts, rv.ListAlertsRequest(run_id=run.run_id)).alerts
    assert {a.township for a in every} >= {sandbox.TOWNSHIP}
    assert len(every) == raised

    alert = mine[0]
    with site.person(sandbox.CLERK) as c:
        full = c.call(c.reverify.GetAlert, rv.GetAlertRequest(alert_id=alert.alert_id))
        assert full.changes and all(ch.text_zh for ch in full.changes)
        acted = c.call(c.reverify.ActOnAlert, rv.ActOnAlertRequest(
            alert_id=alert.alert_id, action=rv.ActOnAlertRequest.ACTION_CONFIRM,
            note="入户核实：存款属实，秘密备注"))
        assert acted.state == "CONFIRMED" and acted.acted_by == sandbox.CLERK
        with pytest.raises(grpc.RpcError) as again:
            c.reverify.ActOnAlert(rv.ActOnAlertRequest(
                alert_id=alert.alert_id, action=rv.ActOnAlertRequest.ACTION_DISMISS,
                note="重复"))
        assert refusal(again.value).reason == "ALERT_NOT_OPEN"
        with pytest.raises(grpc.RpcError) as empty:
            c.reverify.ActOnAlert(rv.ActOnAlertRequest(
                alert_id=mine[-1].alert_id, action=rv.ActOnAlertRequest.ACTION_CONFIRM))
        assert refusal(empty.value).reason == "NOTE_REQUIRED"
        other = [a for a in every if a.township == OTHER_TOWNSHIP]
        if other:
            with pytest.raises(grpc.RpcError) as outside:
                c.reverify.GetAlert(rv.GetAlertRequest(alert_id=other[0].alert_id))
            assert refusal(outside.value).reason == "OUTSIDE_SCOPE"

    entries = site.entries()
    viewed = [e for e in entries if e.kind == K.AUDIT_KIND_ALERT_VIEWED
              and e.operator == sandbox.CLERK]
    assert viewed and all(e.subject_pseudonyms for e in viewed)
    (confirmed,) = [e for e in entries if e.kind == K.AUDIT_KIND_ALERT_ACTED]
    assert confirmed.operator == sandbox.CLERK and alert.alert_id in confirmed.reason
    assert "秘密备注" not in site.raw_log().decode("utf-8", "replace")
    assert any(e.kind == K.AUDIT_KIND_BULK_QUERY_SENT and e.case_id == run.run_id
               and e.operator == sandbox.VERIFIER for e in entries)


def test_a_reviewer_reads_alerts_but_cannot_start_a_run(site: PeopleSite) -> None:
    with site.person(sandbox.REVIEWER) as c:
        c.call(c.reverify.ListRuns, rv.ListRunsRequest())
        with pytest.raises(grpc.RpcError) as no:
            c.reverify.StartRun(rv.StartRunRequest(programme="dibao"))
    assert refusal(no.value).reason == "ROLE_NOT_ALLOWED"

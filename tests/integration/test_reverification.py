"""Re-verification runs end to end: a roster of real synthetic households, the eight
agents as processes answering bulk queries over mutual TLS, the gateway's parts built
from its own configuration; and a run whose process is SIGKILLed mid-way, resumed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import case_site
import pytest

from hedui.gateway import alerts as alerts_mod
from hedui.gateway import config as config_mod
from hedui.gateway import sandbox, server
from hedui.gateway.determination import verify_determination
from hedui.gateway.reverify_cli import reverifier_for
from hedui.gateway.store_roster import RosterEntry
from hedui.v1 import audit_pb2, bulk_pb2, case_pb2, envelope_pb2

AS_OF = case_site.TODAY
K = audit_pb2


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = case_site.Site(tmp_path_factory.mktemp("reverify"), persons=200)
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def _entries(site: case_site.Site, n: int, tag: str) -> list[RosterEntry]:
    out = []
    for i in range(n):
        sample = site.samples[i % len(site.samples)]
        members = [case_pb2.Member(id_number=m["id_number"], name=m["name"],
                                   relation=m.get("relation", 1)) for m in sample["members"]]
        out.append(RosterEntry(
            household_ref=f"{tag}-{i}", members=members, region="310000",
            township="town-a" if i % 2 else "town-b", enrolled_on=AS_OF - dt.timedelta(days=400),
            authorization_number=f"SQ-RV-{tag}-{i:04d}",
            consent_digest=hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()))
    return out


def _gateway(site: case_site.Site):  # type: ignore[no-untyped-def]
    return server.build(config_mod.load(site.sb.gateway_config))


def test_a_run_decides_every_household_once_signs_and_grades(site: case_site.Site) -> None:
    # distinct applicants: one roster row per programme and applicant
    entries = _entries(site, min(40, len(site.samples)), "a")

    async def work():  # type: ignore[no-untyped-def]
        gw = _gateway(site)
        try:
            rv = reverifier_for(gw, claimer="test-a", chunk_size=15)
            added = rv.roster.import_rows("dibao", entries, source="import:test-a")
            run_id = rv.roster.create_run("dibao", AS_OF, sandbox.VERIFIER)
            progress = await rv.run(run_id, operator=sandbox.VERIFIER)
            again = await rv.run(run_id, operator=sandbox.VERIFIER)  # nothing left to do
            return gw, rv, added, run_id, progress, again
        finally:
            await gw.close()

    gw, rv, added, run_id, progress, again = asyncio.run(work())
    n = len(added.added)
    assert n == len(entries) and progress.done and progress.state == "FINISHED"
    assert progress.by_state["DECIDED"] == n and again.by_state["DECIDED"] == n

    with sqlite3.connect(site.sb.gateway_config.parent / "state" / "cases.sqlite") as db:
        rows = db.execute("SELECT roster_id, outcome, determination_digest FROM "
                          "run_households WHERE run_id = ?", (run_id,)).fetchall()
    assert len(rows) == n and len({r[0] for r in rows}) == n
    # each determination is signed by the gateway, cites the chunks it rests on
    now = dt.datetime.now(dt.UTC)
    bundle = gw.cases.bundle()
    outcomes = Counter()
    grades = Counter()
    for roster_id, outcome, digest in rows:
        found = rv.roster.previous_determination(roster_id)
        assert found is not None
        _run, stored_digest, raw = found
        assert stored_digest == digest
        env = envelope_pb2.Envelope.FromString(raw)
        assert hashlib.sha256(env.payload).digest() == digest
        det = verify_determination(env, bundle, now=now)
        assert det.run_id == run_id and det.roster_id == roster_id
        assert case_pb2.Outcome.Name(det.outcome) == outcome
        assert det.answers, "every household rests on at least one department's chunk"
        for ref in det.answers:  # every cited chunk is kept, signed, and holds the household
            kept = rv.roster.chunk(ref.chunk_digest)
            assert kept is not None, f"chunk of {ref.department} not kept"
            chunk_env = envelope_pb2.Envelope.FromString(kept)
            assert hashlib.sha256(chunk_env.payload).digest() == ref.chunk_digest
            chunk = bulk_pb2.BulkAnswerChunk.FromString(chunk_env.payload)
            assert ref.household_ref in {h.household_ref for h in chunk.households}
        outcomes[outcome] += 1
        alert = alerts_mod.grade(None, alerts_mod.Snapshot.of_report(det))  # type: ignore[arg-type]
        if alert is not None:
            grades[alert.grade] += 1
    assert dict(progress.alerts) == {g: grades[g] for g in progress.alerts}
    assert sum(progress.alerts.values()) == sum(grades.values())
    # the sandbox's households include ineligible ones: red alerts on a first run
    assert outcomes["OUTCOME_INELIGIBLE"] > 0 and grades["red"] == outcomes["OUTCOME_INELIGIBLE"]

    # the center logged one bulk query per department per chunk, naming every member
    entries_log = [e for e in site.entries() if e.case_id == run_id]
    sent = [e for e in entries_log if e.kind == K.AUDIT_KIND_BULK_QUERY_SENT]
    chunks = -(-n // 15)
    online = [d for d in site.sb.agents]
    assert len(sent) == chunks * len(online)
    every = {rv.pseudonym(m.id_number) for e in entries for m in e.members}
    assert set().union(*(set(e.subject_pseudonyms) for e in sent)) == every
    assert any(e.kind == K.AUDIT_KIND_REVERIFICATION_DECIDED for e in entries_log)
    # worked once, finished once; the second call found nothing to do and logged nothing
    assert sum(e.kind == K.AUDIT_KIND_REVERIFICATION_RUN for e in entries_log) == 2


def test_a_second_run_compares_with_the_first(site: case_site.Site) -> None:
    entries = _entries(site, 12, "b")

    async def work():  # type: ignore[no-untyped-def]
        gw = _gateway(site)
        try:
            rv = reverifier_for(gw, claimer="test-b", chunk_size=50)
            rv.roster.import_rows("low-income", entries, source="import:test-b")
            first = rv.roster.create_run("low-income", AS_OF, sandbox.VERIFIER)
            p1 = await rv.run(first, operator=sandbox.VERIFIER)
            second = rv.roster.create_run("low-income", AS_OF, sandbox.VERIFIER)
            p2 = await rv.run(second, operator=sandbox.VERIFIER)
            return rv, p1, p2, second
        finally:
            await gw.close()

    _rv, p1, p2, second = asyncio.run(work())
    assert p1.by_state["DECIDED"] == p2.by_state["DECIDED"] == 12
    # nothing changed between the runs: no household is newly ineligible or approaching
    assert p2.alerts.get("red", 0) == 0 and p2.alerts.get("orange", 0) == 0
    with sqlite3.connect(site.sb.gateway_config.parent / "state" / "cases.sqlite") as db:
        prev = db.execute("SELECT count(*) FROM run_households WHERE run_id = ? AND "
                          "previous_digest IS NOT NULL", (second,)).fetchone()[0]
    assert prev == 12


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_loses_and_repeats_nothing(site: case_site.Site) -> None:
    entries = _entries(site, min(60, len(site.samples)), "c")

    async def setup():  # type: ignore[no-untyped-def]
        gw = _gateway(site)
        try:
            rv = reverifier_for(gw, claimer="setup")
            rv.roster.import_rows("medical-assistance", entries, source="import:test-c")
            return rv.roster.create_run("medical-assistance", AS_OF, sandbox.VERIFIER)
        finally:
            await gw.close()

    run_id = asyncio.run(setup())
    n = len(entries)
    db_path = site.sb.gateway_config.parent / "state" / "cases.sqlite"
    cmd = [str(Path(sys.executable).parent / "hedui"), "reverify", "resume", "--config",
           str(site.sb.gateway_config), run_id, "--operator", sandbox.VERIFIER,
           "--chunk", "5", "--stale-after", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def decided() -> int:
        with sqlite3.connect(db_path) as db:
            return db.execute("SELECT count(*) FROM run_households WHERE run_id = ? AND "
                              "state = 'DECIDED'", (run_id,)).fetchone()[0]

    deadline = time.monotonic() + 120
    while decided() < 10 and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    killed_at = decided()
    assert 0 < killed_at < n, f"the run should be killed mid-way, not at {killed_at} of {n}"
    time.sleep(1.2)  # the dead claimer's claims go stale
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "FINISHED" in done.stdout
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT state, count(*) FROM run_households WHERE run_id = ? "
                          "GROUP BY state", (run_id,)).fetchall()
        alerts = db.execute("SELECT roster_id, count(*) FROM alerts WHERE run_id = ? "
                            "GROUP BY roster_id HAVING count(*) > 1", (run_id,)).fetchall()
    assert dict(rows) == {"DECIDED": n}
    assert alerts == [], "a household alerted twice was decided twice"
    assert "Traceback" not in done.stderr


def test_two_workers_share_a_run_and_one_finishes_it(site: case_site.Site) -> None:
    entries = _entries(site, min(40, len(site.samples)), "d")

    async def setup() -> None:
        gw = _gateway(site)
        try:
            reverifier_for(gw, claimer="setup").roster.import_rows(
                "tekun", entries, source="import:test-d")
        finally:
            await gw.close()

    asyncio.run(setup())
    hedui = str(Path(sys.executable).parent / "hedui")
    done = subprocess.run([hedui, "reverify", "start", "--config", str(site.sb.gateway_config),
                           "--programme", "tekun", "--operator", sandbox.VERIFIER,
                           "--chunk", "4", "--workers", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[1]
    assert "FINISHED" in done.stdout and f"DECIDED {len(entries)}" in done.stdout
    log = [e for e in site.entries() if e.case_id == run_id]
    runs = [e.reason for e in log if e.kind == K.AUDIT_KIND_REVERIFICATION_RUN]
    assert sum(r.startswith("finished") for r in runs) == 1
    # the helper process may start after the first has claimed everything: whoever
    # worked, each household is decided once and the run finished once
    assert 1 <= sum(r.startswith("worked by") for r in runs) <= 2
    assert "helper process" not in done.stderr
    decided = [p for e in log if e.kind == K.AUDIT_KIND_REVERIFICATION_DECIDED
               for p in e.subject_pseudonyms]
    assert len(decided) == len(set(decided)), "a member was decided twice"


def test_a_restarted_gateway_runner_takes_its_own_claims_back(site: case_site.Site) -> None:
    from hedui.gateway.reverify_runner import Runner

    entries = _entries(site, 10, "e")

    async def work():  # type: ignore[no-untyped-def]
        gw = _gateway(site)
        try:
            rv = reverifier_for(gw, claimer="gateway:replica-a", chunk_size=4)
            rv.roster.import_rows("education-assistance", entries, source="import:test-e")
            run_id = rv.roster.create_run("education-assistance", AS_OF, sandbox.VERIFIER)
            # the replica claimed a chunk, then was killed before deciding it
            rv.roster.claim(run_id, rv.claimer, 4, dt.timedelta(minutes=5))
            stop = asyncio.Event()
            runner = Runner(rv, idle=0.05)
            task = asyncio.create_task(runner.run_forever(stop))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                p = rv.roster.progress(run_id)
                if p is not None and p.state == "FINISHED":
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await task
            return rv.roster.progress(run_id)
        finally:
            await gw.close()

    progress = asyncio.run(work())
    # no wait for the 5-minute stale claim: the restarted replica took them back at once
    assert progress is not None and progress.state == "FINISHED"
    assert progress.by_state["DECIDED"] == len(entries)


@pytest.mark.slow
def test_an_agent_sigkilled_mid_run_leaves_no_household_lost(site: case_site.Site) -> None:
    """The banks agent dies mid-run: the run still decides every household once; those
    asked after its death are decided with its data missing (a yellow alert, never a
    silent eligibility), and the next run asks again."""
    entries = _entries(site, min(40, len(site.samples)), "f")

    async def setup() -> str:
        gw = _gateway(site)
        try:
            rv = reverifier_for(gw, claimer="setup")
            rv.roster.import_rows("affordable-housing", entries, source="import:test-f")
            return rv.roster.create_run("affordable-housing", AS_OF, sandbox.VERIFIER)
        finally:
            await gw.close()

    run_id = asyncio.run(setup())
    db_path = site.sb.gateway_config.parent / "state" / "cases.sqlite"
    hedui = str(Path(sys.executable).parent / "hedui")
    p = subprocess.Popen([hedui, "reverify", "resume", "--config", str(site.sb.gateway_config),
                          run_id, "--operator", sandbox.VERIFIER, "--chunk", "4"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def decided() -> int:
        with sqlite3.connect(db_path) as db:
            return db.execute("SELECT count(*) FROM run_households WHERE run_id = ? AND "
                              "state = 'DECIDED'", (run_id,)).fetchone()[0]

    deadline = time.monotonic() + 120
    while decided() < 8 and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)
    banks = site.processes["banks"]
    banks.send_signal(signal.SIGKILL)
    banks.wait()
    try:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "FINISHED" in out and "Traceback" not in err
        with sqlite3.connect(db_path) as db:
            states = dict(db.execute("SELECT state, count(*) FROM run_households WHERE "
                                     "run_id = ? GROUP BY state", (run_id,)).fetchall())
            yellow = db.execute("SELECT count(*) FROM alerts WHERE run_id = ? AND grade "
                                "IN ('yellow', 'red', 'orange')", (run_id,)).fetchone()[0]
        assert states == {"DECIDED": len(entries)}
        assert yellow > 0
        failed = [e for e in site.entries() if e.case_id == run_id
                  and e.kind == K.AUDIT_KIND_QUERY_FAILED and e.department == "banks"]
        assert failed, "the lost department is in the log, with the households it concerned"
    finally:
        site.processes["banks"] = sandbox.start_agent(site.sb, "banks")
        sandbox.wait_healthy(site.sb.endpoints["banks"], site.sb.agents["banks"].id,
                             site.material, process=site.processes["banks"],
                             log_file=site.sb.logs / "agent-banks.log")


def test_a_worker_that_fails_gives_its_households_back_at_once(site: case_site.Site) -> None:
    entries = _entries(site, 8, "g")

    async def work():  # type: ignore[no-untyped-def]
        gw = _gateway(site)
        try:
            rv = reverifier_for(gw, claimer="failing", chunk_size=4)
            rv.roster.import_rows("temporary-assistance", entries, source="import:test-g")
            run_id = rv.roster.create_run("temporary-assistance", AS_OF, sandbox.VERIFIER)

            def broken(*_a, **_k):  # type: ignore[no-untyped-def]
                raise RuntimeError("the case database went away")  # a fault, injected

            rv.roster.record_decisions = broken  # type: ignore[method-assign]
            with pytest.raises(RuntimeError):
                await rv.run(run_id, operator=sandbox.VERIFIER)
            return rv.roster.progress(run_id)
        finally:
            await gw.close()

    progress = asyncio.run(work())
    assert progress is not None
    assert progress.by_state["CLAIMED"] == 0 and progress.by_state["PENDING"] == len(entries)

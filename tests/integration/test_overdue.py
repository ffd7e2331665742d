"""Feedback deadlines and the automatic retry, on a real gateway and its agents.

The tax agent is stopped while two cases are verified: tax FAILED on both, the other
departments answered. One case is then moved a month into the past (its ``created_at``
rewritten in the case database with sqlite3: the only way to have a case opened weeks
ago in a test that runs today, and the deadline is counted from the opening), so tax is
past its deadline on it and not on the other.

Then tax comes back and the retry schedule's sweep asks it again, as the gateway
("gateway-scheduler"), never as a staff member: both cases are assessed, the verifier
who began each verification stays its verifier (so the reviewer who was that verifier
is still refused), and a reviewer decides them. One test runs the sweep on a
CaseManager built in this process over the same databases (to look at one sweep); the
last waits for the gateway process's own schedule.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time

import grpc
import pytest
from people_site import PeopleSite, kinds, refusal

from hedui.gateway import config as gateway_config
from hedui.gateway import deadlines, retry_schedule, sandbox, server
from hedui.v1 import audit_pb2, case_pb2

DOWN = "tax"
S = case_pb2.CaseState
P = case_pb2.DepartmentStatus
#: a month back: more working days than any deadline here, whatever today's holidays
BACK = dt.timedelta(days=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = PeopleSite(tmp_path_factory.mktemp("overdue"))
    config = s.sb.gateway_config
    text = config.read_text(encoding="utf-8")
    # a short schedule: the gateway process retries by itself every 3 s
    config.write_text(text.replace("[fanout]\n", "[fanout]\nretry_failed_every_minutes = 0.05\n"),
                      encoding="utf-8")
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def verify(site: PeopleSite, staff_id: str, case_id: str) -> case_pb2.Case:
    with site.person(staff_id) as c:
        return c.call(c.cases.VerifyCase, case_pb2.VerifyCaseRequest(case_id=case_id),
                      timeout=90)


def get(site: PeopleSite, case_id: str, staff_id: str = sandbox.VERIFIER) -> case_pb2.Case:
    with site.person(staff_id) as c:
        return c.call(c.cases.GetCase, case_pb2.GetCaseRequest(case_id=case_id))


def overdue_listed(site: PeopleSite, **filters) -> list[str]:
    with site.person(sandbox.VERIFIER) as c:
        page = c.call(c.cases.ListCases, case_pb2.ListCasesRequest(overdue_only=True,
                                                                   **filters))
    return [x.case_id for x in page.cases]


def move_back(site: PeopleSite, case_id: str, by: dt.timedelta) -> dt.datetime:
    """Open the case ``by`` earlier: its created_at rewritten in the database, in the
    text form SQLAlchemy keeps SQLite timestamps in (UTC)."""
    db = site.sb.gateway_config.parent / "state" / "cases.sqlite"
    conn = sqlite3.connect(db)
    try:
        (value,) = conn.execute("SELECT created_at FROM cases WHERE case_id = ?",
                                (case_id,)).fetchone()
        moved = dt.datetime.fromisoformat(value) - by
        conn.execute("UPDATE cases SET created_at = ? WHERE case_id = ?",
                     (moved.strftime("%Y-%m-%d %H:%M:%S.%f"), case_id))
        conn.commit()
    finally:
        conn.close()
    return moved.replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def failed(site: PeopleSite) -> dict[str, case_pb2.Case]:
    """Two cases with tax FAILED (the agent stopped): "late" opened a month ago, verified
    by op-1001; "fresh" opened today, verified by rv-4002 (a reviewer and verifier)."""
    sandbox.stop_process(site.processes.pop(DOWN))
    out = {}
    for name, verifier in (("late", sandbox.VERIFIER), ("fresh", "rv-4002")):
        case = site.open_as(sandbox.VERIFIER, site.household(label="eligible"))
        case = verify(site, verifier, case.case_id)
        assert case.state == S.CASE_STATE_INCOMPLETE
        states = {d.department: d.state for d in case.departments}
        assert states[DOWN] == P.STATE_FAILED
        assert all(s == P.STATE_ANSWERED for d, s in states.items() if d != DOWN)
        out[name] = case
    move_back(site, out["late"].case_id, BACK)
    return out


def test_a_late_department_is_overdue_with_its_deadline(site: PeopleSite, failed) -> None:
    late, fresh = failed["late"].case_id, failed["fresh"].case_id
    listed = overdue_listed(site)
    assert late in listed and fresh not in listed
    assert late in overdue_listed(site, state=S.CASE_STATE_INCOMPLETE)
    assert late not in overdue_listed(site, state=S.CASE_STATE_DECIDED)
    assert fresh in [x.case_id for x in _all_listed(site)]  # listed without the filter

    case = get(site, late)
    opened = case.created_at.ToDatetime(tzinfo=dt.UTC)
    today = deadlines.today_in_china(dt.datetime.now(dt.UTC))
    for d in case.departments:
        if d.department == DOWN:
            due = deadlines.FeedbackDeadlines.default().due(opened, DOWN)
            assert d.HasField("deadline")
            assert (d.deadline.year, d.deadline.month, d.deadline.day) == (
                due.year, due.month, due.day)
            assert due < today and d.overdue and not d.offline
            assert d.liaison.name  # whom to call
        else:  # answered: no deadline, never overdue
            assert d.state == P.STATE_ANSWERED
            assert not d.HasField("deadline") and not d.overdue

    tax = {d.department: d for d in get(site, fresh).departments}[DOWN]
    assert tax.HasField("deadline") and not tax.overdue
    assert dt.date(tax.deadline.year, tax.deadline.month, tax.deadline.day) > \
        deadlines.china_date(dt.datetime.now(dt.UTC))


def test_overdue_only_keeps_the_reader_s_scope(site: PeopleSite, failed) -> None:
    """A township clerk sees no county case, overdue or not."""
    with site.person(sandbox.CLERK) as c:
        page = c.call(c.cases.ListCases, case_pb2.ListCasesRequest(overdue_only=True))
    assert failed["late"].case_id not in [x.case_id for x in page.cases]


def test_queried_at_is_set_when_a_department_is_asked(site: PeopleSite, failed) -> None:
    db = site.sb.gateway_config.parent / "state" / "cases.sqlite"
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT department, queried_at FROM case_departments WHERE "
                            "case_id = ?", (failed["fresh"].case_id,)).fetchall()
    finally:
        conn.close()
    assert rows and all(q is not None for _, q in rows), rows


def _all_listed(site: PeopleSite) -> list[case_pb2.Case]:
    with site.person(sandbox.VERIFIER) as c:
        return list(c.call(c.cases.ListCases, case_pb2.ListCasesRequest(page_size=500)).cases)


def _restart_down(site: PeopleSite) -> None:
    if DOWN not in site.processes:
        p = site.processes[DOWN] = sandbox.start_agent(site.sb, DOWN)
        sandbox.wait_healthy(site.sb.endpoints[DOWN], site.sb.agents[DOWN].id, site.material,
                             process=p, log_file=site.sb.logs / f"agent-{DOWN}.log")


def _check_retried(site: PeopleSite, failed) -> None:
    """Both cases assessed after the automatic retry, by their own verifiers; the
    reviewer who verified one is refused it; another reviewer decides both."""
    late, fresh = failed["late"].case_id, failed["fresh"].case_id
    for case_id, verifier in ((late, sandbox.VERIFIER), (fresh, "rv-4002")):
        case = get(site, case_id)
        assert case.state == S.CASE_STATE_AWAITING_REVIEW, case.state_reason
        assert case.verifier == verifier
    trail = kinds(site.entries(), late)
    assert ("QUERY_SENT", retry_schedule.SCHEDULER, retry_schedule.ROLE) in trail
    assert ("CASE_ASSESSED", sandbox.VERIFIER, "verifier") in trail
    entries = [e for e in site.entries() if e.case_id == late]
    assessed = [e for e in entries if e.kind == audit_pb2.AUDIT_KIND_CASE_ASSESSED]
    assert "automatic retry by gateway-scheduler" in assessed[-1].reason
    # only tax was asked again: one more query, to tax
    again = [e for e in entries if e.kind == audit_pb2.AUDIT_KIND_QUERY_SENT
             and e.operator == retry_schedule.SCHEDULER]
    assert {e.department for e in again} == {DOWN}
    with site.person("rv-4002") as c, pytest.raises(grpc.RpcError) as info:
        c.cases.ReviewCase(case_pb2.ReviewCaseRequest(
            case_id=fresh, verdict=case_pb2.ReviewCaseRequest.VERDICT_APPROVE), timeout=60)
    assert refusal(info.value).reason == "SAME_PERSON"
    assert "verified" in (info.value.details() or "")
    with site.person(sandbox.REVIEWER) as c:
        for case_id in (late, fresh):
            decided = c.call(c.cases.ReviewCase, case_pb2.ReviewCaseRequest(
                case_id=case_id, verdict=case_pb2.ReviewCaseRequest.VERDICT_APPROVE),
                timeout=90)
            assert decided.state == S.CASE_STATE_DECIDED
    assert late not in overdue_listed(site)  # answered: owed nothing any more


def test_the_schedule_chooses_the_failed_departments_not_a_known_down_one(
        site: PeopleSite, failed) -> None:
    """Which cases a sweep would retry, read on a CaseManager in this process (tax still
    down; the gateway process's own sweeps fail again meanwhile and leave them so)."""
    config = gateway_config.load(site.sb.gateway_config)
    ids = {failed["late"].case_id, failed["fresh"].case_id}

    async def run() -> tuple[list, list]:
        gw = server.build(config)
        try:
            m = gw.cases
            breaker = m.fanout.breaker(DOWN)
            for _ in range(breaker.threshold):
                breaker.failure()
            while_open = retry_schedule.due(m, 20)  # known down: not asked
            breaker.success()
            end = time.monotonic() + 20
            while True:  # a sweep of the gateway may hold a case in QUERYING a moment
                chosen = retry_schedule.due(m, 20)
                if ids <= {c.case_id for c in chosen} or time.monotonic() > end:
                    return while_open, chosen
                await asyncio.sleep(0.2)
        finally:
            await gw.close()

    while_open, chosen = asyncio.run(run())
    assert while_open == []
    assert {(c.case_id, c.departments, c.verifier) for c in chosen if c.case_id in ids} == {
        (failed["late"].case_id, frozenset({DOWN}), sandbox.VERIFIER),
        (failed["fresh"].case_id, frozenset({DOWN}), "rv-4002")}


def test_the_gateway_retries_by_itself(site: PeopleSite, failed) -> None:
    _restart_down(site)
    end = time.monotonic() + 60  # the schedule every 3 s, the breaker's cooldown 10 s
    ids = (failed["late"].case_id, failed["fresh"].case_id)
    while time.monotonic() < end:
        if all(get(site, c).state == S.CASE_STATE_AWAITING_REVIEW for c in ids):
            break
        time.sleep(1)
    _check_retried(site, failed)

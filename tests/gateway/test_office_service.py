"""The office service against a real gateway over mutual TLS: who is signed in, the
console's sign-in events, the staff registry, the directories, the statistics — and
the attacks on them refused (a desk reporting sign-ins, a clerk adding staff, a
disabled member, a township clerk reading the county's figures)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))

import grpc
import pytest
from people_site import PeopleSite, refusal
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from hedui.gateway import access, sandbox, statistics, working_days
from hedui.gateway import migrations as case_migrations
from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.gateway.config import DeadlineSettings
from hedui.gateway.deadlines import FeedbackDeadlines
from hedui.gateway.demo import write_client_config
from hedui.gateway.standards import StandardsLibrary
from hedui.gateway.store import CaseStore, case_departments
from hedui.gateway.store import cases as cases_table
from hedui.keys.identity import DEPARTMENTS
from hedui.v1 import audit_pb2, case_pb2, common_pb2, office_pb2

Kind = office_pb2.SignInEvent
DEADLINES = "\n[deadlines]\nworking_days = 5\n\n[deadlines.departments]\ntax = 10\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = PeopleSite(tmp_path_factory.mktemp("office"), seed=37)
    s.console_file = write_client_config(s.sb, s.sb.console, "", "console-grpc.toml")
    config = s.sb.gateway_config
    config.write_text(config.read_text(encoding="utf-8") + DEADLINES, encoding="utf-8")
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def console(site: PeopleSite) -> GatewayClient:
    """The web console's own certificate (on ``[clients] consoles``)."""
    return GatewayClient(ClientConfig.load(site.console_file))


def desk(site: PeopleSite) -> GatewayClient:
    """The verifier desk's certificate (on ``[clients] allowed``, not a console)."""
    return GatewayClient(ClientConfig.load(site.desk_file))


def refused(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, timeout=30, **kwargs)
    return caught.value.code(), refusal(caught.value).reason


def last_entry(site: PeopleSite) -> audit_pb2.AuditEntry:
    return site.entries()[-1]


# ------------------------------------------------------------------ WhoAmI


def test_who_am_i_through_the_console(site: PeopleSite) -> None:
    with console(site) as c:
        me = c.office.WhoAmI(office_pb2.WhoAmIRequest(operator=sandbox.CLERK), timeout=30)
    assert me.staff_id == sandbox.CLERK and me.active
    assert list(me.roles) == ["intake-clerk"] and list(me.townships) == [sandbox.TOWNSHIP]
    assert me.name == "乡镇经办乙" and me.phone == "021-5550101"


def test_who_am_i_with_a_personal_certificate(site: PeopleSite) -> None:
    with site.person(sandbox.REVIEWER) as c:
        me = c.office.WhoAmI(office_pb2.WhoAmIRequest(), timeout=30)
    assert me.staff_id == sandbox.REVIEWER and list(me.roles) == ["reviewer"]


def test_who_am_i_refuses_the_unknown_and_another_person(site: PeopleSite) -> None:
    with console(site) as c:
        assert refused(c.office.WhoAmI, office_pb2.WhoAmIRequest(operator="op-9999"))[1] \
            == "NOT_ON_STAFF_LIST"
        assert refused(c.office.WhoAmI, office_pb2.WhoAmIRequest())[1] == "NO_OPERATOR"
    with site.person(sandbox.REVIEWER) as c:
        assert refused(c.office.WhoAmI, office_pb2.WhoAmIRequest(
            operator=sandbox.ADMIN))[1] == "OPERATOR_MISMATCH"
    with desk(site) as c:  # a desk cannot say who is acting (no declared operators)
        assert refused(c.office.WhoAmI, office_pb2.WhoAmIRequest(
            operator=sandbox.ADMIN))[1] == "OPERATOR_NOT_AUTHENTICATED"


# ------------------------------------------------------------- RecordSignIn


def test_sign_in_events_are_logged_naming_console_and_person(site: PeopleSite) -> None:
    with console(site) as c:
        ack = c.office.RecordSignIn(Kind(kind=Kind.KIND_SIGNED_IN, staff_id=sandbox.VERIFIER,
                                         reason_code="OK"), timeout=30)
        entry = last_entry(site)
        assert ack.leaf_index == len(site.entries()) - 1  # durable before the answer
        assert entry.kind == audit_pb2.AUDIT_KIND_STAFF_SIGNED_IN
        assert entry.operator == sandbox.VERIFIER and entry.client == site.sb.console.id
        assert entry.outcome == audit_pb2.AUDIT_OUTCOME_OK

        c.office.RecordSignIn(Kind(kind=Kind.KIND_SIGNED_OUT, staff_id=sandbox.VERIFIER,
                                   reason_code="IDLE", reason="idle for 15 minutes"),
                              timeout=30)
        entry = last_entry(site)
        assert entry.kind == audit_pb2.AUDIT_KIND_STAFF_SIGNED_OUT
        assert entry.reason_code == "IDLE" and "idle for 15 minutes" in entry.reason

        c.office.RecordSignIn(Kind(kind=Kind.KIND_SESSIONS_ENDED, staff_id=sandbox.VERIFIER,
                                   operator=sandbox.ADMIN,
                                   reason_code="ENDED_BY_ADMINISTRATOR"), timeout=30)
        entry = last_entry(site)
        assert entry.kind == audit_pb2.AUDIT_KIND_STAFF_SIGNED_OUT
        assert entry.operator == sandbox.ADMIN and entry.role == "administrator"
        assert f"staff {sandbox.VERIFIER}" in entry.reason

        c.office.RecordSignIn(Kind(kind=Kind.KIND_TOTP_RESET, staff_id=sandbox.VERIFIER,
                                   operator=sandbox.ADMIN, reason_code="OK"), timeout=30)
        assert last_entry(site).kind == audit_pb2.AUDIT_KIND_STAFF_CHANGED


def test_a_failed_sign_in_keeps_only_a_known_staff_id(site: PeopleSite) -> None:
    with console(site) as c:
        c.office.RecordSignIn(Kind(kind=Kind.KIND_SIGN_IN_FAILED, staff_id=sandbox.CLERK,
                                   reason_code="BAD_PASSWORD"), timeout=30)
        entry = last_entry(site)
        assert entry.kind == audit_pb2.AUDIT_KIND_STAFF_SIGN_IN_FAILED
        assert entry.operator == sandbox.CLERK and entry.reason_code == "BAD_PASSWORD"
        assert entry.outcome == audit_pb2.AUDIT_OUTCOME_REFUSED
        # a password typed into the staff-id field is never written down
        c.office.RecordSignIn(Kind(kind=Kind.KIND_SIGN_IN_FAILED, staff_id="hunter-secret2",
                                   reason_code="UNKNOWN_STAFF"), timeout=30)
        entry = last_entry(site)
        assert entry.kind == audit_pb2.AUDIT_KIND_STAFF_SIGN_IN_FAILED and not entry.operator
        assert b"hunter-secret2" not in site.raw_log()
        _code, reason = refused(c.office.RecordSignIn, Kind(
            kind=Kind.KIND_SIGN_IN_FAILED, staff_id="x", reason_code="bad password 123456"))
        assert reason == "MALFORMED_REQUEST"


def test_only_a_console_reports_sign_ins(site: PeopleSite) -> None:
    event = Kind(kind=Kind.KIND_SIGNED_IN, staff_id=sandbox.VERIFIER, reason_code="OK")
    with desk(site) as c:
        assert refused(c.office.RecordSignIn, event) == (
            grpc.StatusCode.PERMISSION_DENIED, "NOT_A_CONSOLE")
    entry = last_entry(site)
    assert entry.kind == audit_pb2.AUDIT_KIND_REQUEST_REFUSED
    assert entry.reason_code == "NOT_A_CONSOLE"
    with site.person(sandbox.VERIFIER) as c:  # not even the person themselves
        assert refused(c.office.RecordSignIn, event)[1] == "NOT_A_CONSOLE"


def test_a_console_cannot_claim_an_administrator_ended_sessions(site: PeopleSite) -> None:
    with console(site) as c:
        assert refused(c.office.RecordSignIn, Kind(
            kind=Kind.KIND_SESSIONS_ENDED, staff_id=sandbox.VERIFIER,
            operator=sandbox.CLERK))[1] == "ROLE_NOT_ALLOWED"
        assert refused(c.office.RecordSignIn, Kind(
            kind=Kind.KIND_SIGNED_IN, staff_id="op-9999"))[1] == "NOT_ON_STAFF_LIST"
        assert refused(c.office.RecordSignIn, Kind(staff_id=sandbox.VERIFIER))[1] \
            == "MALFORMED_REQUEST"


# ------------------------------------------------------------- the registry


def test_an_administrator_lists_adds_changes_and_disables(site: PeopleSite) -> None:
    with console(site) as c:
        listed = c.office.ListStaff(office_pb2.ListStaffRequest(operator=sandbox.ADMIN),
                                    timeout=30)
        ids = [m.staff_id for m in listed.staff]
        assert ids == sorted(ids) and {p.staff_id for p in sandbox.STAFF} <= set(ids)
        added = c.office.AddStaff(office_pb2.AddStaffRequest(
            operator=sandbox.ADMIN, member=office_pb2.StaffMember(
                staff_id="clerk-3199", name="乡镇经办辛", roles=["intake-clerk"],
                townships=[sandbox.TOWNSHIP], phone="021-5550199")), timeout=30)
        assert added.active and list(added.townships) == [sandbox.TOWNSHIP]
        entry = last_entry(site)
        assert entry.kind == audit_pb2.AUDIT_KIND_STAFF_CHANGED
        assert entry.operator == sandbox.ADMIN and "clerk-3199" in entry.reason
        assert entry.client == site.sb.console.id  # the console it came by
        assert "乡镇经办辛" not in entry.reason and "5550199" not in entry.reason

        changed = c.office.ChangeStaff(office_pb2.ChangeStaffRequest(
            operator=sandbox.ADMIN, staff_id="clerk-3199", set_roles=True,
            roles=["intake-clerk", "verifier"], townships=[sandbox.TOWNSHIP]), timeout=30)
        assert list(changed.roles) == ["intake-clerk", "verifier"]

        Activity = office_pb2.ChangeStaffRequest
        off = c.office.ChangeStaff(Activity(operator=sandbox.ADMIN, staff_id="clerk-3199",
                                            activity=Activity.ACTIVITY_DISABLE,
                                            reason="left the township office"), timeout=30)
        assert not off.active
        # disabled: refused from the next request on, through the console or not
        assert refused(c.office.WhoAmI, office_pb2.WhoAmIRequest(
            operator="clerk-3199")) == (grpc.StatusCode.PERMISSION_DENIED, "STAFF_DISABLED")
        assert last_entry(site).reason_code == "STAFF_DISABLED"
        on = c.office.ChangeStaff(Activity(operator=sandbox.ADMIN, staff_id="clerk-3199",
                                           activity=Activity.ACTIVITY_ENABLE), timeout=30)
        assert on.active
        assert c.office.WhoAmI(office_pb2.WhoAmIRequest(operator="clerk-3199"),
                               timeout=30).active


def test_registry_rules_come_back_as_reasons(site: PeopleSite) -> None:
    with console(site) as c:
        assert refused(c.office.AddStaff, office_pb2.AddStaffRequest(
            operator=sandbox.ADMIN, member=office_pb2.StaffMember(
                staff_id="110101198001010053", name="某人", roles=["verifier"])))[1] \
            == "MALFORMED_REQUEST"
        assert b"110101198001010053" not in site.raw_log()
        assert refused(c.office.AddStaff, office_pb2.AddStaffRequest(
            operator=sandbox.ADMIN, member=office_pb2.StaffMember(
                staff_id="op-1003", name="某人", roles=["verifier"],
                townships=["31011"])))[1] == "BAD_TOWNSHIP"
        assert refused(c.office.ChangeStaff, office_pb2.ChangeStaffRequest(
            operator=sandbox.ADMIN, staff_id="op-9999", set_roles=True,
            roles=["verifier"]))[1] == "NOT_ON_STAFF_LIST"
        assert refused(c.office.ChangeStaff, office_pb2.ChangeStaffRequest(
            operator=sandbox.ADMIN, staff_id=sandbox.VERIFIER))[1] == "MALFORMED_REQUEST"


@pytest.mark.parametrize("who", [sandbox.CLERK, sandbox.VERIFIER, sandbox.REVIEWER,
                                 sandbox.OFFICER])
def test_only_an_administrator_manages_staff(site: PeopleSite, who: str) -> None:
    with site.person(who) as c:
        assert refused(c.office.AddStaff, office_pb2.AddStaffRequest(
            member=office_pb2.StaffMember(staff_id=f"new-{who}", name="新同事",
                                          roles=["administrator"]))) == (
            grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
        assert refused(c.office.ChangeStaff, office_pb2.ChangeStaffRequest(
            staff_id=who, set_roles=True, roles=["administrator"]))[1] == "ROLE_NOT_ALLOWED"
        assert refused(c.office.ListStaff, office_pb2.ListStaffRequest())[1] \
            == "ROLE_NOT_ALLOWED"
    entry = last_entry(site)
    assert entry.kind == audit_pb2.AUDIT_KIND_REQUEST_REFUSED and entry.operator == who


# -------------------------------------------------------------- directories


def test_departments_with_deadlines_and_calendar(site: PeopleSite) -> None:
    with site.person(sandbox.OFFICER) as c:  # any active member
        listed = c.office.ListDepartments(office_pb2.ListDepartmentsRequest(), timeout=30)
    assert [d.department for d in listed.departments] == list(DEPARTMENTS)
    days = {d.department: d.feedback_working_days for d in listed.departments}
    assert days["tax"] == 10 and days["banks"] == 5  # [deadlines] of the fixture
    assert all(d.online and d.display_name for d in listed.departments)
    tax = next(d for d in listed.departments if d.department == "tax")
    assert tax.liaison.name == "tax联络员" and tax.leader.phone.startswith("021-5552")
    assert listed.calendar_source and 2026 in listed.calendar_years


def test_standards_in_force_as_of_a_date(site: PeopleSite) -> None:
    expected = {s.standard_id for s in StandardsLibrary(sandbox.STANDARDS_DIR)}
    with site.person(sandbox.CLERK) as c:
        now = c.office.ListStandards(office_pb2.ListStandardsRequest(), timeout=30)
        before = c.office.ListStandards(office_pb2.ListStandardsRequest(
            as_of=common_pb2.Date(year=2000, month=1, day=1)), timeout=30)
        assert refused(c.office.ListStandards, office_pb2.ListStandardsRequest(
            as_of=common_pb2.Date(year=2026, month=2, day=30)))[1] == "MALFORMED_REQUEST"
    assert {s.standard_id for s in now.standards} == expected
    assert any(s.in_force for s in now.standards)
    assert not any(s.in_force for s in before.standards)
    dibao = [s for s in now.standards if s.programme == "dibao" and s.in_force]
    assert all(s.monthly_income_limit_fen > 0 and s.effective_from.year for s in dibao)
    # one standard in force per programme and region
    assert len({(s.programme, s.region) for s in now.standards if s.in_force}) == len(
        [s for s in now.standards if s.in_force])


# --------------------------------------------------------------- statistics


def _figures(site: PeopleSite, who: str, **request) -> office_pb2.Statistics:
    with site.person(who) as c:
        return c.office.GetStatistics(office_pb2.GetStatisticsRequest(**request), timeout=30)


def test_statistics_count_within_the_scope(site: PeopleSite) -> None:
    own = site.open_as("op-1002", site.household(), township=sandbox.TOWNSHIP)
    site.open_as("op-1002", site.household(), township="310112002")
    with site.person("op-1002") as c:
        c.call(c.cases.VerifyCase, case_pb2.VerifyCaseRequest(case_id=own.case_id),
               timeout=90)
    county = _figures(site, sandbox.ADMIN)
    towns = {x.township for x in county.counts}
    assert {sandbox.TOWNSHIP, "310112002"} <= towns
    assert all(x.month and x.programme == "dibao" for x in county.counts)
    assert "awaiting_review" in {x.outcome for x in county.counts}
    answered = {d.department: d for d in county.departments if d.answers}
    assert answered and all(0 <= d.median_seconds <= d.p95_seconds < 600
                            for d in answered.values())
    assert county.computed_at.seconds > 0

    clerk = _figures(site, sandbox.CLERK)
    assert {x.township for x in clerk.counts} == {sandbox.TOWNSHIP}
    assert sum(x.cases for x in clerk.counts) < sum(x.cases for x in county.counts)
    assert all(d.answers <= answered.get(d.department, d).answers
               for d in clerk.departments)

    later = _figures(site, sandbox.ADMIN, opened_from=common_pb2.Date(
        year=2099, month=1, day=1))
    assert not later.counts and not any(d.answers for d in later.departments)
    with site.person(sandbox.OFFICER) as c:  # the privacy officer reads no case figure
        assert refused(c.office.GetStatistics, office_pb2.GetStatisticsRequest())[1] \
            == "ROLE_NOT_ALLOWED"
    with site.person(sandbox.ADMIN) as c:
        assert refused(c.office.GetStatistics, office_pb2.GetStatisticsRequest(
            opened_from=common_pb2.Date(year=2026, month=5, day=1),
            opened_until=common_pb2.Date(year=2026, month=4, day=1)))[1] \
            == "MALFORMED_REQUEST"


def test_a_department_marked_offline_is_listed_offline(site: PeopleSite) -> None:
    """Last of the site's tests: the re-signed bundle takes housing offline."""
    sandbox.mark_offline(site.sb, ["housing"])
    deadline = time.monotonic() + 20
    while True:
        with site.person(sandbox.VERIFIER) as c:
            listed = c.office.ListDepartments(office_pb2.ListDepartmentsRequest(), timeout=30)
        online = {d.department: d.online for d in listed.departments}
        if not online["housing"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not online["housing"] and online["tax"]


# ------------------------------------------------- the figures' SQL, both databases

PG = os.environ.get("HEDUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
UTC = dt.UTC


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    else:
        schema = f"t_statistics_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG)
        try:
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        except OperationalError as exc:
            admin.dispose()
            pytest.skip(f"PostgreSQL not reachable at {PG}: {exc}")
        url = f"{PG}{'&' if '?' in PG else '?'}options=-csearch_path%3D{schema}"
    case_migrations.upgrade(url)
    s = CaseStore(url)
    try:
        yield s
    finally:
        s.close()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def _fill(store: CaseStore, cases: list[dict], parts: list[dict]) -> None:
    base = {"region": "310000", "authorization_number": "SQ-1", "operator": "op-1",
            "members_sealed": b"\x01", "outcome": "", "report_digest": b"", "version": 1,
            "claimed_by": "", "programme": "dibao"}
    with store.tx() as conn:
        conn.execute(cases_table.insert(), [
            {**base, "updated_at": c["created_at"], **c} for c in cases])
        if parts:
            conn.execute(case_departments.insert(), [
                {"reason": "", "answer_digest": b"", "attempts": 1, "queried_at": None, **p}
                for p in parts])


def _manager(store: CaseStore, now: dt.datetime) -> SimpleNamespace:
    return SimpleNamespace(store=store, clock=lambda: now, deadlines=FeedbackDeadlines(
        DeadlineSettings(5, {}), working_days.packaged()))


def _person(townships: tuple[str, ...] = (), programmes: tuple[str, ...] = ()
            ) -> access.Person:
    return access.Person("st-1", "统计", ("reviewer",), townships, programmes)


def test_figures_by_month_township_outcome_and_answer_times(store: CaseStore) -> None:
    nov = dt.datetime(2026, 11, 10, 2, tzinfo=UTC)
    # 20:00 UTC on 30 November is 04:00 on 1 December in China: a December case
    dec = dt.datetime(2026, 11, 30, 20, tzinfo=UTC)
    a, b = "310112001", "310112002"
    _fill(store, [
        {"case_id": "c1", "state": "CASE_STATE_DECIDED", "outcome": "OUTCOME_ELIGIBLE",
         "township": a, "created_at": nov},
        {"case_id": "c2", "state": "CASE_STATE_DECIDED", "outcome": "OUTCOME_ELIGIBLE",
         "township": a, "created_at": nov},
        {"case_id": "c3", "state": "CASE_STATE_AWAITING_REVIEW",
         "outcome": "OUTCOME_INELIGIBLE", "township": a, "created_at": nov},
        {"case_id": "c4", "state": "CASE_STATE_OPEN", "township": b, "created_at": dec,
         "programme": "tekun"},
        {"case_id": "c5", "state": "CASE_STATE_INCOMPLETE", "township": None,
         "created_at": nov},
    ], [
        *({"case_id": f"c{i}", "department": "tax", "state": "ANSWERED",
           "queried_at": nov + dt.timedelta(minutes=1),
           "updated_at": nov + dt.timedelta(minutes=1, seconds=10 * i)} for i in (1, 2, 3)),
        {"case_id": "c5", "department": "tax", "state": "ANSWERED",
         "queried_at": nov, "updated_at": nov + dt.timedelta(seconds=40)},
        # never marked queried (an older row): timed from the opening
        {"case_id": "c1", "department": "banks", "state": "ANSWERED",
         "updated_at": nov + dt.timedelta(seconds=100)},
        {"case_id": "c5", "department": "banks", "state": "FAILED", "updated_at": nov},
    ])
    now = dt.datetime(2026, 12, 3, 4, tzinfo=UTC)
    figures = statistics.compute(_manager(store, now), office_pb2.GetStatisticsRequest(),
                                 _person())
    counts = {(x.programme, x.month, x.township, x.outcome): x.cases for x in figures.counts}
    assert counts == {("dibao", "2026-11", a, "eligible"): 2,
                      ("dibao", "2026-11", a, "awaiting_review"): 1,
                      ("dibao", "2026-11", "", "incomplete"): 1,
                      ("tekun", "2026-12", b, "open"): 1}
    times = {d.department: d for d in figures.departments}
    assert list(times) == list(DEPARTMENTS)
    # nearest rank: the 2nd of 10, 20, 30, 40 s, and the 4th
    assert times["tax"].answers == 4 and times["tax"].median_seconds == 20.0
    assert times["tax"].p95_seconds == 40.0
    assert times["banks"].answers == 1 and times["banks"].median_seconds == 100.0
    assert times["banks"].overdue == 1  # c5's failed part, opened 17 working days ago
    assert times["housing"].answers == 0 and times["housing"].overdue == 0

    # a township clerk: their township's cases only, never a county case
    clerk = statistics.compute(_manager(store, now), office_pb2.GetStatisticsRequest(),
                               _person((a,)))
    assert {x.township for x in clerk.counts} == {a}
    assert sum(x.cases for x in clerk.counts) == 3
    by = {d.department: d for d in clerk.departments}
    assert by["tax"].answers == 3 and by["banks"].overdue == 0
    # a programme's staff
    tekun = statistics.compute(_manager(store, now), office_pb2.GetStatisticsRequest(),
                               _person(programmes=("tekun",)))
    assert [(x.programme, x.cases) for x in tekun.counts] == [("tekun", 1)]
    # opened in December (China's days)
    december = statistics.compute(_manager(store, now), office_pb2.GetStatisticsRequest(
        opened_from=common_pb2.Date(year=2026, month=12, day=1),
        opened_until=common_pb2.Date(year=2026, month=12, day=31)), _person())
    assert [x.month for x in december.counts] == ["2026-12"]
    november = statistics.compute(_manager(store, now), office_pb2.GetStatisticsRequest(
        opened_until=common_pb2.Date(year=2026, month=11, day=30)), _person())
    assert {x.month for x in november.counts} == {"2026-11"}
    # My work's counts: per outcome word only, no department times
    quick = statistics.compute(_manager(store, now), office_pb2.GetStatisticsRequest(
        counts_only=True), _person())
    assert {(x.programme, x.month, x.township, x.outcome): x.cases for x in quick.counts} \
        == {("", "", "", "eligible"): 2, ("", "", "", "awaiting_review"): 1,
            ("", "", "", "incomplete"): 1, ("", "", "", "open"): 1}
    assert not quick.departments
    # served again for a minute, per request and scope; then computed afresh
    recent = statistics.Recent(fresh_seconds=0.2)
    manager = _manager(store, now)
    first = recent.figures(manager, office_pb2.GetStatisticsRequest(), _person())
    assert recent.figures(manager, office_pb2.GetStatisticsRequest(), _person()) is first
    other = recent.figures(manager, office_pb2.GetStatisticsRequest(), _person((a,)))
    assert other is not first
    time.sleep(0.25)
    assert recent.figures(manager, office_pb2.GetStatisticsRequest(), _person()) is not first


#: 100k cases, two answered departments each, made by the database itself (inserting
#: them from Python took longer than the test should)
FILL_SQLITE = """
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < 99999)
INSERT INTO cases (case_id, state, programme, region, authorization_number, operator,
                   members_sealed, outcome, report_digest, created_at, updated_at, version,
                   claimed_by, township)
SELECT printf('c%06d', i), CASE i % 3 WHEN 0 THEN 'CASE_STATE_DECIDED'
       WHEN 1 THEN 'CASE_STATE_AWAITING_REVIEW' ELSE 'CASE_STATE_INCOMPLETE' END,
       CASE i % 2 WHEN 0 THEN 'dibao' ELSE 'tekun' END, '310000', 'SQ-1', 'op-1', x'01',
       CASE i % 3 WHEN 0 THEN 'OUTCOME_ELIGIBLE' ELSE '' END, x'',
       datetime(julianday('2025-01-01') + i * 7 / 1440.0),
       datetime(julianday('2025-01-01') + i * 7 / 1440.0), 1, '',
       printf('3101120%02d', i % 20) FROM seq;
INSERT INTO case_departments (case_id, department, state, reason, answer_digest, attempts,
                              updated_at, queried_at)
SELECT case_id, d.department, 'ANSWERED', '', x'', 1,
       datetime(julianday(created_at) + (CAST(substr(case_id, 2) AS INTEGER) * 37 % 3600)
                / 86400.0), created_at
FROM cases, (SELECT 'tax' AS department UNION ALL SELECT 'banks') AS d;
"""
FILL_POSTGRES = """
INSERT INTO cases (case_id, state, programme, region, authorization_number, operator,
                   members_sealed, outcome, report_digest, created_at, updated_at, version,
                   claimed_by, township)
SELECT 'c' || lpad(i::text, 6, '0'), CASE mod(i, 3) WHEN 0 THEN 'CASE_STATE_DECIDED'
       WHEN 1 THEN 'CASE_STATE_AWAITING_REVIEW' ELSE 'CASE_STATE_INCOMPLETE' END,
       CASE mod(i, 2) WHEN 0 THEN 'dibao' ELSE 'tekun' END, '310000', 'SQ-1', 'op-1', '\\x01',
       CASE mod(i, 3) WHEN 0 THEN 'OUTCOME_ELIGIBLE' ELSE '' END, '',
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + i * INTERVAL '7 minutes',
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + i * INTERVAL '7 minutes', 1, '',
       '3101120' || lpad(mod(i, 20)::text, 2, '0') FROM generate_series(0, 99999) AS i;
INSERT INTO case_departments (case_id, department, state, reason, answer_digest, attempts,
                              updated_at, queried_at)
SELECT case_id, d, 'ANSWERED', '', '', 1,
       created_at + mod(substr(case_id, 2)::int * 37, 3600) * INTERVAL '1 second', created_at
FROM cases, unnest(ARRAY['tax', 'banks']) AS d;
"""


@pytest.mark.slow
def test_figures_of_100k_cases_are_aggregated_by_the_database(store: CaseStore) -> None:
    with store.tx() as conn:
        for statement in (FILL_SQLITE if store.local else FILL_POSTGRES).split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    figures = statistics.compute(_manager(store, start + dt.timedelta(days=500)),
                                 office_pb2.GetStatisticsRequest(), _person())
    took = time.perf_counter() - began
    assert sum(x.cases for x in figures.counts) == 100_000
    tax = next(d for d in figures.departments if d.department == "tax")
    assert tax.answers == 100_000 and 1750 < tax.median_seconds < 1850
    assert 3350 < tax.p95_seconds < 3450
    assert took < 5.0, f"the figures of 100k cases took {took:.1f} s"

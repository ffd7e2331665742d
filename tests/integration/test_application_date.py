"""The application date (申请日期), for real: a gateway process and eight agent processes
on loopback over mutual TLS. A case is assessed over the whole months before the month
its household applied in — however late it is verified, retried or decided — and the
report states the date and the window. Also: a programme with no standard in force is
refused before anything about the case exists."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from hedui import china_time
from hedui.audit.loop_commit import LoopCommitter
from hedui.gateway import config as gateway_config
from hedui.gateway import household as household_mod
from hedui.gateway import sandbox, server, verifying
from hedui.gateway.client import ClientConfig, GatewayClient, GatewayError
from hedui.gateway.demo import write_client_config
from hedui.gateway.profile import income_window
from hedui.gateway.report import window_period
from hedui.gateway.standards import StandardsLibrary
from hedui.v1 import audit_pb2, case_pb2, common_pb2, envelope_pb2

TODAY = china_time.today()  # the gateway's today (China's)
#: a day at least two months back: its income window is not today's
EARLIER = TODAY - dt.timedelta(days=70)


def since_start() -> set[dt.date]:
    """The days from the module's TODAY to now: "today" in a run that crossed midnight."""
    return {TODAY + dt.timedelta(days=n) for n in range((china_time.today() - TODAY).days + 1)}


class System:
    """The sandbox's gateway and agents, and fresh synthetic households."""

    def __init__(self, root: Path) -> None:
        self.sb = sandbox.provision(root, persons=300, seed=12)
        self.material = sandbox.gateway_material(self.sb)
        self.processes: dict[str, subprocess.Popen] = {}
        self.client_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                               "hedui-client.toml")
        data = json.loads((self.sb.data_dir / "households.json").read_text())["samples"]
        self.samples = [h for g in data.values() for h in g] if isinstance(data, dict) else data
        self._n = 0

    def start(self, name: str) -> None:
        sb = self.sb
        if name == "gateway":
            p = self.processes[name] = sandbox.start_gateway(sb)
            sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material, process=p,
                                 log_file=sb.logs / "gateway.log")
        else:
            p = self.processes[name] = sandbox.start_agent(sb, name)
            sandbox.wait_healthy(sb.endpoints[name], sb.agents[name].id, self.material,
                                 process=p, log_file=sb.logs / f"agent-{name}.log")

    def client(self) -> GatewayClient:
        return GatewayClient(ClientConfig.load(self.client_file))

    def household_file(self, *, programme: str = "dibao",
                       application_date: dt.date | None = None) -> Path:
        self._n += 1
        h = self.samples[self._n]
        return household_mod.write(
            self.sb.root / f"hh-{self._n}.toml", programme=programme, region="310000",
            members=h["members"], authorization_number=f"SQ-AD-{self._n:05d}", today=TODAY,
            application_date=application_date)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True,
                              text=True, timeout=180)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory):
    s = System(tmp_path_factory.mktemp("appdate"))
    try:
        s.start("gateway")
        for d in s.sb.agents:
            s.start(d)
        yield s
    finally:
        for p in s.processes.values():
            sandbox.stop_process(p)


def expected_window(on: dt.date) -> common_pb2.Period:
    months = StandardsLibrary(sandbox.STANDARDS_DIR).select("310000", "dibao", on)
    return window_period(income_window(on, months.income_window_months))


def pb_date(d: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def report_of(system: System, case_id: str) -> tuple[Path, case_pb2.DeterminationReport]:
    with system.client() as client:
        path = verifying.write_report(client, case_id, system.sb.root / "reports")
    report = case_pb2.DeterminationReport()
    report.ParseFromString(envelope_pb2.Envelope.FromString(path.read_bytes()).payload)
    return path, report


def case_id_of(stdout: str) -> str:
    return stdout.split()[1].rstrip(":")


# ------------------------------------------------------------------ the window


def test_an_earlier_application_date_sets_the_window_and_the_report_states_it(
        system: System) -> None:
    assert expected_window(EARLIER) != expected_window(TODAY)  # the test means something
    path = system.household_file(application_date=EARLIER)
    out = system.sb.root / "reports"
    result = system.cli("verify", "--client", str(system.client_file), "--household",
                        str(path), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    case_id = case_id_of(result.stdout)
    report_path, report = report_of(system, case_id)
    assert report.application_date == pb_date(EARLIER)
    assert report.income_window == expected_window(EARLIER)
    html = (out / f"{case_id}.report.html").read_text(encoding="utf-8")
    w = expected_window(EARLIER)
    assert "申请日期" in html and "Application date" in html and "收入计算期间" in html
    assert f"{w.start.year:04d}-{w.start.month:02d}..{w.end.year:04d}-{w.end.month:02d}" in html
    # a reviewer recomputes every figure over the same window
    check = system.cli("report", "verify", str(report_path), "--bundle", str(system.sb.bundle),
                       "--root-pub", str(system.sb.root_public_key),
                       "--standards", str(sandbox.STANDARDS_DIR))
    assert check.returncode == 0, check.stderr
    shown = system.cli("case", "--client", str(system.client_file), "get", case_id)
    assert shown.returncode == 0, shown.stderr
    assert f"application date: {EARLIER.isoformat()}" in shown.stdout
    assert "下一步 / Next:" in shown.stdout and f"hedui case report {case_id}" in shown.stdout


def test_the_command_line_date_overrides_the_file_and_no_date_means_today(
        system: System) -> None:
    path = system.household_file(application_date=TODAY)
    result = system.cli("verify", "--client", str(system.client_file), "--household",
                        str(path), "--application-date", EARLIER.isoformat(),
                        "--out", str(system.sb.root / "reports"))
    assert result.returncode == 0, result.stdout + result.stderr
    _, report = report_of(system, case_id_of(result.stdout))
    assert report.application_date == pb_date(EARLIER)
    with system.client() as client:
        case = verifying.decide(client, household_mod.load(system.household_file()))
    assert case.application_date in [pb_date(d) for d in since_start()]
    _, report = report_of(system, case.case_id)
    assert report.income_window in [expected_window(d) for d in since_start()]


def test_a_retried_case_keeps_its_application_date(system: System) -> None:
    sandbox.stop_process(system.processes.pop("tax"))
    try:
        hh = household_mod.load(system.household_file(application_date=EARLIER))
        with system.client() as client:
            case = verifying.decide(client, hh)
        assert case.state == case_pb2.CASE_STATE_INCOMPLETE
    finally:
        system.start("tax")
    deadline = time.monotonic() + 30  # the tax breaker stays open ~10 s after failures
    with system.client() as client:
        while True:
            case = client.call(client.cases.RetryCase, case_pb2.RetryCaseRequest(
                case_id=case.case_id, operator=client.config.operator), timeout=60)
            if case.state == case_pb2.CASE_STATE_DECIDED or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert case.state == case_pb2.CASE_STATE_DECIDED
    assert case.application_date == pb_date(EARLIER)
    _, report = report_of(system, case.case_id)
    assert report.application_date == pb_date(EARLIER)
    assert report.income_window == expected_window(EARLIER)


def test_a_case_verified_months_later_is_assessed_as_of_its_application_date(
        system: System) -> None:
    """The gateway's own clock moves on between opening and deciding (a CaseManager in
    this process, beside the serving gateway, on the same databases). It is opened at
    23:30 UTC, 07:30 the next morning in China: the application is dated China's day."""
    hh = household_mod.load(system.household_file())
    now = dt.datetime.now(dt.UTC)
    opened_at = now.replace(hour=23, minute=30, second=0, microsecond=0)
    if opened_at > now:
        opened_at -= dt.timedelta(days=1)
    china_day = opened_at.date() + dt.timedelta(days=1)
    assert china_time.china_date(opened_at) == china_day
    later = opened_at + dt.timedelta(days=65)  # two months on, inside the authorization

    async def run() -> case_pb2.Case:
        gw = server.build(gateway_config.load(system.sb.gateway_config))
        committer = LoopCommitter(gw.audit_log)
        gw.audit_log.route_appends(committer)
        try:
            m = gw.cases
            m.authorizations.register(hh.authorization, operator=sandbox.VERIFIER,
                                      now=opened_at)
            m.clock = lambda: opened_at
            case = m.open(case_pb2.OpenCaseRequest(
                programme=hh.programme, region=hh.region, members=hh.members,
                authorization_number=hh.authorization.number, operator=sandbox.VERIFIER))
            m.clock = lambda: later
            return await m.verify(case.case_id, sandbox.VERIFIER)
        finally:
            gw.audit_log.route_appends(None)
            committer.close()
            await gw.close()

    case = asyncio.run(run())
    assert case.state == case_pb2.CASE_STATE_DECIDED, verifying.summary(case)
    assert case.application_date == pb_date(china_day)
    _, report = report_of(system, case.case_id)
    assert report.application_date == pb_date(china_day)
    assert report.income_window == expected_window(china_day)
    assert report.income_window != expected_window(later.date())


# ------------------------------------------------------------------ the batch


@pytest.mark.parametrize("header", ["application_date", "申请日期"])
def test_the_batch_file_gives_each_row_its_application_date(system: System,
                                                            header: str) -> None:
    files = [system.household_file(), system.household_file()]
    csv_path = system.sb.root / f"batch-{len(header)}.csv"
    csv_path.write_text(f"household,{header}\n{files[0].name},{EARLIER.isoformat()}\n"
                        f"{files[1].name},\n", encoding="utf-8")
    out = system.sb.root / f"batch-out-{len(header)}"
    result = system.cli("verify", "--client", str(system.client_file), "--batch",
                        str(csv_path), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    progress = {json.loads(x)["row"]: json.loads(x)
                for x in (out / f"{csv_path.stem}.progress.jsonl").read_text().splitlines()}
    _, first = report_of(system, progress["0"]["case_id"])
    _, second = report_of(system, progress["1"]["case_id"])
    assert first.application_date == pb_date(EARLIER)
    # an empty cell: the file's date, else today
    assert second.application_date in [pb_date(d) for d in since_start()]


def test_a_bad_date_in_the_batch_fails_its_row_and_the_batch_goes_on(system: System) -> None:
    good, bad = system.household_file(), system.household_file()
    csv_path = system.sb.root / "bad-batch.csv"
    csv_path.write_text(f"household,申请日期\n{good.name},\n{bad.name},2026-13-40\n",
                        encoding="utf-8")
    out = system.sb.root / "bad-out"
    result = system.cli("verify", "--client", str(system.client_file), "--batch",
                        str(csv_path), "--out", str(out))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "line 3: application_date must be a date" in result.stdout
    assert "Traceback" not in result.stderr
    progress = {json.loads(x)["row"]: json.loads(x)
                for x in (out / f"{csv_path.stem}.progress.jsonl").read_text().splitlines()}
    assert progress["0"]["state"] == "decided" and progress["0"]["case_id"]
    assert progress["1"]["state"] == "failed" and "case_id" not in progress["1"]


# ------------------------------------------------------------------ refusals


def test_a_future_application_date_is_refused(system: System) -> None:
    future = TODAY + dt.timedelta(days=3)
    path = system.household_file(application_date=future)
    result = system.cli("verify", "--client", str(system.client_file), "--household",
                        str(path))
    assert result.returncode != 0
    assert "in the future" in result.stderr and "INVALID_ARGUMENT" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    bad = system.cli("verify", "--client", str(system.client_file), "--household", str(path),
                     "--application-date", "2026-02-30")
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1
    assert "is not a date" in bad.stderr


def test_a_bad_id_number_is_refused_naming_the_member_never_the_number(
        system: System) -> None:
    path = system.household_file()
    text = path.read_text(encoding="utf-8")
    members = household_mod.load(path).members
    wrong = members[0].id_number[:17] + ("0" if members[0].id_number[17] != "0" else "1")
    path.write_text(text.replace(members[0].id_number, wrong), encoding="utf-8")
    result = system.cli("verify", "--client", str(system.client_file), "--household",
                        str(path))
    assert result.returncode != 0
    assert f"member 1 ({members[0].name})" in result.stderr
    assert "check character" in result.stderr
    assert wrong not in result.stderr
    # the gateway says the same when a client sends it anyway
    with system.client() as client, pytest.raises(GatewayError) as info:
        client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
            programme="dibao", region="310000", authorization_number="SQ-AD-any",
            operator=client.config.operator,
            members=[case_pb2.Member(id_number=wrong, name=members[0].name)]))
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert f"member 1 ({members[0].name})" in str(info.value) and wrong not in str(info.value)


def test_full_width_and_lowercase_id_numbers_are_stored_normalised(system: System) -> None:
    path = system.household_file()
    hh = household_mod.load(path)
    typed = [case_pb2.Member(
        id_number=" ".join(m.id_number[:17].translate(
            {ord(c): 0xFF10 + int(c) for c in "0123456789"})) + m.id_number[17].lower(),
        name=m.name, relation=m.relation) for m in hh.members]
    with system.client() as client:
        verifying.register_authorization(client, hh.authorization)
        case = client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
            programme="dibao", region="310000", members=typed,
            authorization_number=hh.authorization.number, operator=client.config.operator))
    assert [m.id_number for m in case.members] == [m.id_number for m in hh.members]


def test_a_programme_without_a_standard_is_refused_before_anything_exists(
        system: System) -> None:
    """dibao has an exchange policy but no standard for Shenzhen (440300) in the shipped
    set: a case there could not be assessed, so it is never opened."""
    hh = household_mod.load(system.household_file())
    audit_before = _audit_size(system)
    with system.client() as client:
        verifying.register_authorization(client, hh.authorization)
        after_register = _audit_size(system)
        with pytest.raises(GatewayError) as info:
            client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
                programme=hh.programme, region="440300", members=hh.members,
                authorization_number=hh.authorization.number,
                operator=client.config.operator))
        after_refusal = _audit_size(system)
        refusal = _last_entry(system)
        listed = client.call(client.cases.ListCases, case_pb2.ListCasesRequest(
            programme="dibao", operator=client.config.operator, page_size=500))
    assert info.value.code == grpc.StatusCode.FAILED_PRECONDITION
    message = str(info.value)
    assert "dibao" in message and "440300" in message
    assert any(d.isoformat() in message for d in since_start())
    assert "administrator must publish" in message
    assert not [c for c in listed.cases if c.region == "440300"]  # no case row
    # no CASE_OPENED, no query: only the refusal itself is logged
    assert after_refusal == after_register + 1 and after_register >= audit_before
    assert refusal.kind == audit_pb2.AUDIT_KIND_REQUEST_REFUSED
    assert refusal.reason_code == "NO_STANDARD_IN_FORCE" and not refusal.case_id


def _last_entry(system: System) -> audit_pb2.AuditEntry:
    import sqlite3

    conn = sqlite3.connect(system.sb.gateway_config.parent / "state" / "audit.sqlite")
    try:
        row = conn.execute("SELECT entry FROM audit_leaves ORDER BY idx DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return audit_pb2.AuditEntry.FromString(bytes(row[0]))


def _audit_size(system: System) -> int:
    import sqlite3

    conn = sqlite3.connect(system.sb.gateway_config.parent / "state" / "audit.sqlite")
    try:
        return conn.execute("SELECT COUNT(*) FROM audit_leaves").fetchone()[0]
    finally:
        conn.close()

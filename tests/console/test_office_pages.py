"""The console's office screens against a real gateway and its agents: search (a POST, so
an ID number never reaches a URL), statistics with SVG charts and an .xlsx download,
staff administration (add, disable, TOTP reset, sessions ended — each in the audit
log), the departments and standards directories, and one's own account.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_site import PASSWORD, ConsoleSite

from hedui import resident_id
from hedui.console import i18n
from hedui.gateway import sandbox
from hedui.v1 import audit_pb2, case_pb2

pytestmark = pytest.mark.slow
TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
MINE = ("search", "statistics", "admin", "account")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    s = ConsoleSite(tmp_path_factory.mktemp("office"))
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def _client(site: ConsoleSite, staff_id: str, *, later: int = 0) -> TestClient:
    client = site.app_client()
    site.sign_in(client, staff_id, later=later)
    return client


@pytest.fixture(scope="module")
def admin(site: ConsoleSite) -> TestClient:
    return _client(site, sandbox.ADMIN)


@pytest.fixture(scope="module")
def verifier(site: ConsoleSite) -> TestClient:
    return _client(site, sandbox.VERIFIER)


def csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def urls(page: str) -> list[str]:
    return re.findall(r'(?:href|action|src|hx-get|hx-post)="([^"]*)"', page)


def no_inline_style_or_script(page: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline script"
    assert not re.search(r"\sstyle=|\son[a-z]+=", page), "inline style or handler"


def test_an_administrator_adds_a_staff_member_and_disables_them(
        site: ConsoleSite, admin: TestClient) -> None:
    listing = admin.get("/admin/staff")
    assert listing.status_code == 200 and sandbox.CLERK in listing.text
    no_inline_style_or_script(listing.text)
    form = admin.get("/admin/staff/new")
    assert form.status_code == 200 and 'for="staff_id"' in form.text
    r = admin.post("/admin/staff/new", data={
        "csrf": csrf(form.text), "staff_id": "op-1077", "name": "核对员辛",
        "role-verifier": "1", "townships": "310112001", "programme-dibao": "1",
        "phone": "021-5550177"})
    assert r.status_code == 200, r.text[:800]
    temporary = re.search(r'id="temporary-password"[^>]*>([^<]+)<', r.text)
    assert temporary, r.text[:800]
    member = admin.get("/admin/staff/op-1077")
    assert member.status_code == 200 and "核对员辛" in member.text and "310112001" in member.text

    # the new member signs in with the temporary password: asked to choose their own
    newcomer = site.app_client()
    page = newcomer.get("/signin")
    first = newcomer.post("/signin", data={"csrf": csrf(page.text), "staff_id": "op-1077",
                                           "password": temporary.group(1)})
    assert first.status_code == 200 and "/signin/setup" in str(first.url)

    r = admin.post("/admin/staff/op-1077/scope", data={
        "csrf": csrf(member.text), "role-reviewer": "1", "townships": "",
        "reason": "改任审核员"})
    assert r.status_code == 200 and "岗位和范围已修改" in r.text, r.text[:800]
    assert "审核员" in r.text and "全县" in r.text
    bad = admin.post("/admin/staff/new", data={
        "csrf": csrf(form.text), "staff_id": "Not An Id", "name": "某人", "role-verifier": "1"})
    assert bad.status_code == 400 and 'class="error"' in bad.text and "Traceback" not in bad.text
    r = admin.post("/admin/staff/op-1077/activity", data={
        "csrf": csrf(member.text), "activity": "disable", "reason": "调离岗位"})
    assert r.status_code == 200 and "已停用" in r.text and "done=disabled" in str(r.url)
    again = site.app_client()
    page = again.get("/signin")
    refused = again.post("/signin", data={"csrf": csrf(page.text), "staff_id": "op-1077",
                                          "password": temporary.group(1)})
    assert refused.status_code == 401 and "停用" in refused.text
    assert "Traceback" not in refused.text


def test_resetting_a_totp_and_ending_sessions_are_in_the_audit_log(
        site: ConsoleSite, admin: TestClient) -> None:
    reviewer = _client(site, sandbox.REVIEWER)
    assert reviewer.get("/account").status_code == 200
    page = admin.get(f"/admin/staff/{sandbox.REVIEWER}")
    assert "在线会话 1 个" in page.text
    r = admin.post(f"/admin/staff/{sandbox.REVIEWER}/sessions", data={"csrf": csrf(page.text)})
    assert r.status_code == 200 and "在线会话 0 个" in r.text
    gone = reviewer.get("/account", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/signin")
    r = admin.post(f"/admin/staff/{sandbox.REVIEWER}/totp", data={"csrf": csrf(page.text)})
    assert r.status_code == 200 and "待绑定验证器" in r.text
    assert site_account(site, sandbox.REVIEWER).totp_secret is None
    entries = [e for e in site.entries() if e.operator == sandbox.ADMIN
               and e.reason_code in ("ENDED_BY_ADMINISTRATOR", "TOTP_RESET")]
    assert {e.reason_code for e in entries} == {"ENDED_BY_ADMINISTRATOR", "TOTP_RESET"}
    kinds = {audit_pb2.AuditKind.Name(e.kind) for e in entries}
    assert kinds == {"AUDIT_KIND_STAFF_SIGNED_OUT", "AUDIT_KIND_STAFF_CHANGED"}


def site_account(site: ConsoleSite, staff_id: str):
    from hedui.console.accounts import AccountStore
    from hedui.keys.secrets import load_secret

    store = AccountStore(site.config.database, load_secret(site.config.secrets_key))
    try:
        return store.account(staff_id)
    finally:
        store.engine.dispose()


def test_a_clerk_cannot_open_the_staff_administration(site: ConsoleSite) -> None:
    clerk = _client(site, sandbox.CLERK)
    for path in ("/admin/staff", "/admin/staff/new", f"/admin/staff/{sandbox.ADMIN}"):
        r = clerk.get(path)
        assert r.status_code == 403, path
        assert "只有管理员可以管理工作人员" in r.text and "Traceback" not in r.text
    r = clerk.post(f"/admin/staff/{sandbox.ADMIN}/totp", data={"csrf": csrf(r.text)})
    assert r.status_code == 403
    assert site_account(site, sandbox.ADMIN).totp_secret is not None


def test_a_search_by_id_number_finds_the_case_and_keeps_it_out_of_urls(
        site: ConsoleSite, verifier: TestClient) -> None:
    hh = site.household()
    case = site.open_as(sandbox.VERIFIER, hh)
    id_number = hh.members[0].id_number
    form = verifier.get("/search")
    assert form.status_code == 200 and 'method="post" action="/search"' in form.text
    no_inline_style_or_script(form.text)
    r = verifier.post("/search", data={"csrf": csrf(form.text), "id_number": id_number})
    assert r.status_code == 200, r.text[:800]
    assert f'href="/cases/{case.case_id}"' in r.text
    assert r.request.method == "POST" and id_number not in str(r.url)
    assert all(id_number not in u for u in urls(r.text))
    assert all(id_number not in str(h.url) for h in r.history)
    none = verifier.post("/search", data={"csrf": csrf(form.text), "id_number": "123"})
    assert none.status_code == 400 and "身份证号码不正确" in none.text
    empty = verifier.post("/search", data={"csrf": csrf(form.text)})
    assert empty.status_code == 400 and "至少填写一个查询条件" in empty.text
    linked = verifier.get(f"/search?state={case.state}")  # My work's "see all" link
    assert linked.status_code == 200 and f'href="/cases/{case.case_id}"' in linked.text
    ignored = verifier.get(f"/search?id_number={id_number}")  # never from a URL
    assert f'href="/cases/{case.case_id}"' not in ignored.text


def test_statistics_render_svg_charts_and_download_as_xlsx(
        site: ConsoleSite, admin: TestClient, verifier: TestClient) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    with site.person(sandbox.VERIFIER) as desk:  # answered: the departments have times
        desk.call(desk.cases.VerifyCase, case_pb2.VerifyCaseRequest(case_id=case.case_id))
    r = verifier.get("/statistics")
    assert r.status_code == 200, r.text[:800]
    assert "<svg" in r.text and 'class="chart"' in r.text
    no_inline_style_or_script(r.text)
    export = re.search(r'href="(/statistics\.xlsx[^"]*)"', r.text)
    assert export
    x = admin.get(export.group(1))
    assert x.status_code == 200
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in x.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    assert "按救助项目" in book.sheetnames and "部门反馈用时" in book.sheetnames
    assert book["概况"]["B3"].value >= 1
    times = list(book["部门反馈用时"].iter_rows(min_row=2, values_only=True))
    assert len(times) >= 8 and any(row[1] for row in times), times
    bad = verifier.get("/statistics?from=2026-13-40")
    assert bad.status_code == 400 and "年-月-日" in bad.text


def test_the_departments_and_standards_are_listed(verifier: TestClient) -> None:
    d = verifier.get("/admin/departments")
    assert d.status_code == 200 and d.text.count("<tr>") >= 1 + 8
    assert "反馈时限" in d.text
    s = verifier.get("/admin/standards")
    assert s.status_code == 200 and "上海市城乡居民最低生活保障标准" in s.text
    assert "最低生活保障" in s.text and "¥" in s.text
    no_inline_style_or_script(s.text)


def test_changing_ones_own_password_ends_the_other_sessions(site: ConsoleSite) -> None:
    here, elsewhere = _client(site, "op-1002"), _client(site, "op-1002", later=1)
    page = here.get("/account")
    assert page.status_code == 200 and 'for="current_password"' in page.text
    wrong = here.post("/account/password", data={
        "csrf": csrf(page.text), "current_password": "not it at all",
        "new_password": "春天的县城里有一棵老槐树", "new_password2": "春天的县城里有一棵老槐树"})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    weak = here.post("/account/password", data={
        "csrf": csrf(page.text), "current_password": PASSWORD,
        "new_password": "short", "new_password2": "short"})
    assert weak.status_code == 400 and "至少12个字符" in weak.text
    r = here.post("/account/password", data={
        "csrf": csrf(page.text), "current_password": PASSWORD,
        "new_password": "春天的县城里有一棵老槐树", "new_password2": "春天的县城里有一棵老槐树"})
    assert r.status_code == 200 and "密码已修改" in r.text
    assert here.get("/account").status_code == 200  # this browser stays signed in
    gone = elsewhere.get("/account", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/signin")


def test_every_message_of_these_screens_has_its_english() -> None:
    english = i18n.translations("en")
    missing = []
    for template in TEMPLATES.glob("*.html"):
        if not template.name.startswith(MINE):
            continue
        for msgid in re.findall(r"""_\(\s*["']([^"']+)["']""", template.read_text()):
            if english.gettext(msgid) == msgid:
                missing.append((template.name, msgid))
    from hedui.console.pages import admin, search, statistics
    for words in (*search.PROGRAMMES.values(), *search.STATES.values(),
                  *search.OUTCOMES.values(), *admin.ROLES.values(), *admin.DONE.values(),
                  search.UNIMPLEMENTED):
        if english.gettext(words) == words:
            missing.append(("code", words))
    for name in ("分钟", "小时", "天", "中位数", "95百分位", "概况"):
        if english.gettext(name) == name:
            missing.append((statistics.__name__, name))
    assert not missing, missing


# ---------------------------------------------------------------- before the gateway has it

class _Names:
    """Stub methods are their own names: the fake gateway answers by name."""

    def __getattr__(self, name: str) -> str:
        return name


class _GatewayWithoutOffice:
    """A gateway that knows the person and nothing else (an older gateway: UNIMPLEMENTED)."""

    def __init__(self) -> None:
        self.cases, self.office, self.reverify = _Names(), _Names(), _Names()

    def call(self, method: str, request, *, staff_id: str, timeout: float = 30.0):
        import grpc

        from hedui.console.gateway import Refused
        from hedui.v1 import office_pb2

        if method == "WhoAmI":
            return office_pb2.StaffMember(staff_id=staff_id, name="核对员丙",
                                          roles=["verifier"], active=True)
        raise Refused(grpc.StatusCode.UNIMPLEMENTED, "", "Method not found!")

    def close(self) -> None:
        pass


def test_search_and_statistics_say_so_when_the_gateway_lacks_them(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from hedui.console.app import create_app
    from hedui.console.config import ConsoleConfig
    from hedui.console.security import SESSION_COOKIE

    sb = sandbox.provision(tmp_path_factory.mktemp("old-gateway"), persons=10, people=True)
    app = create_app(ConsoleConfig.load(sandbox.write_console_config(sb)))
    app.state.gateway.close()
    app.state.gateway = _GatewayWithoutOffice()
    token = app.state.accounts.open_session(sandbox.VERIFIER, "full")
    token_csrf = app.state.accounts.session(token).csrf
    client = TestClient(app, base_url="https://localhost")
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/search").status_code == 200
    body = "11010119900307001"  # synthetic
    r = client.post("/search", data={"id_number": body + resident_id.check_digit(body)},
                    headers={"X-CSRF-Token": token_csrf})
    assert r.status_code == 503 and "查询功能正在开通" in r.text
    assert "Traceback" not in r.text
    s = client.get("/statistics")
    assert s.status_code == 503 and "统计功能正在开通" in s.text
    x = client.get("/statistics.xlsx")
    assert x.status_code == 503 and "统计功能正在开通" in x.text
    for path in ("/admin/departments", "/admin/standards"):
        d = client.get(path)
        assert d.status_code == 400 and "Traceback" not in d.text and "UNIMPLEMENTED" not in d.text


def test_a_chart_is_plain_svg_with_its_labels_escaped() -> None:
    from hedui.console import charts

    svg = str(charts.bar_chart("按<项目>", [charts.Bar("<script>x</script>", (3.0, 1.5)),
                                          charts.Bar("最低生活保障", (0.0, 0.0))],
                               chart_id="c1", series=("中位数", "95百分位")))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="c1-title' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;项目&gt;" in svg
    no_inline_style_or_script(svg)
    assert svg.count('class="bar s0"') == 3 and svg.count('class="bar s1"') == 3  # + legend
    empty = str(charts.bar_chart("无", [], chart_id="c2"))
    assert "<rect" not in empty and "—" in empty

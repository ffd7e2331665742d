"""Administration: the staff (add, roles and scope, disable / enable, reset a password or
TOTP, end sessions), the departments and the standards in force.

Who a person is lives in the gateway's registry (``ListStaff`` / ``AddStaff`` /
``ChangeStaff``, which check the rules and log STAFF_CHANGED); how they sign in lives in
the console's account store. A change to the latter — a temporary password, a TOTP
reset, sessions ended — is first written to the gateway's audit log (``RecordSignIn``
naming the administrator) and only then made: an action that cannot be logged does not
happen. The departments and standards pages are read-only directories any member may
open.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hedui.console import web
from hedui.console.accounts import now
from hedui.console.gateway import Refused
from hedui.console.pages.search import PROGRAMMES, parse_date, programme_words
from hedui.console.security import record
from hedui.console.signin import hash_password, password_problem
from hedui.v1 import common_pb2, office_pb2

Kind = office_pb2.SignInEvent
Activity = office_pb2.ChangeStaffRequest
ADMINISTRATOR = "administrator"
#: the registry's roles, in its order, with their words
ROLES: dict[str, str] = {
    "intake-clerk": "受理员（乡镇经办）",
    "verifier": "核对员",
    "reviewer": "审核员",
    "privacy-officer": "隐私专员",
    "administrator": "管理员",
}
#: what the page says after a change (``?done=``)
DONE: dict[str, str] = {
    "added": "已添加。请把临时密码当面交给本人。",
    "scope": "岗位和范围已修改。",
    "disabled": "已停用，其登录会话已结束。",
    "enabled": "已启用。",
    "totp": "动态验证码已重置，其登录会话已结束；本人下次登录时重新绑定身份验证器。",
    "sessions": "其登录会话已全部结束。",
}
#: an unambiguous alphabet for temporary passwords read aloud or copied from a screen
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Sign:
    """What the console's account store holds for a member (never the secrets)."""

    has_account: bool
    has_totp: bool
    must_change: bool
    locked: bool
    sessions: int


def temporary_password(staff_id: str) -> str:
    """Four groups of four characters (about 79 bits), acceptable as ``staff_id``'s
    password (the rules refuse one containing the staff id: drawn again)."""
    while True:
        p = "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(4))
        if password_problem(p, staff_id) is None:
            return p


def role_words(role: str) -> str:
    return ROLES.get(role, role)


def date_words(d: common_pb2.Date) -> str:
    if not d.year:
        return ""
    return f"{d.year:04d}-{d.month:02d}" + (f"-{d.day:02d}" if d.day else "")


def _admin_only(request: Request) -> Response | None:
    if web.me(request).has(ADMINISTRATOR):
        return None
    return web.problem(request, web.gettext(request, "只有管理员可以管理工作人员。"),
                       status_code=403)


def _status(err: Refused) -> int:
    return (403 if err.code.name == "PERMISSION_DENIED" else
            404 if err.code.name == "NOT_FOUND" else
            503 if err.reason == "UNAVAILABLE" else 400)


def _words(request: Request, err: Refused) -> str:
    words = web.refused_words(request, err)
    return f"{words}（{err.detail}）" if err.detail else words


def _sign(request: Request, staff_id: str) -> Sign:
    store = request.app.state.accounts
    account = store.account(staff_id)
    if account is None:
        return Sign(False, False, False, False, 0)
    return Sign(True, bool(account.totp_secret), account.must_change,
                bool(account.locked_until and account.locked_until > now()),
                store.open_sessions(staff_id))


def _staff(request: Request) -> list[office_pb2.StaffMember]:
    return list(web.call(request, "ListStaff", office_pb2.ListStaffRequest(),
                         service="office").staff)


# ------------------------------------------------------------------ the staff list

def staff_list(request: Request) -> Response:
    if (refusal := _admin_only(request)) is not None:
        return refusal
    try:
        staff = _staff(request)
    except Refused as err:
        return web.refused(request, err)
    signs = {m.staff_id: _sign(request, m.staff_id) for m in staff}
    return web.render(request, "admin_staff.html", staff=staff, signs=signs,
                      role_words=role_words, programme_words=programme_words)


def _member_form(form: dict) -> tuple[list[str], list[str], list[str]]:
    roles = [r for r in ROLES if form.get(f"role-{r}")]
    townships = [t for t in str(form.get("townships", "")).replace("，", ",")
                 .replace(" ", ",").split(",") if t]
    programmes = [p for p in PROGRAMMES if form.get(f"programme-{p}")]
    return roles, townships, programmes


def _new_form(request: Request, *, message: str = "", status_code: int = 200,
              values: dict | None = None) -> Response:
    return web.render(request, "admin_staff_new.html", status_code=status_code,
                      message=message, v=values or {}, roles=ROLES, programmes=PROGRAMMES)


def staff_new_form(request: Request) -> Response:
    refusal = _admin_only(request)
    return refusal if refusal is not None else _new_form(request)


async def staff_add(request: Request) -> Response:
    if (refusal := _admin_only(request)) is not None:
        return refusal
    form = dict((await request.form()).multi_items())
    return await run_in_threadpool(_add, request, form)


def _add(request: Request, form: dict) -> Response:
    roles, townships, programmes = _member_form(form)
    member = office_pb2.StaffMember(
        staff_id=str(form.get("staff_id", "")).strip().lower(),
        name=str(form.get("name", "")).strip(), roles=roles, townships=townships,
        programmes=programmes, phone=str(form.get("phone", "")).strip(), active=True)
    if not roles:
        return _new_form(request, message=web.gettext(request, "请至少选择一个岗位。"),
                         status_code=400, values=form)
    try:
        added = web.call(request, "AddStaff", office_pb2.AddStaffRequest(member=member),
                         service="office")
    except Refused as err:
        return _new_form(request, message=_words(request, err), status_code=_status(err),
                         values=form)
    password, problem = _set_temporary_password(request, added.staff_id, "new staff member")
    return web.render(request, "admin_staff_password.html", member=added, password=password,
                      message=problem, done=web.gettext(request, DONE["added"]),
                      role_words=role_words)


def _set_temporary_password(request: Request, staff_id: str, why: str) -> tuple[str, str]:
    """A temporary password (changed at the next sign-in, TOTP enrolled again), logged
    first; returns it, or "" and the problem in words."""
    try:
        record(request, Kind.KIND_PASSWORD_SET, staff_id, "SET_BY_ADMINISTRATOR",
               f"temporary password: {why}", operator=web.me(request).staff_id)
    except Refused as err:
        return "", _words(request, err)
    password = temporary_password(staff_id)
    store = request.app.state.accounts
    store.set_password(staff_id, hash_password(password), must_change=True)
    store.set_totp(staff_id, None)
    store.end_sessions_of(staff_id, "PASSWORD_RESET")
    return password, ""


# ------------------------------------------------------------------ one member

def _member(request: Request, staff_id: str) -> office_pb2.StaffMember | None:
    return next((m for m in _staff(request) if m.staff_id == staff_id), None)


def _member_page(request: Request, staff_id: str, *, message: str = "",
                 status_code: int = 200) -> Response:
    try:
        member = _member(request, staff_id)
    except Refused as err:
        return web.refused(request, err)
    if member is None:
        return web.problem(request, web.gettext(request, "人员名单中没有这个工号。"),
                           status_code=404)
    done = DONE.get(request.query_params.get("done", ""), "")
    values: dict[str, object] = {f"role-{r}": True for r in member.roles}
    values |= {f"programme-{p}": True for p in member.programmes}
    values["townships"] = ",".join(member.townships)
    return web.render(request, "admin_staff_member.html", status_code=status_code,
                      member=member, v=values, sign=_sign(request, staff_id), message=message,
                      done=web.gettext(request, done) if done else "", roles=ROLES,
                      programmes=PROGRAMMES, role_words=role_words,
                      programme_words=programme_words,
                      is_me=staff_id == web.me(request).staff_id)


def staff_member(request: Request) -> Response:
    refusal = _admin_only(request)
    return refusal if refusal is not None else _member_page(
        request, request.path_params["staff_id"])


async def staff_change(request: Request) -> Response:
    """One of the member page's forms (``what``: scope, activity, totp, sessions,
    password)."""
    if (refusal := _admin_only(request)) is not None:
        return refusal
    form = dict((await request.form()).multi_items())
    staff_id, what = request.path_params["staff_id"], request.path_params["what"]
    handler = CHANGES.get(what)
    if handler is None:
        return web.problem(request, web.gettext(request, "没有这个页面。"), status_code=404)
    return await run_in_threadpool(handler, request, staff_id, form)


def _change(request: Request, staff_id: str, msg: office_pb2.ChangeStaffRequest,
            done: str) -> Response:
    try:
        web.call(request, "ChangeStaff", msg, service="office")
    except Refused as err:
        return _member_page(request, staff_id, message=_words(request, err),
                            status_code=_status(err))
    return web.redirect(f"/admin/staff/{staff_id}?done={done}")


def _scope(request: Request, staff_id: str, form: dict) -> Response:
    roles, townships, programmes = _member_form(form)
    if not roles:
        return _member_page(request, staff_id, status_code=400,
                            message=web.gettext(request, "请至少选择一个岗位。"))
    return _change(request, staff_id, office_pb2.ChangeStaffRequest(
        staff_id=staff_id, set_roles=True, roles=roles, townships=townships,
        programmes=programmes, reason=str(form.get("reason", "")).strip()), "scope")


def _activity(request: Request, staff_id: str, form: dict) -> Response:
    disable = form.get("activity") == "disable"
    reason = str(form.get("reason", "")).strip()
    if disable and not reason:
        return _member_page(request, staff_id, status_code=400,
                            message=web.gettext(request, "停用时请填写原因。"))
    response = _change(request, staff_id, office_pb2.ChangeStaffRequest(
        staff_id=staff_id, reason=reason,
        activity=Activity.ACTIVITY_DISABLE if disable else Activity.ACTIVITY_ENABLE),
        "disabled" if disable else "enabled")
    if disable and response.status_code == 303:
        _end_sessions(request, staff_id, "DISABLED", "member disabled")
    return response


def _end_sessions(request: Request, staff_id: str, code: str, why: str) -> int:
    """End the member's sessions; the entry is written when any was open (a disabled
    person's sessions end at their next request anyway, the gateway refusing them)."""
    ended = request.app.state.accounts.end_sessions_of(staff_id, code)
    if ended:
        with contextlib.suppress(Refused):
            record(request, Kind.KIND_SESSIONS_ENDED, staff_id, code, why,
                   operator=web.me(request).staff_id)
    return ended


def _logged_first(request: Request, staff_id: str, kind: int, code: str,
                  why: str) -> Response | None:
    try:
        record(request, kind, staff_id, code, why, operator=web.me(request).staff_id)
    except Refused as err:
        return _member_page(request, staff_id, message=_words(request, err),
                            status_code=_status(err))
    return None


def _totp(request: Request, staff_id: str, form: dict) -> Response:
    if (page := _exists(request, staff_id)) is not None:
        return page
    if (page := _logged_first(request, staff_id, Kind.KIND_TOTP_RESET, "TOTP_RESET",
                              "TOTP reset by an administrator")) is not None:
        return page
    store = request.app.state.accounts
    store.set_totp(staff_id, None)
    store.end_sessions_of(staff_id, "TOTP_RESET")
    return web.redirect(f"/admin/staff/{staff_id}?done=totp")


def _sessions(request: Request, staff_id: str, form: dict) -> Response:
    if (page := _exists(request, staff_id)) is not None:
        return page
    if (page := _logged_first(request, staff_id, Kind.KIND_SESSIONS_ENDED,
                              "ENDED_BY_ADMINISTRATOR", "sessions ended by an administrator")
            ) is not None:
        return page
    request.app.state.accounts.end_sessions_of(staff_id, "ENDED_BY_ADMINISTRATOR")
    return web.redirect(f"/admin/staff/{staff_id}?done=sessions")


def _password(request: Request, staff_id: str, form: dict) -> Response:
    try:
        member = _member(request, staff_id)
    except Refused as err:
        return web.refused(request, err)
    if member is None:
        return web.problem(request, web.gettext(request, "人员名单中没有这个工号。"),
                           status_code=404)
    password, problem = _set_temporary_password(request, staff_id, "reset by an administrator")
    if problem:
        return _member_page(request, staff_id, message=problem, status_code=503)
    return web.render(request, "admin_staff_password.html", member=member, password=password,
                      message="", done=web.gettext(request, "已设置临时密码，其登录会话已结束。"),
                      role_words=role_words)


def _exists(request: Request, staff_id: str) -> Response | None:
    """The member page's refusal when ``staff_id`` is not a registry member."""
    try:
        member = _member(request, staff_id)
    except Refused as err:
        return web.refused(request, err)
    if member is None:
        return web.problem(request, web.gettext(request, "人员名单中没有这个工号。"),
                           status_code=404)
    return None


CHANGES = {"scope": _scope, "activity": _activity, "totp": _totp, "sessions": _sessions,
           "password": _password}


# ------------------------------------------------------------------ directories

def departments(request: Request) -> Response:
    try:
        found = web.call(request, "ListDepartments", office_pb2.ListDepartmentsRequest(),
                         service="office")
    except Refused as err:
        return web.refused(request, err)
    return web.render(request, "admin_departments.html",
                      departments=sorted(found.departments, key=lambda d: d.department),
                      calendar_source=found.calendar_source,
                      calendar_years=sorted(found.calendar_years))


def standards(request: Request) -> Response:
    asked = request.query_params.get("as_of", "").strip()
    msg = office_pb2.ListStandardsRequest()
    try:
        as_of = parse_date(asked)
    except ValueError:
        return web.problem(request, web.gettext(request, "日期应为“年-月-日”，例如 2026-11-15。"))
    if as_of is not None:
        msg.as_of.CopyFrom(as_of)
    try:
        found = web.call(request, "ListStandards", msg, service="office")
    except Refused as err:
        return web.refused(request, err)
    rows = sorted(found.standards, key=lambda s: (
        s.programme, s.region, -(s.effective_from.year * 10000 + s.effective_from.month * 100
                                 + s.effective_from.day)))
    return web.render(request, "admin_standards.html", standards=rows, as_of=asked,
                      programme_words=programme_words, date_words=date_words)


routes = [
    Route("/admin/staff", staff_list, methods=["GET"]),
    Route("/admin/staff/new", staff_new_form, methods=["GET"]),
    Route("/admin/staff/new", staff_add, methods=["POST"]),
    Route("/admin/staff/{staff_id}", staff_member, methods=["GET"]),
    Route("/admin/staff/{staff_id}/{what}", staff_change, methods=["POST"]),
    Route("/admin/departments", departments, methods=["GET"]),
    Route("/admin/standards", standards, methods=["GET"]),
]

"""我的账号: who the console knows you as, changing your own password, the language.

Changing a password asks for the current one first (through the sign-in rules, so it is
rate-limited and counts towards the lock like any wrong password), is logged
(PASSWORD_SET) before it is made, and ends every other session of the person: whoever
had the old password is signed out (ASVS 3.3.3). This session is replaced by a new one.
The language is the sign-in pages' ``/lang`` switch, returning here.
"""

from __future__ import annotations

import contextlib

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hedui.console import web
from hedui.console.gateway import Refused
from hedui.console.pages.admin import role_words
from hedui.console.pages.search import programme_words
from hedui.console.security import SESSION_COOKIE, clear_cookie, record, set_cookie
from hedui.console.signin import SignInRefused, hash_password, password_problem
from hedui.v1 import office_pb2

Kind = office_pb2.SignInEvent
DONE = {"password": "密码已修改；您在其他地方的登录已结束。"}


def _page(request: Request, *, message: str = "", status_code: int = 200) -> Response:
    person = web.me(request)
    sessions = request.app.state.accounts.open_sessions(person.staff_id)
    done = DONE.get(request.query_params.get("done", ""), "")
    return web.render(request, "account.html", status_code=status_code, message=message,
                      done=web.gettext(request, done) if done else "", sessions=sessions,
                      role_words=role_words, programme_words=programme_words)


def account(request: Request) -> Response:
    return _page(request)


async def change_password(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_change_password, request, form)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _change_password(request: Request, form: dict) -> Response:
    person = web.me(request)
    current = str(form.get("current_password", ""))
    new, again = str(form.get("new_password", "")), str(form.get("new_password2", ""))
    accounts = request.app.state.accounts
    try:
        request.app.state.sign_in.check_password(person.staff_id, current, _address(request))
    except SignInRefused as err:
        with contextlib.suppress(Refused):
            record(request, Kind.KIND_SIGN_IN_FAILED, person.staff_id, err.code,
                   "password change: current password refused")
        if err.code == "LOCKED":  # the lock holds for this session too
            accounts.end_sessions_of(person.staff_id, "LOCKED")
            response = web.redirect("/signin?why=expired")
            clear_cookie(response, SESSION_COOKIE)
            return response
        message = ("当前密码不正确。" if err.code == "BAD_PASSWORD" else err.message)
        return _page(request, message=web.gettext(request, message), status_code=400)
    problem = password_problem(new, person.staff_id) or (
        "两次输入的密码不一致。" if new != again else
        "新密码不能与当前密码相同。" if new == current else None)
    if problem:
        return _page(request, message=web.gettext(request, problem), status_code=400)
    try:  # no change without its entry in the log
        record(request, Kind.KIND_PASSWORD_SET, person.staff_id, "CHANGED_BY_MEMBER",
               "password changed by its holder")
    except Refused as err:
        return _page(request, message=web.refused_words(request, err), status_code=503)
    accounts.set_password(person.staff_id, hash_password(new), must_change=False)
    accounts.end_sessions_of(person.staff_id, "PASSWORD_CHANGED")
    token = accounts.open_session(person.staff_id, "full", web.lang(request))
    response = web.redirect("/account?done=password")
    set_cookie(response, SESSION_COOKIE, token)
    return response


routes = [
    Route("/account", account, methods=["GET"]),
    Route("/account/password", change_password, methods=["POST"]),
]

"""Sign-in pages: password, then the TOTP code; a first sign-in sets a password of the
person's own and enrols their authenticator; sign-out; the language switch.

The rules are in ``console/signin.py``; the session and CSRF in ``console/security.py``.
"""

from __future__ import annotations

import contextlib

import segno
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hedui.console import web
from hedui.console.accounts import Account
from hedui.console.gateway import Refused
from hedui.console.security import (
    LANG_COOKIE,
    PRE_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    pre_csrf,
    record,
    set_cookie,
)
from hedui.console.signin import (
    SignInRefused,
    hash_password,
    new_totp_secret,
    password_problem,
    totp_uri,
)
from hedui.v1 import office_pb2

Kind = office_pb2.SignInEvent
WHY = {"expired": "会话已过期，请重新登录。", "disabled": "您的账号已停用或不在人员名单中。",
       "signed-out": "您已安全退出。"}


def _next(request: Request, form: dict | None = None) -> str:
    """Where to go after signing in: a path of this console only (no open redirect)."""
    target = (form or {}).get("next") or request.query_params.get("next") or "/"
    target = str(target)
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _record(request: Request, kind: int, staff_id: str, code: str, reason: str = "") -> None:
    """A failure or sign-out entry; when the gateway cannot take it, the person still gets
    their answer (the gateway logs what it refused itself)."""
    with contextlib.suppress(Refused):
        record(request, kind, staff_id, code, reason)


async def signin_form(request: Request, message: str = "", status_code: int = 200,
                      staff_id: str = "") -> Response:
    token = pre_csrf(request)
    request.state.pre_csrf = token
    why = WHY.get(request.query_params.get("why", ""), "")
    response = web.render(request, "signin.html", status_code=status_code,
                          message=message, why=web.gettext(request, why) if why else "",
                          staff_id=staff_id, next=_next(request))
    set_cookie(response, PRE_COOKIE, token)
    return response


async def signin(request: Request) -> Response:
    form = dict(await request.form())
    staff_id = str(form.get("staff_id", "")).strip().lower()
    password = str(form.get("password", ""))
    sign_in = request.app.state.sign_in
    try:
        account = await run_in_threadpool(sign_in.check_password, staff_id, password,
                                          _address(request))
        await run_in_threadpool(_active, request, staff_id)
    except SignInRefused as err:
        await run_in_threadpool(_record, request, Kind.KIND_SIGN_IN_FAILED, staff_id,
                                err.code, "password step refused")
        return await signin_form(request, web.gettext(request, err.message), 401, staff_id)
    stage = "setup" if account.must_change or not account.totp_secret else "pending"
    token = await run_in_threadpool(request.app.state.accounts.open_session, staff_id, stage,
                                    web.lang(request))
    response = web.redirect(("/signin/setup" if stage == "setup" else "/signin/code")
                            + f"?next={_next(request, form)}")
    set_cookie(response, SESSION_COOKIE, token)
    clear_cookie(response, PRE_COOKIE)
    return response


def _active(request: Request, staff_id: str) -> None:
    """The gateway's registry still has this person, active."""
    gw = request.app.state.gateway
    try:
        gw.call(gw.office.WhoAmI, office_pb2.WhoAmIRequest(), staff_id=staff_id)
    except Refused as err:
        if err.reason == "UNAVAILABLE":
            raise SignInRefused("GATEWAY_UNAVAILABLE", "暂时连不上核对网关，请稍后再试。") from None
        raise SignInRefused("DISABLED", "您的账号已停用或不在人员名单中，请联系管理员。") from None


def _account(request: Request) -> Account:
    return request.app.state.accounts.account(request.state.session.staff_id)


async def code_form(request: Request, message: str = "", status_code: int = 200) -> Response:
    return web.render(request, "signin_code.html", status_code=status_code, message=message,
                      next=_next(request))


async def _fully_signed_in(request: Request, staff_id: str, next_url: str) -> Response:
    """Replace the half-way session by a new full one (no session fixation)."""
    accounts = request.app.state.accounts
    old = request.state.session
    await run_in_threadpool(accounts.end_session, old.token_sha256, "STEPPED_UP")
    try:  # no sign-in without its entry in the log
        await run_in_threadpool(record, request, Kind.KIND_SIGNED_IN, staff_id, "OK",
                                "password and TOTP accepted")
    except Refused as err:
        response = web.refused(request, err)
        clear_cookie(response, SESSION_COOKIE)
        return response
    token = await run_in_threadpool(accounts.open_session, staff_id, "full", old.lang)
    response = web.redirect(next_url)
    set_cookie(response, SESSION_COOKIE, token)
    return response


async def code(request: Request) -> Response:
    form = dict(await request.form())
    account = await run_in_threadpool(_account, request)
    try:
        await run_in_threadpool(request.app.state.sign_in.check_code, account,
                                str(form.get("code", "")))
    except SignInRefused as err:
        await run_in_threadpool(_record, request, Kind.KIND_SIGN_IN_FAILED, account.staff_id,
                                err.code, "TOTP step refused")
        if err.code == "LOCKED":
            await run_in_threadpool(request.app.state.accounts.end_session,
                                    request.state.session.token_sha256, "LOCKED")
        return await code_form(request, web.gettext(request, err.message), 401)
    return await _fully_signed_in(request, account.staff_id, _next(request, form))


def _qr(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


async def setup_form(request: Request, message: str = "", status_code: int = 200) -> Response:
    session = request.state.session
    account = await run_in_threadpool(_account, request)
    secret = session.pending_totp
    if not account.totp_secret and not secret:
        secret = new_totp_secret()
        await run_in_threadpool(request.app.state.accounts.set_pending_totp,
                                session.token_sha256, secret)
    uri = totp_uri(secret, account.staff_id, request.app.state.config.center_name) if (
        secret and not account.totp_secret) else ""
    return web.render(request, "signin_setup.html", status_code=status_code,
                      message=message, must_change=account.must_change, enrol=bool(uri),
                      secret=secret if uri else "", qr=_qr(uri) if uri else "",
                      next=_next(request))


async def setup(request: Request) -> Response:
    form = dict(await request.form())
    session = request.state.session
    accounts = request.app.state.accounts
    account = await run_in_threadpool(_account, request)
    if account.must_change:
        new, again = str(form.get("new_password", "")), str(form.get("new_password2", ""))
        problem = password_problem(new, account.staff_id) or (
            "两次输入的密码不一致。" if new != again else None)
        if problem:
            return await setup_form(request, web.gettext(request, problem), 400)
    secret = account.totp_secret or session.pending_totp
    try:
        await run_in_threadpool(request.app.state.sign_in.check_code, account,
                                str(form.get("code", "")), secret)
    except SignInRefused as err:
        await run_in_threadpool(_record, request, Kind.KIND_SIGN_IN_FAILED, account.staff_id,
                                err.code, "first sign-in: TOTP not confirmed")
        return await setup_form(request, web.gettext(request, err.message), 401)
    if account.must_change:
        await run_in_threadpool(accounts.set_password, account.staff_id,
                                hash_password(str(form["new_password"])), must_change=False)
        await run_in_threadpool(_record, request, Kind.KIND_PASSWORD_SET, account.staff_id,
                                "OK", "password chosen at first sign-in")
    if not account.totp_secret:
        await run_in_threadpool(accounts.set_totp, account.staff_id, secret)
    return await _fully_signed_in(request, account.staff_id, _next(request, form))


async def signout(request: Request) -> Response:
    session = request.state.session
    if session is not None:
        ended = await run_in_threadpool(request.app.state.accounts.end_session,
                                        session.token_sha256, "SIGNED_OUT")
        if ended and session.stage == "full":
            await run_in_threadpool(_record, request, Kind.KIND_SIGNED_OUT, session.staff_id,
                                    "SIGNED_OUT", "signed out")
    response = web.redirect("/signin?why=signed-out")
    clear_cookie(response, SESSION_COOKIE)
    return response


async def language(request: Request) -> Response:
    form = dict(await request.form())
    choice = "en" if form.get("lang") == "en" else "zh"
    session = request.state.session
    if session is not None:
        await run_in_threadpool(request.app.state.accounts.set_lang, session.token_sha256,
                                choice)
    response = web.redirect(_next(request, form))
    response.set_cookie(LANG_COOKIE, choice, secure=True, samesite="strict", path="/")
    return response


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


routes = [
    Route("/signin", signin_form, methods=["GET"]),
    Route("/signin", signin, methods=["POST"]),
    Route("/signin/code", code_form, methods=["GET"]),
    Route("/signin/code", code, methods=["POST"]),
    Route("/signin/setup", setup_form, methods=["GET"]),
    Route("/signin/setup", setup, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
    Route("/lang", language, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
]

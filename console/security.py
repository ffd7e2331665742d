"""Every request's guard: the session, the CSRF token, the security headers.

* **Sessions** (ASVS V3): the ``__Host-hedui-session`` cookie (Secure, HttpOnly,
  SameSite=Strict, Path=/, no Domain) carries a random token; the console keeps its
  digest. A session ends when its person signs out, after ``idle_minutes`` without a
  request, after ``lifetime_hours`` whatever happens, when an administrator ends it, or
  when the gateway no longer knows the person as active (``WhoAmI`` on every request):
  the next request goes to the sign-in page, saying why.
* **CSRF** (ASVS V4.2.2, V13): no GET changes anything; every other method must carry
  the session's token (form field ``csrf`` or header ``X-CSRF-Token``, which htmx sends);
  before a session exists the sign-in form uses a double-submit cookie.
* **Headers** (ASVS V14.4): a CSP without inline script or style, no framing, no
  referrer, no caching of pages that hold personal data, HSTS.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from hedui.console import i18n
from hedui.console.accounts import Session, now
from hedui.console.gateway import Refused
from hedui.console.web import Me
from hedui.v1 import office_pb2

SESSION_COOKIE = "__Host-hedui-session"
PRE_COOKIE = "__Host-hedui-pre"
LANG_COOKIE = "hedui-lang"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: paths open without a session (the sign-in steps check their own stage)
PUBLIC = ("/signin", "/static/", "/healthz", "/lang")
#: what a session in each stage may reach besides PUBLIC
STAGE_PATHS = {"pending": ("/signin/code",), "setup": ("/signin/setup",)}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def set_cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, secure=True, httponly=True, samesite="strict", path="/")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, secure=True, httponly=True, samesite="strict", path="/")


def record(request: Request, kind: int, staff_id: str, reason_code: str, reason: str = "",
           operator: str = "") -> None:
    """Write a sign-in event into the gateway's audit log; a failure to write is logged
    by the caller's logger but does not hide the page (the gateway's own log records
    its refusals)."""
    gw = request.app.state.gateway
    event = office_pb2.SignInEvent(kind=kind, staff_id=staff_id, reason_code=reason_code,
                                   reason=reason, operator=operator)
    gw.call(gw.office.RecordSignIn, event, staff_id=operator)


def _public(path: str) -> bool:
    """A path anyone may reach: one of PUBLIC exactly, or under one ending in "/" (the
    sign-in steps after the password are not: they need their stage's session)."""
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC)


class ConsoleMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint
                       ) -> Response:
        response = await self._guard(request, call_next)
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    async def _guard(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        app = request.app
        path = request.url.path
        request.state.lang = i18n.choose(request.headers.get("accept-language", ""),
                                         request.cookies.get(LANG_COOKIE))
        session, why = await run_in_threadpool(self._session, request)
        request.state.session = session
        if session is not None:
            request.state.lang = session.lang
        if request.method not in SAFE_METHODS and not await self._csrf_ok(request, session):
            return PlainTextResponse("请求缺少有效的安全令牌（CSRF），已拒绝。请刷新页面后重试。\n"
                                     "The request lacks a valid CSRF token and was refused.",
                                     status_code=403)
        if path.startswith("/static/") or path == "/healthz":
            return await call_next(request)
        if session is not None and session.stage == "full":
            try:
                person = await run_in_threadpool(self._whoami, request, session)
            except Refused as err:
                if err.reason == "UNAVAILABLE":
                    return PlainTextResponse("暂时连不上核对网关，请稍后再试。\n"
                                             "The gateway cannot be reached.", status_code=503)
                await run_in_threadpool(app.state.accounts.end_sessions_of, session.staff_id,
                                        err.reason)
                return self._to_signin(request, "disabled")
            request.state.me = person
            return await call_next(request)
        if _public(path) or (session is not None and any(
                path.startswith(p) for p in STAGE_PATHS.get(session.stage, ()))):
            return await call_next(request)
        return self._to_signin(request, why)

    def _session(self, request: Request) -> tuple[Session | None, str]:
        """The request's live session and, when there is none, why ("" / "expired")."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None, ""
        store, config = request.app.state.accounts, request.app.state.config
        session = store.session(token)
        if session is None or session.ended_at is not None:
            return None, "expired" if session is not None else ""
        t = now()
        reason = ("LIFETIME" if t - session.created_at > config.lifetime else
                  "IDLE" if t - session.last_seen > config.idle else "")
        if reason:
            if store.end_session(session.token_sha256, reason) and session.stage == "full":
                with contextlib.suppress(Refused):
                    record(request, office_pb2.SignInEvent.KIND_SIGNED_OUT, session.staff_id,
                           reason, "session ended: " + ("idle timeout" if reason == "IDLE"
                                                        else "absolute lifetime"))
            return None, "expired"
        store.touch(session.token_sha256)
        return session, ""

    def _whoami(self, request: Request, session: Session) -> Me:
        gw = request.app.state.gateway
        m = gw.call(gw.office.WhoAmI, office_pb2.WhoAmIRequest(), staff_id=session.staff_id)
        return Me(m.staff_id, m.name, tuple(m.roles), tuple(m.townships), tuple(m.programmes))

    async def _csrf_ok(self, request: Request, session: Session | None) -> bool:
        sent = request.headers.get("x-csrf-token", "")
        if not sent:
            content_type = request.headers.get("content-type", "")
            if content_type.startswith(("application/x-www-form-urlencoded",
                                        "multipart/form-data")):
                # read the body whole first: BaseHTTPMiddleware replays a body read
                # with body() to the page, not one consumed by form()'s stream
                await request.body()
                form = await request.form()
                sent = str(form.get("csrf", ""))
        # before a session (the sign-in form): double submit against the pre-session cookie
        expected = session.csrf if session is not None else request.cookies.get(PRE_COOKIE, "")
        return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())

    def _to_signin(self, request: Request, why: str) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = "/signin" + (f"?why={why}" if why else "")
        if target not in ("/", "/signin"):
            url += ("&" if "?" in url else "?") + "next=" + quote(target, safe="")
        if request.headers.get("HX-Request"):  # htmx: the whole page goes to sign-in
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)


def pre_csrf(request: Request) -> str:
    """The sign-in form's token (reused from the cookie, or new)."""
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)

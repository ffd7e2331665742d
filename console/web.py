"""What every page handler uses: who is signed in, the gateway, rendering, forms.

A page module (``console/pages/*.py``) exposes ``routes``; its handlers call
:func:`me` for the person (the middleware has already required a full session),
:func:`call` to ask the gateway on their behalf, :func:`render` for a template, and
:func:`refused` to show a gateway refusal in words. State-changing requests are POSTs:
the middleware has checked their CSRF token before a handler runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from hedui.console import i18n, reasons
from hedui.console.gateway import Refused

TEMPLATES = Path(__file__).resolve().parent / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Me:
    """The person signed in, as the gateway's registry had them at this request."""

    staff_id: str
    name: str
    roles: tuple[str, ...]
    townships: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: tuple[str, ...] = field(default=())


CASE_ROLES = ("intake-clerk", "verifier", "reviewer")
#: the header's links, each for the roles that may use it (empty: everyone)
NAV = (
    NavItem("/", "我的待办", CASE_ROLES),
    NavItem("/cases/new", "新建案件", ("intake-clerk", "verifier")),
    NavItem("/search", "查询", CASE_ROLES),
    NavItem("/batch", "批量核对", ("verifier",)),
    NavItem("/reverify", "动态监测", CASE_ROLES),
    NavItem("/alerts", "预警工作台", CASE_ROLES),
    NavItem("/statistics", "统计", (*CASE_ROLES, "administrator")),
    NavItem("/admin/staff", "人员管理", ("administrator",)),
    NavItem("/admin/departments", "部门", ("administrator", *CASE_ROLES)),
    NavItem("/admin/standards", "标准", ("administrator", *CASE_ROLES)),
    NavItem("/reports/check", "核验报告"),
    NavItem("/account", "我的账号"),
)


def _environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["local"] = local_time
    env.filters["yuan"] = yuan
    return env


def local_time(t: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A protobuf Timestamp or datetime in Beijing time; "" when unset."""
    if t is None:
        return ""
    if hasattr(t, "ToDatetime"):
        if not t.seconds and not t.nanos:
            return ""
        t = t.ToDatetime(tzinfo=dt.UTC)
    return t.astimezone(SHANGHAI).strftime(fmt)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


ENVIRONMENTS = {lang: _environment(lang) for lang in i18n.LOCALES}


def lang(request: Request) -> str:
    return getattr(request.state, "lang", "zh")


def gettext(request: Request, message: str) -> str:
    return i18n.translations(lang(request)).gettext(message)


def me(request: Request) -> Me:
    return request.state.me


def call(request: Request, method_name: str, message: Any, *, service: str = "cases") -> Any:
    """Call ``service.method_name(message)`` on the gateway as the person signed in."""
    gw = request.app.state.gateway
    stub = getattr(gw, service)
    return gw.call(getattr(stub, method_name), message, staff_id=me(request).staff_id)


def render(request: Request, template: str, *, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    person = getattr(request.state, "me", None)
    session = getattr(request.state, "session", None)
    language = lang(request)
    nav = [n for n in NAV if person is not None and (not n.roles or person.has(*n.roles))]
    page = ENVIRONMENTS[language].get_template(template).render(
        request=request, me=person, nav=nav, lang=language,
        csrf_token=session.csrf if session is not None else getattr(
            request.state, "pre_csrf", ""),
        center_name=request.app.state.config.center_name, path=request.url.path,
        **context)
    return HTMLResponse(page, status_code=status_code)


#: refusals whose gateway detail names another township or programme: not shown
PRIVATE_DETAIL = frozenset({"OUTSIDE_SCOPE", "NOT_ON_STAFF_LIST"})


def refused_words(request: Request, err: Refused) -> str:
    return reasons.words(err.reason, err.detail, lang=lang(request))


def refused(request: Request, err: Refused, *, template: str = "problem.html",
            status_code: int | None = None, **context: Any) -> HTMLResponse:
    """A gateway refusal as a page (or, for an htmx request, the fragment in place)."""
    code = status_code or (403 if err.code.name == "PERMISSION_DENIED" else
                           404 if err.code.name == "NOT_FOUND" else
                           503 if err.reason == "UNAVAILABLE" else 400)
    if request.headers.get("HX-Request"):
        template = "problem_fragment.html"
    detail = "" if err.reason in PRIVATE_DETAIL else err.detail
    return render(request, template, status_code=code, message=refused_words(request, err),
                  reason=err.reason, detail=detail, **context)


def problem(request: Request, message: str, *, status_code: int = 400) -> HTMLResponse:
    template = "problem_fragment.html" if request.headers.get("HX-Request") else "problem.html"
    return render(request, template, status_code=status_code, message=message, reason="",
                  detail="")


def redirect(url: str) -> RedirectResponse:
    """After a POST: see the result with a GET (303), so a reload never repeats it."""
    return RedirectResponse(url, status_code=303)

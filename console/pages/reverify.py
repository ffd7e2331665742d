"""动态监测 (re-verification runs) and 预警工作台 (the change-alert worklist).

A run re-verifies a programme's roster as of a date; the gateway works it in the
background and raises graded alerts (red: no longer eligible; orange: near a limit or a
new vehicle, property or business; yellow: a department's data missing), each due in
working days. A caseworker confirms an alert with a note, records the review case
(入户核查) opened for it, or dismisses it with a reason. The gateway decides who may do
what and scopes every list; the pages only show its refusals in words. The filters are
GET parameters (a grade, a state: nothing personal); every action is a POST.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hedui import china_time
from hedui.console import web, words
from hedui.console.gateway import Refused
from hedui.console.words import N_
from hedui.v1 import common_pb2
from hedui.v1 import reverification_pb2 as rv

Action = rv.ActOnAlertRequest
#: who may start a run (the gateway checks it again)
STARTERS = ("verifier",)
#: who may act on an alert
ACTORS = ("intake-clerk", "verifier")
ALERT_ID = re.compile(r"[A-Za-z0-9-]{1,80}")
RUN_STATES: dict[str, str] = {
    "PENDING": N_("等待开始"), "RUNNING": N_("进行中"), "FINISHED": N_("已完成"),
    "CANCELLED": N_("已取消"),
}
#: grade → (its word, what it means); the badge's css class is the grade itself
GRADES: dict[str, tuple[str, str]] = {
    "red": (N_("红色"), N_("不再符合条件")),
    "orange": (N_("橙色"), N_("接近标准或新增车辆、房产、经营")),
    "yellow": (N_("黄色"), N_("部门数据缺失")),
}
ALERT_STATES: dict[str, str] = {
    "OPEN": N_("待处理"), "CONFIRMED": N_("已确认"), "REVIEW_OPENED": N_("已转入户核查"),
    "DISMISSED": N_("已排除"), "ALL": N_("全部"),
}
#: the forms of the alert page: path word → (the action, the field required)
ACTIONS: dict[str, tuple[int, str]] = {
    "confirm": (Action.ACTION_CONFIRM, "note"),
    "review": (Action.ACTION_OPEN_REVIEW, "review_case_id"),
    "dismiss": (Action.ACTION_DISMISS, "note"),
}
DONE: dict[str, str] = {
    "started": N_("已开始动态监测，网关正在后台核对；刷新本页查看进度。"),
    "CONFIRMED": N_("已确认该预警。"),
    "REVIEW_OPENED": N_("已记录入户核查案件。"),
    "DISMISSED": N_("已排除该预警。"),
}
#: reasons whose general words speak of a case: on these pages they speak of an alert
ALERT_WORDS: dict[str, str] = {
    "OUTSIDE_SCOPE": N_("该预警不属于您负责的乡镇或项目。"),
}


def date_words(d: common_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else ""


def grade_words(grade: str) -> tuple[str, str]:
    return GRADES.get(grade, (grade, ""))


def _words(request: Request, err: Refused) -> str:
    if err.reason in ALERT_WORDS:
        return web.gettext(request, ALERT_WORDS[err.reason])
    return web.refused_words(request, err)


def _status(err: Refused) -> int:
    return (403 if err.code.name == "PERMISSION_DENIED" else
            404 if err.code.name == "NOT_FOUND" else
            503 if err.reason == "UNAVAILABLE" else 400)


def _call(request: Request, method: str, message: Any) -> Any:
    return web.call(request, method, message, service="reverify")


def _done(request: Request) -> str:
    done = DONE.get(request.query_params.get("done", ""), "")
    return web.gettext(request, done) if done else ""


# ------------------------------------------------------------------ runs

def _runs_page(request: Request, *, message: str = "", reason: str = "",
               status_code: int = 200, values: dict[str, str] | None = None) -> Response:
    me = web.me(request)
    try:
        runs = list(_call(request, "ListRuns", rv.ListRunsRequest()).runs)
    except Refused as err:
        return web.refused(request, err)
    programmes = {p: words.programme_word(p) for p in (me.programmes or words.PROGRAMMES)}
    return web.render(request, "reverify_runs.html", status_code=status_code, runs=runs,
                      can_start=me.has(*STARTERS), programmes=programmes,
                      v=values or {"as_of": china_time.today().isoformat()},
                      message=message, reason=reason, done=_done(request),
                      programme_word=words.programme_word, run_states=RUN_STATES,
                      date_words=date_words)


def runs_page(request: Request) -> Response:
    return _runs_page(request)


async def start_run(request: Request) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).multi_items()}
    return await run_in_threadpool(_start, request, form)


def _start(request: Request, form: dict[str, str]) -> Response:
    message = rv.StartRunRequest(programme=form.get("programme", ""))
    try:
        if form.get("as_of"):
            d = dt.date.fromisoformat(form["as_of"])
            message.as_of.CopyFrom(common_pb2.Date(year=d.year, month=d.month, day=d.day))
    except ValueError:
        return _runs_page(request, status_code=400, values=form, message=web.gettext(
            request, N_("日期应为“年-月-日”，例如 2026-11-15。")))
    try:
        _call(request, "StartRun", message)
    except Refused as err:
        return _runs_page(request, message=_words(request, err), reason=err.reason,
                          status_code=_status(err), values=form)
    return web.redirect("/reverify?done=started")


# ------------------------------------------------------------------ the worklist

def alerts_page(request: Request) -> Response:
    grade = request.query_params.get("grade", "")
    state = request.query_params.get("state", "OPEN")
    grade = grade if grade in GRADES else ""
    state = state if state in ALERT_STATES else "OPEN"
    try:
        found = _call(request, "ListAlerts", rv.ListAlertsRequest(grade=grade, state=state))
    except Refused as err:
        return web.refused(request, err)
    return web.render(request, "reverify_alerts.html", alerts=list(found.alerts),
                      grade=grade, state=state, grades=GRADES, states=ALERT_STATES,
                      grade_words=grade_words, programme_word=words.programme_word,
                      date_words=date_words)


# ------------------------------------------------------------------ one alert

def _alert_id(request: Request) -> str | None:
    alert_id = request.path_params["alert_id"]
    return alert_id if ALERT_ID.fullmatch(alert_id) else None


def _not_found(request: Request) -> HTMLResponse:
    return web.problem(request, web.gettext(request, N_("找不到该预警。")), status_code=404)


def _alert_page(request: Request, alert_id: str, *, error: Refused | None = None
                ) -> Response:
    try:
        alert = _call(request, "GetAlert", rv.GetAlertRequest(alert_id=alert_id))
    except Refused as err:
        detail = "" if err.reason in web.PRIVATE_DETAIL else err.detail
        return web.render(request, "problem.html", status_code=_status(err),
                          message=_words(request, err), reason=err.reason, detail=detail)
    context: dict[str, Any] = {
        "alert": alert, "can_act": alert.state == "OPEN" and web.me(request).has(*ACTORS),
        "done": _done(request), "grade_words": grade_words,
        "alert_states": ALERT_STATES, "programme_word": words.programme_word,
        "date_words": date_words}
    if error is None:
        return web.render(request, "reverify_alert.html", **context)
    detail = "" if error.reason in web.PRIVATE_DETAIL else error.detail
    return web.render(request, "reverify_alert.html", status_code=_status(error),
                      message=_words(request, error), reason=error.reason, detail=detail,
                      **context)


def alert_page(request: Request) -> Response:
    alert_id = _alert_id(request)
    return _not_found(request) if alert_id is None else _alert_page(request, alert_id)


async def act(request: Request) -> Response:
    alert_id = _alert_id(request)
    what = ACTIONS.get(request.path_params["what"])
    if alert_id is None or what is None:
        return _not_found(request)
    form = {k: str(v) for k, v in (await request.form()).multi_items()}
    return await run_in_threadpool(_act, request, alert_id, what[0], form)


def _act(request: Request, alert_id: str, action: int, form: dict[str, str]) -> Response:
    message = Action(alert_id=alert_id, action=action, note=form.get("note", "").strip(),
                     review_case_id=form.get("review_case_id", "").strip())
    try:
        acted = _call(request, "ActOnAlert", message)
    except Refused as err:
        return _alert_page(request, alert_id, error=err)
    return web.redirect(f"/alerts/{alert_id}?done={acted.state}")


routes = [
    Route("/reverify", runs_page, methods=["GET"]),
    Route("/reverify/runs", start_run, methods=["POST"]),
    Route("/alerts", alerts_page, methods=["GET"]),
    Route("/alerts/{alert_id}", alert_page, methods=["GET"]),
    Route("/alerts/{alert_id}/{what}", act, methods=["POST"]),
]

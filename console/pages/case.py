"""The case screen (案件): each department's part, what the person may do next, the
report and the case's history.

Everything comes from the gateway as the person signed in (``web.call``): the page holds
no rule of its own beyond which buttons to offer, and the gateway refuses whatever the
person may not do (the refusal is shown in words). Members are shown masked, whatever
the gateway returned. A verification runs in a worker thread: when it is still going
after a moment the page comes back at once and polls a fragment (htmx) until every
department has answered or failed, then reloads itself.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import grpc
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hedui.console import web, words
from hedui.console.gateway import Refused
from hedui.console.pages.case_report import report_context
from hedui.console.words import N_
from hedui.gateway.masking import mask_member
from hedui.v1 import case_pb2, office_pb2

State = case_pb2.CaseState
Dept = case_pb2.DepartmentStatus
CASE_ID = re.compile(r"case-[0-9]{8}-[0-9a-f]{12}")
#: how long a POST waits for a verification before the page polls for it instead
WAIT_SECONDS = 2.5
#: a verification's own deadline (every department asked, answers assessed)
VERIFY_TIMEOUT = 180.0
POLL_SECONDS = 3
#: ended runs kept for a poll to collect their refusal
KEPT_RUNS = 100
#: the departments directory is the same for everyone: asked once a minute
DIRECTORY_SECONDS = 60.0
REPORT_CSS = Path(__file__).resolve().parent.parent / "static" / "case.css"
_RUNS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="verify")

VERIFY_STATES = (State.CASE_STATE_OPEN,)
RETRY_STATES = (State.CASE_STATE_INCOMPLETE, State.CASE_STATE_AWAITING_OFFLINE_ANSWER,
                State.CASE_STATE_RETURNED, State.CASE_STATE_QUERYING)
FINAL_STATES = (State.CASE_STATE_DECIDED, State.CASE_STATE_CANCELLED)


# ---------------------------------------------------------------- what the page shows

def directory(request: Request) -> dict[str, office_pb2.DepartmentInfo]:
    """The departments (names, liaisons, online) as ListDepartments gives them; empty
    when the gateway cannot say (the page then names departments by their id)."""
    state = request.app.state
    cached = getattr(state, "case_directory", None)
    if cached is not None and time.monotonic() - cached[0] < DIRECTORY_SECONDS:
        return cached[1]
    try:
        answer = web.call(request, "ListDepartments", office_pb2.ListDepartmentsRequest(),
                          service="office")
        found = {d.department: d for d in answer.departments}
    except Refused:
        found = {}
    state.case_directory = (time.monotonic(), found)
    return found


def department_name(request: Request, department: str,
                    known: dict[str, office_pb2.DepartmentInfo] | None = None) -> str:
    return words.department_name(department, english=web.lang(request) == "en",
                                 known=known)


def _date(d: Any) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d and d.year else ""


def _contact(c: Any) -> str:
    return " ".join(x for x in (c.name, c.phone) if x) if c is not None else ""


def department_rows(request: Request, case: case_pb2.Case) -> list[dict[str, Any]]:
    """One row per department: its state in words, why, its deadline and whom to call."""
    known = directory(request)
    rows = []
    for d in case.departments:
        word, css = words.DEPARTMENT_STATES.get(d.state, (Dept.State.Name(d.state), ""))
        withheld = ""
        reason = d.reason
        if d.state == Dept.STATE_ANSWERED and reason.startswith("withheld:"):
            word, css = words.WITHHELD, "withheld"
            withheld, reason = reason.removeprefix("withheld:").strip(), ""
        info = known.get(d.department)
        liaison = _contact(d.liaison) if d.HasField("liaison") else ""
        if not liaison and info is not None and d.state != Dept.STATE_ANSWERED:
            liaison = _contact(info.liaison)
        rows.append({
            "department": d.department, "name": department_name(request, d.department, known),
            "state": d.state, "word": word, "css": css, "reason": reason,
            "withheld": withheld, "deadline": _date(d.deadline) if d.HasField("deadline")
            else "", "overdue": d.overdue, "offline": d.offline or (
                info is not None and not info.online),
            "liaison": liaison,
            "leader": _contact(d.leader) if d.HasField("leader") else "",
            "attempts": d.attempts, "updated_at": d.updated_at,
            "waiting": d.state != Dept.STATE_ANSWERED,
        })
    return rows


def _running(request: Request) -> dict[str, Future]:
    state = request.app.state
    if getattr(state, "case_runs", None) is None:
        state.case_runs = {}
    return state.case_runs


def pending(request: Request, case: case_pb2.Case) -> bool:
    """Whether the page should keep asking: a verification is running for it."""
    run = _running(request).get(case.case_id)
    return (run is not None and not run.done()) or case.state == State.CASE_STATE_QUERYING


def actions(request: Request, case: case_pb2.Case) -> dict[str, bool]:
    """Which buttons to offer; the gateway still decides (role, scope, same person)."""
    me = web.me(request)
    state = case.state
    busy = pending(request, case)
    return {
        "verify": me.has("verifier") and state in VERIFY_STATES and not busy,
        "retry": me.has("verifier") and state in RETRY_STATES and not busy,
        "cancel": me.has("verifier", "intake-clerk") and state not in FINAL_STATES
        and not busy,
        "review": me.has("reviewer") and state == State.CASE_STATE_AWAITING_REVIEW,
        "report": state == State.CASE_STATE_DECIDED,
    }


def case_context(request: Request, case: case_pb2.Case) -> dict[str, Any]:
    state_word, state_css = words.state_word(case.state)
    return {
        "case": case, "members": [mask_member(m) for m in case.members],
        "relations": words.RELATIONS, "departments": department_rows(request, case),
        "state_word": state_word, "state_css": state_css,
        "outcome_word": words.OUTCOMES.get(case.outcome, "") if case.outcome else "",
        "programme_word": words.programme_word(case.programme),
        "application_date": _date(case.application_date)
        if case.HasField("application_date") else "",
        "pending": pending(request, case), "poll_seconds": POLL_SECONDS,
        "returned": case.state == State.CASE_STATE_RETURNED,
        "awaiting_review": State.CASE_STATE_AWAITING_REVIEW,
        "can": actions(request, case),
    }


def history(request: Request, case_id: str) -> dict[str, Any]:
    """The case's events, or why they cannot be shown (an older gateway: UNIMPLEMENTED)."""
    try:
        answer = web.call(request, "GetCaseHistory",
                          case_pb2.GetCaseHistoryRequest(case_id=case_id))
    except Refused as err:
        if err.code == grpc.StatusCode.UNIMPLEMENTED:
            note = web.gettext(request, N_("本网关暂不提供办理记录。"))
        else:
            note = web.refused_words(request, err)
        return {"events": [], "history_note": note}
    known = directory(request)
    events = [{
        "at": e.at, "what": words.EVENTS.get(e.kind, e.kind), "kind": e.kind,
        "who": e.staff_name or e.staff_id, "staff_id": e.staff_id, "role": e.role,
        "department": department_name(request, e.department, known) if e.department else "",
        "outcome": words.EVENT_OUTCOMES.get(e.outcome, e.outcome), "reason": e.reason,
    } for e in answer.events]
    return {"events": events, "history_note": ""}


# ---------------------------------------------------------------- pages

def _case_id(request: Request) -> str | None:
    case_id = request.path_params["case_id"]
    return case_id if CASE_ID.fullmatch(case_id) else None


def _quiet(err: Refused) -> Refused:
    """A refusal for scope without its detail, which describes the case (also where
    the case page shows refusals itself, not through ``web.refused``)."""
    return Refused(err.code, err.reason, "") if err.reason in web.PRIVATE_DETAIL else err


def _call(request: Request, method: str, message: Any) -> Any:
    try:
        return web.call(request, method, message)
    except Refused as err:
        raise _quiet(err) from None


def _get(request: Request, case_id: str) -> case_pb2.Case:
    return _call(request, "GetCase", case_pb2.GetCaseRequest(case_id=case_id))


def _not_found(request: Request) -> HTMLResponse:
    return web.problem(request, web.gettext(request, N_("找不到该案件。")), status_code=404)


def _page(request: Request, case_id: str, *, error: Refused | None = None) -> HTMLResponse:
    """The whole case page; ``error``: a refusal to show above it."""
    try:
        case = _get(request, case_id)
    except Refused as err:
        return web.refused(request, err)
    # after the case, not beside it: a case refused must not log a second refusal
    context = {**case_context(request, case), **history(request, case_id)}
    if error is not None:
        return web.refused(request, error, template="case.html", **context)
    return web.render(request, "case.html", **context)


def case_page(request: Request) -> HTMLResponse:
    case_id = _case_id(request)
    if case_id is None:
        return _not_found(request)
    return _page(request, case_id)


def case_status(request: Request) -> Response:
    """The fragment htmx polls: while a verification runs, the departments as they
    stand; once it is over, a reload of the page (or the refusal that ended it)."""
    case_id = _case_id(request)
    if case_id is None:
        return _not_found(request)
    runs = _running(request)
    run = runs.get(case_id)
    if run is not None and not run.done() and request.query_params.get("polling"):
        # the gateway stores the departments' answers when the run ends: asking it now
        # would show nothing new and write a CASE_VIEWED entry every few seconds
        return Response(status_code=204)
    if run is not None and run.done():
        runs.pop(case_id, None)
        err = run.exception()
        if isinstance(err, Refused):  # htmx swaps only a 200: the refusal in its place
            return web.refused(request, _quiet(err), status_code=200)
    try:
        case = _get(request, case_id)
    except Refused as err:
        return web.refused(request, err, status_code=200)
    context = case_context(request, case)
    if not context["pending"] and request.query_params.get("polling"):
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return web.render(request, "case_status.html", **context)


def _verification(request: Request, case_id: str, method: str) -> Future:
    gw = request.app.state.gateway
    message = (case_pb2.VerifyCaseRequest if method == "VerifyCase"
               else case_pb2.RetryCaseRequest)(case_id=case_id)
    staff_id = web.me(request).staff_id
    return _RUNS.submit(gw.call, getattr(gw.cases, method), message, staff_id=staff_id,
                        timeout=VERIFY_TIMEOUT)


def _start(request: Request, case_id: str, method: str) -> Response:
    """Start a verification; wait a moment for it, else let the page poll for it."""
    runs = _running(request)
    run = runs.get(case_id)
    if run is None or run.done():
        for done in [k for k, f in runs.items() if f.done()][:-KEPT_RUNS]:
            runs.pop(done, None)  # ended runs whose page was never polled again
        run = runs[case_id] = _verification(request, case_id, method)
    try:
        run.result(timeout=WAIT_SECONDS)
    except FutureTimeout:
        return web.redirect(f"/cases/{case_id}")
    except Refused as err:
        runs.pop(case_id, None)
        return _page(request, case_id, error=_quiet(err))
    runs.pop(case_id, None)
    return web.redirect(f"/cases/{case_id}")


def verify(request: Request) -> Response:
    case_id = _case_id(request)
    return _not_found(request) if case_id is None else _start(request, case_id, "VerifyCase")


def retry(request: Request) -> Response:
    case_id = _case_id(request)
    return _not_found(request) if case_id is None else _start(request, case_id, "RetryCase")


def _act(request: Request, case_id: str, method: str, message: Any) -> Response:
    try:
        _call(request, method, message)
    except Refused as err:
        return _page(request, case_id, error=err)
    return web.redirect(f"/cases/{case_id}")


async def cancel(request: Request) -> Response:
    case_id = _case_id(request)
    if case_id is None:
        return _not_found(request)
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    return await run_in_threadpool(_act, request, case_id, "CancelCase",
                                   case_pb2.CancelCaseRequest(case_id=case_id, reason=reason))


VERDICTS = {"approve": case_pb2.ReviewCaseRequest.VERDICT_APPROVE,
            "return": case_pb2.ReviewCaseRequest.VERDICT_RETURN}


async def review(request: Request) -> Response:
    case_id = _case_id(request)
    if case_id is None:
        return _not_found(request)
    form = await request.form()
    verdict = VERDICTS.get(str(form.get("verdict", "")))
    if verdict is None:
        return web.problem(request, web.gettext(request, N_("请选择审核结论。")))
    message = case_pb2.ReviewCaseRequest(case_id=case_id, verdict=verdict,
                                         reason=str(form.get("reason", "")).strip())
    return await run_in_threadpool(_act, request, case_id, "ReviewCase", message)


# ---------------------------------------------------------------- the report

def _envelope(request: Request, case_id: str) -> Any:
    return _call(request, "GetReport", case_pb2.GetReportRequest(case_id=case_id))


def report_page(request: Request) -> HTMLResponse:
    case_id = _case_id(request)
    if case_id is None:
        return _not_found(request)
    try:
        envelope = _envelope(request, case_id)
    except Refused as err:
        return web.refused(request, err)
    return web.render(request, "case_report.html", **report_context(request, envelope))


def report_envelope(request: Request) -> Response:
    """The signed report as the CLI writes it (``hedui report verify`` checks it)."""
    case_id = _case_id(request)
    if case_id is None:
        return _not_found(request)
    try:
        envelope = _envelope(request, case_id)
    except Refused as err:
        return web.refused(request, err)
    return Response(envelope.SerializeToString(), media_type="application/octet-stream",
                    headers={"Content-Disposition":
                             f'attachment; filename="{case_id}.report.dsse"'})


def report_file(request: Request) -> Response:
    """The report as one standalone HTML file (its style inside: it is opened offline)."""
    case_id = _case_id(request)
    if case_id is None:
        return _not_found(request)
    try:
        envelope = _envelope(request, case_id)
    except Refused as err:
        return web.refused(request, err)
    page = web.render(request, "case_report_file.html", report_css=REPORT_CSS.read_text(
        encoding="utf-8"), **report_context(request, envelope))
    return Response(page.body, media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="{case_id}.report.html"'})


routes = [
    Route("/cases/{case_id}", case_page, methods=["GET"]),
    Route("/cases/{case_id}/status", case_status, methods=["GET"]),
    Route("/cases/{case_id}/verify", verify, methods=["POST"]),
    Route("/cases/{case_id}/retry", retry, methods=["POST"]),
    Route("/cases/{case_id}/cancel", cancel, methods=["POST"]),
    Route("/cases/{case_id}/review", review, methods=["POST"]),
    Route("/cases/{case_id}/report", report_page, methods=["GET"]),
    Route("/cases/{case_id}/report.dsse", report_envelope, methods=["GET"]),
    Route("/cases/{case_id}/report.html", report_file, methods=["GET"]),
]

"""My work (我的待办): the signed-in person's cases by state, the departments waiting and
overdue, and what needs attention.

The gateway scopes every list (a township clerk sees their township's cases, a verifier
their programmes'); the page only chooses which states to show first for the person's
roles — a reviewer the cases awaiting review, a verifier those returned or incomplete.
The counts come from ``GetStatistics`` (counts only: no case is read, nothing personal
is logged for them); the lists from ``ListCases``, a few cases a state. The gateway's
calls are made side by side, so the page costs the slowest of them, not their sum.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from hedui.console import web, words
from hedui.console.gateway import Refused
from hedui.console.pages.case import department_name, directory
from hedui.console.words import N_
from hedui.gateway.masking import mask_member
from hedui.v1 import case_pb2, office_pb2
from hedui.v1 import reverification_pb2 as rv

State = case_pb2.CaseState
Dept = case_pb2.DepartmentStatus
#: cases shown per state (the search page lists them all)
PER_STATE = 10
OVERDUE_SHOWN = 30
_CALLS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="work")

#: the states each role works on, most urgent first
ROLE_STATES: dict[str, tuple[int, ...]] = {
    "reviewer": (State.CASE_STATE_AWAITING_REVIEW,),
    "verifier": (State.CASE_STATE_RETURNED, State.CASE_STATE_INCOMPLETE,
                 State.CASE_STATE_OPEN, State.CASE_STATE_AWAITING_OFFLINE_ANSWER,
                 State.CASE_STATE_QUERYING, State.CASE_STATE_AWAITING_REVIEW),
    "intake-clerk": (State.CASE_STATE_OPEN, State.CASE_STATE_RETURNED,
                     State.CASE_STATE_INCOMPLETE, State.CASE_STATE_AWAITING_OFFLINE_ANSWER,
                     State.CASE_STATE_QUERYING, State.CASE_STATE_AWAITING_REVIEW,
                     State.CASE_STATE_DECIDED),
}
#: the statistics' word for a case's state (a decided case is counted by its outcome)
STATE_WORDS: dict[str, int] = {
    "open": State.CASE_STATE_OPEN, "querying": State.CASE_STATE_QUERYING,
    "incomplete": State.CASE_STATE_INCOMPLETE,
    "awaiting_offline_answer": State.CASE_STATE_AWAITING_OFFLINE_ANSWER,
    "awaiting_review": State.CASE_STATE_AWAITING_REVIEW,
    "returned": State.CASE_STATE_RETURNED, "cancelled": State.CASE_STATE_CANCELLED,
    "eligible": State.CASE_STATE_DECIDED, "ineligible": State.CASE_STATE_DECIDED,
    "needs_manual_review": State.CASE_STATE_DECIDED,
}
#: the change alerts' grades, as My work counts them
ALERT_GRADES = {"red": N_("红色预警"), "orange": N_("橙色预警"), "yellow": N_("黄色预警")}
#: counts worth a red card
URGENT = (State.CASE_STATE_RETURNED, State.CASE_STATE_INCOMPLETE)


@dataclass(frozen=True)
class Alert:
    """Something that needs a person: its words, a link, how urgent (css)."""

    text: str
    case_id: str = ""
    detail: str = ""
    level: str = "orange"


def states_for(me: web.Me) -> list[int]:
    """The person's states in order: a reviewer's first, then a verifier's, a clerk's."""
    out: list[int] = []
    for role in ("reviewer", "verifier", "intake-clerk"):
        if me.has(role):
            out += [s for s in ROLE_STATES[role] if s not in out]
    return out


def _list(request: Request, state: int = 0, *, overdue: bool = False,
          size: int = PER_STATE) -> case_pb2.ListCasesResponse | Refused:
    try:
        return web.call(request, "ListCases", case_pb2.ListCasesRequest(
            state=state, overdue_only=overdue, page_size=size))
    except Refused as err:
        return err


def _counts(request: Request) -> dict[int, int] | None:
    """Cases per state within the person's scope; None when statistics are refused."""
    try:
        stats = web.call(request, "GetStatistics",
                         office_pb2.GetStatisticsRequest(counts_only=True), service="office")
    except Refused:
        return None
    counts: dict[int, int] = {}
    for c in stats.counts:
        state = STATE_WORDS.get(c.outcome)
        if state is not None:
            counts[state] = counts.get(state, 0) + c.cases
    return counts


def alert_counts(request: Request) -> dict[str, Any] | None:
    """Open change alerts per grade in the person's scope (动态监测); None when the
    gateway refuses (a role that may not view alerts) or none is open."""
    try:
        found = web.call(request, "CountAlerts", rv.AlertCountsRequest(), service="reverify")
    except Refused:
        return None
    totals = {g: sum(getattr(t, g) for t in found.townships) for g in ALERT_GRADES}
    if not any(totals.values()):
        return None
    return {"grades": [{"grade": g, "word": word, "n": totals[g]}
                       for g, word in ALERT_GRADES.items()],
            "overdue": sum(t.overdue for t in found.townships)}


def row(request: Request, case: case_pb2.Case) -> dict[str, Any]:
    """One case as a line of a list (members masked, whatever the gateway sent)."""
    applicant = next((m for m in case.members if m.relation == 1),
                     case.members[0] if case.members else None)
    waiting = [d for d in case.departments if d.state != Dept.STATE_ANSWERED]
    return {
        "case_id": case.case_id, "programme": words.programme_word(case.programme),
        "township": case.township, "applicant": mask_member(applicant).name
        if applicant else "", "persons": len(case.members), "created_at": case.created_at,
        "waiting": len(waiting), "overdue": sum(1 for d in waiting if d.overdue),
        "state_reason": case.state_reason,
    }


def overdue_rows(request: Request, cases: list[case_pb2.Case]) -> list[dict[str, Any]]:
    """Each department overdue on a case, with whom to call about it."""
    known = directory(request)
    rows = []
    for case in cases:
        for d in case.departments:
            if not d.overdue:
                continue
            info = known.get(d.department)
            liaison = d.liaison if d.HasField("liaison") and d.liaison.name else (
                info.liaison if info is not None else None)
            rows.append({
                "case_id": case.case_id, "department": department_name(
                    request, d.department, known),
                "state": words.DEPARTMENT_STATES.get(d.state, ("", ""))[0],
                "deadline": f"{d.deadline.year:04d}-{d.deadline.month:02d}-"
                            f"{d.deadline.day:02d}" if d.HasField("deadline") else "",
                "liaison": liaison.name if liaison is not None else "",
                "phone": liaison.phone if liaison is not None else "",
                "offline": d.offline,
            })
    return rows


def alerts(request: Request, listed: dict[int, list[case_pb2.Case]],
           known: dict[str, office_pb2.DepartmentInfo]) -> list[Alert]:
    """Returned cases, departments that failed, departments out of reach."""
    def g(message: str) -> str:
        return web.gettext(request, message)

    out: list[Alert] = []
    for case in listed.get(State.CASE_STATE_RETURNED, []):
        out.append(Alert(g(N_("审核退回，需重新核对")), case.case_id, case.state_reason, "red"))
    for case in listed.get(State.CASE_STATE_INCOMPLETE, []):
        failed = [department_name(request, d.department, known) for d in case.departments
                  if d.state == Dept.STATE_FAILED]
        if failed:
            out.append(Alert(g(N_("部门查询失败，可重新核对")), case.case_id, "、".join(failed)))
        elif case.state_reason:
            out.append(Alert(g(N_("各部门已答复，但无法完成认定")), case.case_id,
                             case.state_reason))
    for info in known.values():
        if info.unavailable:
            out.append(Alert(g(N_("部门暂时连不上（近期多次通信失败）")),
                             detail=department_name(request, info.department, known)))
    return out


def my_work(request: Request) -> HTMLResponse:
    me = web.me(request)
    if not me.has(*web.CASE_ROLES):
        return web.render(request, "work.html", case_staff=False, cards=[], sections=[],
                          overdue=[], alerts=[], problems=[], change_alerts=None)
    states = states_for(me)
    lists = {s: _CALLS.submit(_list, request, s) for s in states}
    if me.has("reviewer") and not me.has("verifier", "intake-clerk"):
        lists.setdefault(State.CASE_STATE_DECIDED, _CALLS.submit(_list, request,
                                                                 State.CASE_STATE_DECIDED))
    overdue_call = _CALLS.submit(_list, request, overdue=True, size=OVERDUE_SHOWN)
    counts_call = _CALLS.submit(_counts, request)
    known_call = _CALLS.submit(directory, request)
    alerts_call = _CALLS.submit(alert_counts, request)
    listed: dict[int, list[case_pb2.Case]] = {}
    more: dict[int, bool] = {}
    problems: list[str] = []
    for state, call in lists.items():
        answer = call.result()
        if isinstance(answer, Refused):
            problems.append(web.refused_words(request, answer))
            continue
        listed[state] = list(answer.cases)
        more[state] = bool(answer.next_page_token)
    overdue_answer = overdue_call.result()
    overdue_cases, overdue_more = [], False
    if not isinstance(overdue_answer, Refused):
        overdue_cases = list(overdue_answer.cases)
        overdue_more = bool(overdue_answer.next_page_token)
    counts = counts_call.result()
    known = known_call.result()
    cards, sections = [], []
    for state in lists:
        word, css = words.state_word(state)
        shown = listed.get(state, [])
        if counts is not None:
            n: int | str = counts.get(state, 0)
        else:
            n = f"{len(shown)}+" if more.get(state) else len(shown)
        cards.append({"state": state, "word": word, "css": css, "n": n,
                      "urgent": state in URGENT and bool(shown),
                      "anchor": f"state-{state}" if shown else ""})
        sections.append({"state": state, "word": word, "css": css, "more": more.get(state),
                         "cases": [row(request, c) for c in shown]})
    cards.append({"state": "overdue", "word": N_("部门反馈超时"), "css": "red",
                  "n": f"{len(overdue_cases)}+" if overdue_more else len(overdue_cases),
                  "urgent": bool(overdue_cases), "anchor": "overdue"})
    return web.render(request, "work.html", case_staff=True, cards=cards, sections=sections,
                      overdue=overdue_rows(request, overdue_cases),
                      alerts=alerts(request, listed, known), problems=sorted(set(problems)),
                      change_alerts=alerts_call.result())


routes = [Route("/", my_work, methods=["GET"])]

"""查询: finding cases by a member's name or ID number, the case id, dates, state,
programme and township.

The form is a POST, never a GET: an ID number or a name typed here must not end up in
a URL, the browser's history, a proxy's or the console's access log. The gateway's
``SearchCases`` does the finding (through keyed digests) and logs each search; the
console only checks what it can check without the gateway (an ID number's form, a
date) so a typo gets its answer at once. Paging resubmits the same form (POST) with
the gateway's page token.

The words for programmes, case states and outcomes are ``console/words.py``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hedui import resident_id
from hedui.console import web, words
from hedui.console.gateway import Refused
from hedui.gateway.masking import mask_id_number, mask_name
from hedui.v1 import case_pb2, common_pb2, records_pb2

#: programme code → its name on the page (an unknown code is shown as it is)
PROGRAMMES = words.PROGRAMMES
STATES = words.STATE_NAMES
OUTCOMES = words.OUTCOME_NAMES
#: cases per results page: each found case is unsealed, described and logged, so a page
#: of twenty answers quickly; the next page is a button away
PAGE_SIZE = 20
UNIMPLEMENTED = "查询功能正在开通，请稍后再试；可先在“我的待办”中查看案件。"


def programme_words(code: str) -> str:
    return PROGRAMMES.get(code, code)


def state_words(state: int | str) -> str:
    name = state if isinstance(state, str) else case_pb2.CaseState.Name(state)
    return STATES.get(name, name)


def parse_date(text: str) -> common_pb2.Date | None:
    """``YYYY-MM-DD`` (an ``<input type=date>``) as a Date; None when empty. ValueError
    when it is not a date."""
    text = text.strip()
    if not text:
        return None
    d = dt.date.fromisoformat(text)
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


@dataclass
class Query:
    """The form as typed, kept to fill it in again (the page, not a URL)."""

    name: str = ""
    id_number: str = ""
    case_id: str = ""
    opened_from: str = ""
    opened_until: str = ""
    state: str = ""
    programme: str = ""
    township: str = ""
    page_token: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: dict) -> Query:
        return cls(**{k: str(form.get(k, "")).strip() for k in (
            "name", "id_number", "case_id", "opened_from", "opened_until", "state",
            "programme", "township", "page_token")})

    def request(self) -> case_pb2.SearchCasesRequest:
        """The gateway's request; what cannot be right is in ``problems`` (Chinese)."""
        r = case_pb2.SearchCasesRequest(name="".join(self.name.split()), case_id=self.case_id,
                                        programme=self.programme, township=self.township,
                                        page_size=PAGE_SIZE, page_token=self.page_token)
        if self.id_number:
            try:
                r.id_number = resident_id.normalize(self.id_number)
            except resident_id.InvalidIdNumber:
                self.problems.append("身份证号码不正确（位数、出生日期或校验码有误）。")
        for name in ("opened_from", "opened_until"):
            try:
                d = parse_date(getattr(self, name))
            except ValueError:
                self.problems.append("日期应为“年-月-日”，例如 2026-11-15。")
                continue
            if d is not None:
                getattr(r, name).CopyFrom(d)
        if self.state:
            if self.state not in STATES:
                self.problems.append("请选择案件状态。")
            else:
                r.state = case_pb2.CaseState.Value(self.state)
        if self.township and not (self.township.isdigit() and len(self.township) == 9):
            self.problems.append("乡镇（街道）代码应为9位数字。")
        if not any((r.name, r.id_number, r.case_id, r.programme, r.township, r.state,
                    r.HasField("opened_from"), r.HasField("opened_until"))) and not (
                self.problems):
            self.problems.append("请至少填写一个查询条件。")
        return r


@dataclass(frozen=True)
class Row:
    """One case as the results table shows it (the applicant masked)."""

    case_id: str
    applicant: str
    applicant_id: str
    members: int
    programme: str
    township: str
    state: str
    outcome: str
    opened: str
    application_date: str


def _row(case: case_pb2.Case) -> Row:
    applicant = next((m for m in case.members if m.relation == records_pb2.RELATION_SELF),
                     case.members[0] if case.members else None)
    d = case.application_date
    return Row(
        case_id=case.case_id,
        applicant=mask_name(applicant.name) if applicant else "",
        applicant_id=mask_id_number(applicant.id_number) if applicant else "",
        members=len(case.members), programme=programme_words(case.programme),
        township=case.township, state=state_words(case.state),
        outcome=OUTCOMES.get(case_pb2.Outcome.Name(case.outcome), "") if case.outcome else "",
        opened=web.local_time(case.created_at, "%Y-%m-%d"),
        application_date=f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else "")


def _choices(request: Request) -> dict:
    person = web.me(request)
    programmes = person.programmes or tuple(PROGRAMMES)
    return {"programmes": [(p, programme_words(p)) for p in programmes],
            "states": list(STATES.items()), "townships": person.townships}


def _allowed(request: Request) -> bool:
    return web.me(request).has(*web.CASE_ROLES)


def _not_allowed(request: Request) -> Response:
    return web.problem(request, web.gettext(request, "您的岗位无权进行此操作。"),
                       status_code=403)


#: filters a link may carry (nothing personal: "see all" from My work)
LINK_FILTERS = ("state", "programme", "township")


def search_form(request: Request) -> Response:
    if not _allowed(request):
        return _not_allowed(request)
    linked = {k: request.query_params.get(k, "").strip() for k in LINK_FILTERS}
    if linked["state"].isdigit() and int(linked["state"]) in case_pb2.CaseState.values():
        linked["state"] = case_pb2.CaseState.Name(int(linked["state"]))
    if any(linked.values()):
        return _search(request, Query(**linked))
    return web.render(request, "search.html", q=Query(), rows=None, next_token="",
                      message="", notice="", **_choices(request))


async def search(request: Request) -> Response:
    if not _allowed(request):
        return _not_allowed(request)
    q = Query.from_form(dict(await request.form()))
    return await run_in_threadpool(_search, request, q)


def _search(request: Request, q: Query) -> Response:
    message = notice = ""
    rows: list[Row] | None = None
    next_token = ""
    status = 200
    msg = q.request()
    if q.problems:
        message = "".join(web.gettext(request, p) for p in q.problems)
        status = 400
    else:
        try:
            found = web.call(request, "SearchCases", msg)
        except Refused as err:
            if err.code.name == "UNIMPLEMENTED":
                notice = web.gettext(request, UNIMPLEMENTED)
                status = 503
            else:
                message = web.refused_words(request, err)
                status = (403 if err.code.name == "PERMISSION_DENIED" else
                          503 if err.reason == "UNAVAILABLE" else 400)
        else:
            rows = [_row(c) for c in found.cases]
            next_token = found.next_page_token
    return web.render(request, "search.html", status_code=status, q=q, rows=rows,
                      next_token=next_token, message=message, notice=notice,
                      **_choices(request))


routes = [
    Route("/search", search_form, methods=["GET"]),
    Route("/search", search, methods=["POST"]),
]

"""新建案件 (/cases/new): a household's application typed in, its authorization with the
scanned document, then the case opened and verified.

The form checks what it can as the clerk types (each ID number, with
``hedui.resident_id`` — the one validation the gateway and agents use too), and again on
submit, so a mistake is said in Chinese next to its field and everything typed stays.
The gateway decides the rest (scope, standards, the authorization's cover) and its
refusals land next to the field they concern. On success: ``RegisterAuthorization``
(already registered is fine: the household signed once), ``OpenCase`` (idempotent per
form, so a double click opens one case), ``VerifyCase`` when the person is a verifier,
then the case page. The scan is kept sealed by ``documents.py``; the gateway gets its
SHA-256.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hedui import china_time
from hedui.console import web
from hedui.console.documents import MAX_BYTES, DocumentProblem, DocumentStore
from hedui.console.gateway import Refused
from hedui.console.intake import (
    MAX_NAME,
    N_,
    PROGRAMME_CODE,
    PROGRAMMES,
    RELATIONS,
    Gettext,
    digits,
    household_problem,
    id_problem,
    parse_day,
    pb_date,
    relation_of,
    same,
)
from hedui.keys.secrets import load_secret
from hedui.resident_id import normalize
from hedui.v1 import case_pb2, common_pb2, office_pb2

#: who may open a case here (NAV says the same)
ROLES = ("intake-clerk", "verifier")
#: how long the submit waits for the verification before the case page shows it running
WAIT_SECONDS = 2.5
VERIFY_TIMEOUT = 180.0

#: a gateway refusal → the form field it is about ("" : the top of the form)
REASON_FIELD = {
    "UNKNOWN_PROGRAMME": "programme", "NOT_A_SOCIAL_ASSISTANCE_PURPOSE": "programme",
    "NO_STANDARD_IN_FORCE": "programme", "NO_EXCHANGE_POLICY": "programme",
    "BAD_REGION": "region", "BAD_TOWNSHIP": "township", "OUTSIDE_SCOPE": "township",
    "BAD_APPLICATION_DATE": "application_date", "SAME_HOUSEHOLD_RECENT": "repeat_reason",
    "REASON_HAS_PERSONAL_DATA": "repeat_reason", "BAD_AUTHORIZATION": "auth_number",
    "BAD_AUTHORIZATION_NUMBER": "auth_number", "AUTHORIZATION_NOT_FOUND": "auth_number",
    "AUTHORIZATION_REVOKED": "auth_number", "AUTHORIZATION_EXPIRED": "valid_until",
    "AUTHORIZATION_NOT_YET_VALID": "valid_from",
    "AUTHORIZATION_WRONG_PROGRAMME": "auth_number", "MEMBER_NOT_COVERED": "members",
    "MALFORMED_ID_NUMBER": "members", "BAD_NAME": "members", "BAD_RELATION": "members",
    "DUPLICATE_MEMBER": "members", "ONE_APPLICANT_REQUIRED": "members",
    "HOUSEHOLD_SIZE": "members",
}

_KEY = re.compile(r"m_([a-z0-9]{1,12})_(name|id|relation)")
_AUTH_NUMBER = re.compile(r"[A-Za-z0-9._/-]{1,64}")


# ------------------------------------------------------------ the form

@dataclass
class MemberRow:
    key: str
    name: str = ""
    id_number: str = ""
    relation: str = ""


@dataclass
class Form:
    """What the clerk typed, kept whole to show again; ``errors`` by field id."""

    request_id: str
    members: list[MemberRow]
    programme: str = ""
    township: str = ""
    region: str = ""
    application_date: str = ""
    auth_number: str = ""
    signed_on: str = ""
    valid_from: str = ""
    valid_until: str = ""
    document_sha256: str = ""
    document_kind: str = ""
    repeat_reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def new_key() -> str:
    return secrets.token_hex(4)


def blank(request: Request) -> Form:
    today = china_time.today().isoformat()
    person = web.me(request)
    return Form(request_id="form-" + secrets.token_urlsafe(15),
                members=[MemberRow(new_key(), relation="self")],
                township=person.townships[0] if len(person.townships) == 1 else "",
                application_date=today, signed_on=today, valid_from=today,
                valid_until=(china_time.today() + dt.timedelta(days=364)).isoformat())


def read_form(data: FormData) -> Form:
    rows: dict[str, MemberRow] = {}
    for name, value in data.multi_items():
        m = _KEY.fullmatch(name)
        if m is None or not isinstance(value, str):
            continue
        row = rows.setdefault(m.group(1), MemberRow(m.group(1)))
        setattr(row, {"id": "id_number"}.get(m.group(2), m.group(2)), value.strip())
    text = {k: str(v).strip() for k, v in data.items() if isinstance(v, str)}
    members = [r for r in rows.values() if r.name or r.id_number] or [MemberRow(new_key(),
                                                                          relation="self")]
    request_id = text.get("request_id", "")
    if not re.fullmatch(r"form-[A-Za-z0-9_-]{10,40}", request_id):
        request_id = "form-" + secrets.token_urlsafe(15)
    return Form(request_id=request_id, members=members,
                **{k: text.get(k, "") for k in (
                    "programme", "township", "region", "application_date", "auth_number",
                    "signed_on", "valid_from", "valid_until", "document_sha256",
                    "document_kind", "repeat_reason")})


@dataclass
class Checked:
    members: list[case_pb2.Member]
    application_date: dt.date
    signed_on: dt.date
    valid_from: dt.date
    valid_until: dt.date


def check(form: Form, t: Gettext = same) -> Checked | None:
    """Every rule the console can check itself; errors (in words) go into
    ``form.errors``."""
    e = _Errors(form.errors, t)
    members = []
    for row in form.members:
        where = f"m-{row.key}"
        if not row.name:
            e[f"{where}-name"] = N_("请填写姓名。")
        elif len(row.name) > MAX_NAME or not row.name.isprintable():
            form.errors[f"{where}-name"] = t(N_("姓名最多 {n} 个字，且不能含特殊字符。")).format(
                n=MAX_NAME)
        problem = id_problem(row.id_number, t) if row.id_number else t(N_("请填写身份证号码。"))
        if problem:
            form.errors[f"{where}-id"] = problem
        relation = relation_of(row.relation)
        if relation is None:
            e[f"{where}-relation"] = N_("请选择与申请人的关系。")
        if not problem and relation is not None:
            members.append(case_pb2.Member(id_number=normalize(row.id_number), name=row.name,
                                           relation=relation))
    if len(members) == len(form.members):
        whole = household_problem(members, t)
        if whole:
            form.errors["members"] = whole
    if not PROGRAMME_CODE.fullmatch(form.programme):  # which ones: the gateway says
        e["programme"] = N_("请选择救助项目。")
    form.township = digits(form.township)
    if form.township and not re.fullmatch(r"[0-9]{9}", form.township):
        e["township"] = N_("乡镇（街道）代码应为9位数字。")
    form.region = digits(form.region)
    if not re.fullmatch(r"[1-9][0-9]{5}", form.region):
        e["region"] = N_("行政区划代码应为6位数字，例如 310000。")
    today = china_time.today()
    applied = parse_day(form.application_date)
    if applied is None:
        e["application_date"] = N_("请填写申请日期（年-月-日）。")
    elif applied > today:
        e["application_date"] = N_("申请日期不能晚于今天。")
    if not _AUTH_NUMBER.fullmatch(form.auth_number):
        e["auth_number"] = N_("授权书编号由字母、数字和 - . _ / 组成，最多64位。")
    signed = parse_day(form.signed_on)
    if signed is None:
        e["signed_on"] = N_("请填写签署日期。")
    elif signed > today:
        e["signed_on"] = N_("签署日期不能晚于今天。")
    start, end = parse_day(form.valid_from), parse_day(form.valid_until)
    if start is None:
        e["valid_from"] = N_("请填写授权有效期的开始日期。")
    if end is None:
        e["valid_until"] = N_("请填写授权有效期的结束日期。")
    elif start is not None and end < start:
        e["valid_until"] = N_("结束日期不能早于开始日期。")
    if applied and signed and applied < signed and "application_date" not in e:
        e["application_date"] = N_("申请日期不能早于授权书签署日期。")
    if form.errors:
        return None
    assert applied and signed and start and end
    return Checked(members, applied, signed, start, end)


class _Errors:
    """``errors[field] = "中文"`` stores the sentence in the page's language."""

    def __init__(self, errors: dict[str, str], t: Gettext) -> None:
        self.errors, self.t = errors, t

    def __setitem__(self, key: str, message: str) -> None:
        self.errors[key] = self.t(message)

    def __contains__(self, key: str) -> bool:
        return key in self.errors


# ------------------------------------------------------------ gateway calls

def documents(request: Request) -> DocumentStore:
    """The console's document store (one per app, keyed from ``[keys] secrets``)."""
    state = request.app.state
    store = getattr(state, "documents", None)
    if store is None:
        config = state.config
        store = state.documents = DocumentStore(config.documents,
                                                load_secret(config.secrets_key))
    return store


def choices(request: Request) -> tuple[list[tuple[str, str]], list[str]]:
    """(programme, name) with a standard the gateway holds, and their regions; every
    programme when the gateway cannot say."""
    try:
        reply = web.call(request, "ListStandards", office_pb2.ListStandardsRequest(),
                         service="office")
    except Refused:
        return [(p, n) for p, n in PROGRAMMES.items()], []
    titles = {s.programme: s.title for s in reply.standards if s.in_force}
    if not titles:
        return [(p, n) for p, n in PROGRAMMES.items()], []
    regions = sorted({s.region for s in reply.standards})
    # the gateway's programmes (its bundle's policies with a standard in force): a
    # programme the county designates appears by its standard's title, no code change
    known = [(p, n) for p, n in PROGRAMMES.items() if p in titles]
    return known + sorted((p, t) for p, t in titles.items() if p not in PROGRAMMES), regions


def submit(request: Request, form: Form, checked: Checked) -> str | None:
    """Register, open, verify; the case id, or None with the refusal in ``form.errors``."""
    auth = case_pb2.Authorization(
        number=form.auth_number, programme=form.programme,
        covered_id_numbers=[m.id_number for m in checked.members],
        signed_on=pb_date(checked.signed_on),
        validity=common_pb2.Period(start=pb_date(checked.valid_from),
                                   end=pb_date(checked.valid_until)),
        document_sha256=form.document_sha256)
    opening = case_pb2.OpenCaseRequest(
        programme=form.programme, region=form.region, members=checked.members,
        authorization_number=form.auth_number, request_id=form.request_id,
        application_date=pb_date(checked.application_date), township=form.township,
        repeat_reason=form.repeat_reason)
    try:
        try:
            web.call(request, "RegisterAuthorization",
                     case_pb2.RegisterAuthorizationRequest(authorization=auth))
        except Refused as err:
            if err.reason != "AUTHORIZATION_ALREADY_REGISTERED":
                raise
        case = web.call(request, "OpenCase", opening)
    except Refused as err:
        form.errors[REASON_FIELD.get(err.reason, "")] = web.refused_words(request, err)
        return None
    if web.me(request).has("verifier") and case.state == case_pb2.CASE_STATE_OPEN:
        verify(request, case.case_id)
    return case.case_id


_VERIFYING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="new-case")


def verify(request: Request, case_id: str) -> None:
    """Start the verification beside the page: registered where the case page looks for
    running verifications (``app.state.case_runs``), so it shows each department as it
    answers; waited for a moment, so a quick one lands on a page already complete. A
    refusal leaves the case open, its page offering 核对 again."""
    gw, staff_id = request.app.state.gateway, web.me(request).staff_id
    run = _VERIFYING.submit(gw.call, gw.cases.VerifyCase,
                            case_pb2.VerifyCaseRequest(case_id=case_id), staff_id=staff_id,
                            timeout=VERIFY_TIMEOUT)
    state = request.app.state
    if getattr(state, "case_runs", None) is None:
        state.case_runs = {}
    state.case_runs[case_id] = run
    with contextlib.suppress(Exception):
        run.result(timeout=WAIT_SECONDS)


# ------------------------------------------------------------ handlers

def _allowed(request: Request) -> Response | None:
    if web.me(request).has(*ROLES):
        return None
    return web.problem(request, web.gettext(request, "只有乡镇经办人员和核对员可以新建案件。"),
                       status_code=403)


def page(request: Request, form: Form, *, status_code: int = 200) -> HTMLResponse:
    programmes, regions = choices(request)
    if not form.region and len(regions) == 1:
        form.region = regions[0]
    return web.render(request, "case_new.html", status_code=status_code, form=form,
                      programmes=programmes, regions=regions, relations=RELATIONS,
                      clerk=len(web.me(request).townships) == 1)


async def new_case_form(request: Request) -> Response:
    refused = _allowed(request)
    if refused:
        return refused
    return await run_in_threadpool(page, request, blank(request))


async def member_row(request: Request) -> Response:
    """One more member's row (the form's 添加家庭成员 button)."""
    return web.render(request, "case_new_member.html", row=MemberRow(new_key()),
                      relations=RELATIONS, errors={})


async def check_id(request: Request) -> Response:
    """The ID number being typed: OK, or what is wrong with it (never echoed back)."""
    data = await request.form()
    value = next((str(v) for k, v in data.multi_items()
                  if isinstance(v, str) and (k == "id_number" or k.endswith("_id"))), "")
    if not value.strip():
        return HTMLResponse("")
    return web.render(request, "case_new_check.html",
                      problem=id_problem(value, _gettext(request)) or "")


def _gettext(request: Request) -> Gettext:
    return lambda message: web.gettext(request, message)


def _keep_document(request: Request, form: Form, upload: object) -> None:
    """The scan uploaded with this request (sealed, its digest into the form), else the
    one kept from an earlier attempt; an error on ``document`` otherwise."""
    store = documents(request)
    if isinstance(upload, UploadFile) and upload.filename:
        data = upload.file.read(MAX_BYTES + 1)
        try:
            doc = store.put(data)
        except DocumentProblem as exc:
            form.errors["document"] = exc.words(_gettext(request))
            form.document_sha256 = form.document_kind = ""
            return
        form.document_sha256, form.document_kind = doc.sha256, doc.kind
        return
    if form.document_sha256 and store.has(form.document_sha256):
        return
    form.document_sha256 = form.document_kind = ""
    form.errors["document"] = web.gettext(request, "请上传授权书扫描件（PDF、JPEG 或 PNG）。")


async def upload_document(request: Request) -> Response:
    """The scan, uploaded as soon as it is chosen: sealed, its SHA-256 shown."""
    refused = _allowed(request)
    if refused:
        return refused
    data = await request.form()
    form = Form(request_id="", members=[])
    await run_in_threadpool(_keep_document, request, form, data.get("document"))
    # 200 either way: htmx swaps only a successful answer into the form
    return web.render(request, "case_new_document.html", form=form)


async def create_case(request: Request) -> Response:
    refused = _allowed(request)
    if refused:
        return refused
    data = await request.form()
    form = read_form(data)
    await run_in_threadpool(_keep_document, request, form, data.get("document"))
    checked = check(form, _gettext(request))
    if checked is None:
        return await run_in_threadpool(page, request, form, status_code=400)
    case_id = await run_in_threadpool(submit, request, form, checked)
    if case_id is None:
        return await run_in_threadpool(page, request, form, status_code=400)
    return web.redirect(f"/cases/{case_id}")


routes = [
    Route("/cases/new", new_case_form, methods=["GET"]),
    Route("/cases/new", create_case, methods=["POST"]),
    Route("/cases/new/member", member_row, methods=["GET"]),
    Route("/cases/new/check-id", check_id, methods=["POST"]),
    Route("/cases/new/document", upload_document, methods=["POST"]),
]

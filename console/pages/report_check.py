"""核验报告 (/reports/check): drop a report file, see whether it is genuine, and why not.

For a reviewer or an appeal body's account holding a report years later. The console
does not judge: it passes the file to the gateway (``OfficeService.CheckReport``), which
checks it as ``hedui report verify`` does — the signature, each department's signed
answer, the audit log's proofs, the figures recomputed under the standard. The file is
read in memory and never kept.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hedui.console import web, words
from hedui.console.gateway import Refused
from hedui.console.words import N_
from hedui.v1 import case_pb2, office_pb2

#: a report file is a few hundred kilobytes; the gateway takes at most 4 MB a message
MAX_BYTES = 3 * 1024 * 1024



#: the gateway's kind of problem → what it means for the reader
PROBLEMS = {
    "SIGNATURE": N_("签名不对：这份报告不是本中心签发的，或签发后被改动过。"),
    "ANSWERS": N_("部门数据对不上：报告所依据的某个部门答复的签名或内容不符。"),
    "AUDIT": N_("审计日志证明不成立：报告中的查询记录与审计日志不符。"),
    "ASSESSMENT": N_("认定结果对不上：按报告中的数据和标准重新计算，结果与报告不同。"),
    "MALFORMED": N_("这不是一份完整的核对报告文件（应为下载的 .dsse 文件）。"),
}


def _page(request: Request, **context: object) -> Response:
    status = int(context.pop("status_code", 200))  # type: ignore[call-overload]
    return web.render(request, "report_check.html", status_code=status,
                      **{"check": None, "message": "", **context})


def form(request: Request) -> Response:
    return _page(request)


async def check(request: Request) -> Response:
    upload = (await request.form()).get("report")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, message=web.gettext(request, "请选择要核验的报告文件。"),
                     status_code=400)
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES or not data:
        return _page(request, message=web.gettext(
            request, "文件为空或太大，不是一份核对报告（报告文件通常不到1 MB）。"),
            status_code=400)
    try:
        result = await run_in_threadpool(
            web.call, request, "CheckReport",
            office_pb2.CheckReportRequest(envelope=data), service="office")
    except Refused as err:
        return web.refused(request, err)
    outcome = dict(case_pb2.Outcome.items()).get(result.outcome, 0)
    return _page(request, check={
        "genuine": result.genuine, "problem": PROBLEMS.get(result.problem_kind, ""),
        "detail": result.problem, "report_id": result.report_id, "case_id": result.case_id,
        "programme": words.PROGRAMMES.get(result.programme, result.programme),
        "outcome": words.OUTCOMES.get(outcome, result.outcome), "issued_at": result.issued_at,
        "answers": result.answers, "audit_entries": result.audit_entries,
        "filename": upload.filename[:120]},
        status_code=200 if result.genuine else 422)


routes = [
    Route("/reports/check", form, methods=["GET"]),
    Route("/reports/check", check, methods=["POST"]),
]

"""批量核对 (/batch): a verifier uploads a list, sees each household's problems before
anything runs, starts it, watches its progress bar (htmx polls a fragment) and downloads
the results sheet and the signed reports.

The list's rules and the run are in ``console/batch_runs.py``; every case is opened and
verified by the gateway as the verifier who started the run. A run is seen only by the
person who started it. Only verifiers (NAV says so): an intake clerk opens cases one by
one.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hedui.console import web
from hedui.console.batch_runs import MAX_UPLOAD, SETTLED, TEMPLATE, BatchRuns, ListProblem, Run
from hedui.console.gateway import Refused
from hedui.console.intake import N_, PROGRAMMES
from hedui.gateway.batch_results import COLUMNS
from hedui.keys.secrets import load_secret
from hedui.v1 import case_pb2

log = structlog.get_logger("hedui.console.batch")
POLL_SECONDS = 2
#: the most households the preview lists (the rest are counted)
PREVIEW_ROWS = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: a record's state → (words, badge class) on the page
STATES = {
    "decided": (N_("已认定"), "green"), "awaiting_review": (N_("待审核"), ""),
    "incomplete": (N_("未完成"), "orange"), "awaiting_offline_answer": (N_("待离线答复"), "yellow"),
    "querying": (N_("核对中"), ""), "open": (N_("已开启"), ""),
    "cancelled": (N_("已撤销"), ""), "returned": (N_("已退回"), "red"),
    "refused": (N_("被拒绝"), "red"), "failed": (N_("行有误"), "red"),
    "interrupted": (N_("中断"), "orange"),
}


def runs(request: Request) -> BatchRuns:
    state = request.app.state
    store = getattr(state, "batch_runs", None)
    if store is None:
        config = state.config
        store = state.batch_runs = BatchRuns(config.state_dir / "batches",
                                             load_secret(config.secrets_key), state.gateway)
    return store


def _gettext(request: Request):
    return lambda message: web.gettext(request, message)


def _verifier(request: Request) -> Response | None:
    if web.me(request).has("verifier"):
        return None
    return web.problem(request, web.gettext(request, "只有核对员可以批量核对。"), status_code=403)


def _run(request: Request) -> Run | None:
    """The run named in the path, when it is the person's own."""
    run = runs(request).get(request.path_params["run_id"])
    if run is None or run.owner != web.me(request).staff_id:
        return None
    return run


def _missing(request: Request) -> HTMLResponse:
    return web.problem(request, web.gettext(request, "没有这个批次。"), status_code=404)


def progress(request: Request, run: Run) -> dict[str, Any]:
    store = runs(request)
    records = store.records(run.run_id)
    states = Counter(r.get("state", "") for r in records.values())
    live = run.status == "running" and store.running(run.run_id)
    unsettled = any(s not in SETTLED for s in states)
    return {
        "run": run, "finished": len(records), "total": run.households, "live": live,
        "interrupted": run.status == "running" and not live,
        # a run that ended with households the gateway could not finish: run them again
        "resumable": not live and run.status != "preview" and (
            run.status == "running" or unsettled),
        "counts": [(STATES.get(s, (s, ""))[0], STATES.get(s, (s, ""))[1], n)
                   for s, n in sorted(states.items())],
        "poll_seconds": POLL_SECONDS,
        "cases": sum(bool(r.get("case_id")) for r in records.values()),
    }


# ---------------------------------------------------------------- pages

def _index(request: Request, *, message: str = "", detail: str = "",
           status_code: int = 200, programme: str = "", region: str = "") -> HTMLResponse:
    mine = runs(request).of(web.me(request).staff_id)
    return web.render(request, "batch.html", status_code=status_code, runs=mine[:30],
                      message=message, detail=detail, programmes=list(PROGRAMMES.items()),
                      programme=programme, region=region, max_mb=MAX_UPLOAD // 1048576)


async def batch_index(request: Request) -> Response:
    refused = _verifier(request)
    return refused or await run_in_threadpool(_index, request)


async def upload(request: Request) -> Response:
    refused = _verifier(request)
    if refused:
        return refused
    form = await request.form()
    programme = str(form.get("programme", "")).strip()
    region = str(form.get("region", "")).strip()
    listing = form.get("listing")
    if not isinstance(listing, UploadFile) or not listing.filename:
        return await run_in_threadpool(
            _index, request, status_code=400,
            message=web.gettext(request, "请选择要上传的列表文件（.xlsx 或 .csv）。"),
            programme=programme, region=region)
    data = await listing.read(MAX_UPLOAD + 1)
    try:
        run, _ = await run_in_threadpool(
            runs(request).create, web.me(request).staff_id, listing.filename, data,
            programme=programme if programme in PROGRAMMES else "", region=region)
    except ListProblem as exc:
        return await run_in_threadpool(
            _index, request, message=web.gettext(request, exc.message), detail=exc.detail,
            status_code=400, programme=programme, region=region)
    return web.redirect(f"/batch/{run.run_id}")


def _run_page(request: Request, run: Run) -> HTMLResponse:
    store = runs(request)
    t = _gettext(request)
    try:
        households = store.households_of(run, t)
    except ListProblem as exc:
        return web.problem(request, web.gettext(request, exc.message))
    context = progress(request, run)
    results = []
    if run.status != "preview":
        results = [r.cells() for r in store.results(run)][:PREVIEW_ROWS]
    return web.render(
        request, "batch_run.html", households=households[:PREVIEW_ROWS],
        more=max(0, len(households) - PREVIEW_ROWS),
        bad=sum(bool(h.problems) for h in households), results=results,
        columns=COLUMNS, programme_words=PROGRAMMES, **context)


async def run_page(request: Request) -> Response:
    refused = _verifier(request)
    if refused:
        return refused
    run = await run_in_threadpool(_run, request)
    if run is None:
        return _missing(request)
    return await run_in_threadpool(_run_page, request, run)


async def start(request: Request) -> Response:
    refused = _verifier(request)
    if refused:
        return refused
    run = await run_in_threadpool(_run, request)
    if run is None:
        return _missing(request)
    if run.runnable == 0:
        return web.problem(request, web.gettext(
            request, "列表中没有可以核对的家庭，请改正后重新上传。"))
    await run_in_threadpool(runs(request).start, run)
    return web.redirect(f"/batch/{run.run_id}")


async def progress_fragment(request: Request) -> Response:
    """What htmx polls: the bar while it runs; once over, the page reloads itself."""
    refused = _verifier(request)
    if refused:
        return refused
    run = await run_in_threadpool(_run, request)
    if run is None:
        return _missing(request)
    context = await run_in_threadpool(progress, request, run)
    if not context["live"] and request.query_params.get("polling"):
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return web.render(request, "batch_progress.html", **context)


# ---------------------------------------------------------------- downloads

def _attachment(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def results_file(request: Request) -> Response:
    refused = _verifier(request)
    if refused:
        return refused
    run = await run_in_threadpool(_run, request)
    if run is None:
        return _missing(request)
    try:
        xlsx, csv = await run_in_threadpool(runs(request).sheet, run)
    except ListProblem as exc:
        return web.problem(request, web.gettext(request, exc.message))
    if request.path_params["kind"] == "csv":
        return _attachment(csv, "text/csv; charset=utf-8", f"batch-{run.run_id}.results.csv")
    return _attachment(xlsx, XLSX, f"batch-{run.run_id}.results.xlsx")


def _report_html(request: Request, envelope: Any) -> bytes | None:
    """The report as the case screen saves it (one HTML file, its style inside)."""
    try:
        from hedui.console.pages.case import REPORT_CSS
        from hedui.console.pages.case_report import report_context

        page = web.render(request, "case_report_file.html",
                          report_css=REPORT_CSS.read_text(encoding="utf-8"),
                          **report_context(request, envelope))
    except Exception:  # the signed .dsse is still in the archive
        log.exception("batch: a report could not be rendered as HTML")
        return None
    return bytes(page.body)


def _reports_zip(request: Request, run: Run) -> bytes:
    """The results sheet and the report of every household decided by now (also after
    review, since the run) — the signed ``.dsse`` that ``hedui report verify`` checks and
    its printable ``.html``; each fetched now, as the person downloading (logged)."""
    store = runs(request)
    xlsx, csv = store.sheet(run)
    buf = io.BytesIO()
    missing = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("results.xlsx", xlsx)
        z.writestr("results.csv", csv)
        for rec in store.records(run.run_id).values():
            case_id = rec.get("case_id", "")
            if not case_id or rec.get("state") in ("failed", "cancelled"):
                continue
            try:
                envelope = web.call(request, "GetReport",
                                    case_pb2.GetReportRequest(case_id=case_id))
            except Refused as err:
                if err.reason != "NO_REPORT_YET":
                    missing.append(f"{case_id}: {web.refused_words(request, err)}")
                continue
            z.writestr(f"{case_id}.report.dsse", envelope.SerializeToString())
            html = _report_html(request, envelope)
            if html is not None:
                z.writestr(f"{case_id}.report.html", html)
        if missing:
            z.writestr("未取得的报告.txt", "\n".join(missing) + "\n")
    return buf.getvalue()


async def reports_file(request: Request) -> Response:
    refused = _verifier(request)
    if refused:
        return refused
    run = await run_in_threadpool(_run, request)
    if run is None:
        return _missing(request)
    try:
        data = await run_in_threadpool(_reports_zip, request, run)
    except ListProblem as exc:
        return web.problem(request, web.gettext(request, exc.message))
    return _attachment(data, "application/zip", f"batch-{run.run_id}.reports.zip")


def template_sheet() -> bytes:
    """An empty list with the columns' names (Chinese / English)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "批量核对名单"
    sheet.append(list(TEMPLATE))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i in range(len(TEMPLATE)):
        sheet.column_dimensions[chr(ord("A") + i)].width = 22
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


async def template_file(request: Request) -> Response:
    refused = _verifier(request)
    if refused:
        return refused
    return _attachment(await run_in_threadpool(template_sheet), XLSX, "batch-template.xlsx")


routes = [
    Route("/batch", batch_index, methods=["GET"]),
    Route("/batch", upload, methods=["POST"]),
    Route("/batch/template.xlsx", template_file, methods=["GET"]),
    Route("/batch/{run_id:str}", run_page, methods=["GET"]),
    Route("/batch/{run_id:str}/start", start, methods=["POST"]),
    Route("/batch/{run_id:str}/progress", progress_fragment, methods=["GET"]),
    Route("/batch/{run_id:str}/results.{kind:str}", results_file, methods=["GET"]),
    Route("/batch/{run_id:str}/reports.zip", reports_file, methods=["GET"]),
]

"""统计: cases per programme, month, township and outcome; how long each department
takes to answer (median and 95th percentile) and where it is overdue; charts and an
Excel download.

The figures are the gateway's (``OfficeService.GetStatistics``), counted within the
person's own scope; they hold no personal data, so the period is a plain GET query
(a bookmark of "this year" is useful, and nothing in it identifies anyone).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from openpyxl import Workbook
from openpyxl.styles import Font
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hedui.console import charts, web
from hedui.console.gateway import Refused
from hedui.console.pages.search import OUTCOMES, STATES, parse_date, programme_words
from hedui.v1 import office_pb2
from hedui.v1 import reverification_pb2 as rv

ROLES = (*web.CASE_ROLES, "administrator")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def outcome_words(word: str) -> str:
    """The statistics' outcome word: an outcome when decided, else the case's state."""
    return OUTCOMES.get(word) or STATES.get("CASE_STATE_" + word.upper(), word)


@dataclass(frozen=True)
class Unit:
    """How durations are shown: the largest unit the slowest figure needs."""

    seconds: float
    words: str

    @classmethod
    def for_longest(cls, longest: float) -> Unit:
        if longest < 2 * 3600:
            return cls(60.0, "分钟")
        if longest < 72 * 3600:
            return cls(3600.0, "小时")
        return cls(86400.0, "天")

    def of(self, seconds: float) -> float:
        return round(seconds / self.seconds, 1)


@dataclass(frozen=True)
class Figures:
    """The gateway's statistics, summed the ways the page shows them."""

    total: int
    by_programme: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    by_township: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]
    departments: list[office_pb2.DepartmentTimes]
    overdue: int
    computed_at: str


def _sum(counts: Iterable[office_pb2.CaseCount], key: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for c in counts:
        totals[getattr(c, key)] += c.cases
    return totals


def figures(stats: office_pb2.Statistics) -> Figures:
    by_month = sorted(_sum(stats.counts, "month").items())
    return Figures(
        total=sum(c.cases for c in stats.counts),
        by_programme=_sum(stats.counts, "programme").most_common(),
        by_month=by_month,
        by_township=_sum(stats.counts, "township").most_common(),
        by_outcome=_sum(stats.counts, "outcome").most_common(),
        departments=sorted(stats.departments, key=lambda d: d.department),
        overdue=sum(d.overdue for d in stats.departments),
        computed_at=web.local_time(stats.computed_at))


def _period(request: Request) -> tuple[office_pb2.GetStatisticsRequest, dict[str, str], str]:
    """The request for the period asked (query ``from`` / ``until``), what to fill the
    form with, and a problem in words ("" when none)."""
    asked = {k: request.query_params.get(k, "").strip() for k in ("from", "until")}
    msg = office_pb2.GetStatisticsRequest()
    try:
        start, end = parse_date(asked["from"]), parse_date(asked["until"])
    except ValueError:
        return msg, asked, "日期应为“年-月-日”，例如 2026-11-15。"
    if start is not None:
        msg.opened_from.CopyFrom(start)
    if end is not None:
        msg.opened_until.CopyFrom(end)
    return msg, asked, ""


def _department_names(request: Request) -> dict[str, str]:
    try:
        found = web.call(request, "ListDepartments", office_pb2.ListDepartmentsRequest(),
                         service="office")
    except Refused:
        return {}
    return {d.department: d.display_name for d in found.departments if d.display_name}


def _labelled(request: Request, pairs: list[tuple[str, int]], words) -> list[charts.Bar]:
    return [charts.Bar(web.gettext(request, words(k)), (float(n),)) for k, n in pairs]


def _charts(request: Request, f: Figures, names: dict[str, str], unit: Unit) -> dict:
    g = lambda m: web.gettext(request, m)  # noqa: E731
    county = g("县中心")
    times = [charts.Bar(names.get(d.department, d.department),
                        (unit.of(d.median_seconds), unit.of(d.p95_seconds)))
             for d in f.departments if d.answers]
    per_unit = g(unit.words)
    return {
        "programme": charts.bar_chart(g("按救助项目"), _labelled(
            request, f.by_programme, programme_words), chart_id="chart-programme"),
        "month": charts.bar_chart(g("按受理月份"), [charts.Bar(k, (float(n),))
                                                for k, n in f.by_month],
                                  chart_id="chart-month"),
        "township": charts.bar_chart(g("按乡镇（街道）"), [
            charts.Bar(k or county, (float(n),)) for k, n in f.by_township],
            chart_id="chart-township"),
        "outcome": charts.bar_chart(g("按认定结果或状态"), _labelled(
            request, f.by_outcome, outcome_words), chart_id="chart-outcome"),
        "times": charts.bar_chart(
            g("部门反馈用时") + f"（{per_unit}）", times, chart_id="chart-times",
            series=(g("中位数"), g("95百分位")),
            value_text=lambda v: f"{v:g} {per_unit}"),
        "overdue": charts.bar_chart(g("超期案件数"), [
            charts.Bar(names.get(d.department, d.department), (float(d.overdue),))
            for d in f.departments], chart_id="chart-overdue"),
    }


def _fetch(request: Request) -> tuple[office_pb2.Statistics | None, dict, str, str, int]:
    msg, asked, problem = _period(request)
    if problem:
        return None, asked, web.gettext(request, problem), "", 400
    try:
        stats = web.call(request, "GetStatistics", msg, service="office")
    except Refused as err:
        if err.code.name == "UNIMPLEMENTED":
            return None, asked, "", web.gettext(request, "统计功能正在开通，请稍后再试。"), 503
        code = (403 if err.code.name == "PERMISSION_DENIED" else
                503 if err.reason == "UNAVAILABLE" else 400)
        return None, asked, web.refused_words(request, err), "", code
    return stats, asked, "", "", 200


def _alert_counts(request: Request) -> list | None:  # type: ignore[type-arg]
    """Open change alerts by township and grade (动态监测), or None for a person who may
    not see alerts (an administrator) or when the gateway cannot say."""
    try:
        counts = web.call(request, "CountAlerts", rv.AlertCountsRequest(), service="reverify")
    except Refused:
        return None
    return list(counts.townships)


def _not_allowed(request: Request) -> Response:
    return web.problem(request, web.gettext(request, "您的岗位无权进行此操作。"),
                       status_code=403)


def statistics_page(request: Request) -> Response:
    if not web.me(request).has(*ROLES):
        return _not_allowed(request)
    stats, asked, message, notice, status = _fetch(request)
    context: dict = {"asked": asked, "message": message, "notice": notice, "f": None,
                     "charts": {}, "names": {}, "unit": None, "export": "",
                     "alerts": _alert_counts(request)}
    if stats is not None:
        f = figures(stats)
        names = _department_names(request)
        unit = Unit.for_longest(max([d.p95_seconds for d in f.departments] + [0.0]))
        query = urlencode({k: v for k, v in asked.items() if v})
        context.update(f=f, names=names, unit=unit, charts=_charts(request, f, names, unit),
                       export="/statistics.xlsx" + (f"?{query}" if query else ""))
    return web.render(request, "statistics.html", status_code=status,
                      programme_words=programme_words, outcome_words=outcome_words, **context)


def workbook(request: Request, f: Figures, names: dict[str, str],
             asked: dict[str, str], alerts: list | None = None) -> bytes:  # type: ignore[type-arg]
    """The figures as an .xlsx: one sheet per way of counting, and the departments."""
    g = lambda m: web.gettext(request, m)  # noqa: E731
    book = Workbook()
    summary = book.active
    summary.title = g("概况")
    summary.append([g("统计期间"), f"{asked['from'] or '…'} — {asked['until'] or '…'}"])
    summary.append([g("计算时间"), f.computed_at])
    summary.append([g("案件总数"), f.total])
    summary.append([g("超期案件数"), f.overdue])
    sheets = (("按救助项目", "救助项目", f.by_programme, lambda k: g(programme_words(k))),
              ("按受理月份", "月份", f.by_month, lambda k: k),
              ("按乡镇（街道）", "乡镇（街道）", f.by_township, lambda k: k or g("县中心")),
              ("按认定结果或状态", "认定结果或状态", f.by_outcome, lambda k: g(outcome_words(k))))
    for title, column, pairs, words in sheets:
        sheet = book.create_sheet(g(title)[:31])
        sheet.append([g(column), g("案件数")])
        for k, n in pairs:
            sheet.append([words(k), n])
    times = book.create_sheet(g("部门反馈用时")[:31])
    times.append([g("部门"), g("反馈次数"), g("中位数（小时）"), g("95百分位（小时）"),
                  g("超期案件数")])
    for d in f.departments:
        times.append([names.get(d.department, d.department), d.answers,
                      round(d.median_seconds / 3600, 2), round(d.p95_seconds / 3600, 2),
                      d.overdue])
    if alerts is not None:
        sheet = book.create_sheet(g("动态监测预警（待处理）")[:31])
        sheet.append([g("乡镇（街道）"), g("红色"), g("橙色"), g("黄色"), g("已超期")])
        for t in alerts:
            sheet.append([t.township, t.red, t.orange, t.yellow, t.overdue])
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 24
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def statistics_xlsx(request: Request) -> Response:
    if not web.me(request).has(*ROLES):
        return _not_allowed(request)
    stats, asked, message, notice, status = _fetch(request)
    if stats is None:
        return web.problem(request, message or notice, status_code=status)
    data = workbook(request, figures(stats), _department_names(request), asked,
                    _alert_counts(request))
    name = f"hedui-statistics-{dt.date.today():%Y%m%d}.xlsx"
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


routes = [
    Route("/statistics", statistics_page, methods=["GET"]),
    Route("/statistics.xlsx", statistics_xlsx, methods=["GET"]),
]

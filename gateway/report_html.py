"""A printable, standalone HTML page of a determination report, bilingual 中文 / English.

The page is what an applicant receives and an appeal body reads years later, so it
speaks in names and words (programme, region, center, each rule's comparison, each
figure's evidence: :mod:`.report_words`), never in codes, field paths or digests —
those appear only in the verification block at the end, with a QR code and how
anyone checks the signed file. The public copy shows members only masked; the
applicant's own copy (``applicant_copy=True``) shows them in full. The signed report
stays the record; this page is its reading.

Built from Jinja2 templates (``report_templates/``: ``report.html`` and the print
stylesheet ``report.css``, inlined so a saved page is the whole document). Everything
from the report is escaped by the template; the page loads nothing from outside.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jinja2
import segno
from markupsafe import Markup

from hedui.china_time import CHINA
from hedui.gateway.masking import mask_id_number, mask_name
from hedui.gateway.profile import format_area, format_yuan
from hedui.gateway.report_words import (
    RELATIONS,
    EvidenceWords,
    date_words,
    department_name,
    programme_name,
    region_name,
    scrub_codes,
    scrub_paths,
    yuan,
)
from hedui.gateway.rules import RULE_UNITS
from hedui.timestamps import from_timestamp
from hedui.v1 import case_pb2

__all__ = ["mask_id_number", "mask_name", "render_html", "report_digest"]

TEMPLATES = Path(__file__).with_name("report_templates")

#: the issuing center when the caller does not name it: the region's checking center
DEFAULT_CENTER = ("居民家庭经济状况核对中心", "Household Economic Status Checking Center")

_VERDICTS = {
    case_pb2.RuleResult.VERDICT_PASS: ("符合", "Pass", "pass"),
    case_pb2.RuleResult.VERDICT_FAIL: ("不符合", "Fail", "fail"),
    case_pb2.RuleResult.VERDICT_UNKNOWN: ("无法核定", "Unknown", "unknown"),
    case_pb2.RuleResult.VERDICT_REVIEW: ("需人工复核", "Review", "review"),
}
_OUTCOMES = {
    case_pb2.OUTCOME_ELIGIBLE: ("符合条件", "Eligible"),
    case_pb2.OUTCOME_INELIGIBLE: ("不符合条件", "Not eligible"),
    case_pb2.OUTCOME_INCOMPLETE: ("资料不全，暂无法认定", "Incomplete"),
    case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW: ("需人工复核", "Needs manual review"),
}
_ITEM_LABELS = {
    "wages": ("工资性收入", "Wages"),
    "net-business": ("经营净收入", "Net business income"),
    "net-property": ("财产净收入", "Net property income"),
    "pensions": ("养老金", "Pensions"),
    "unemployment-benefits": ("失业保险金", "Unemployment benefits"),
    "housing-subsidies": ("住房保障补贴", "Housing-security subsidies"),
    "assistance": ("社会救助金", "Social-assistance payments"),
    "net-transfers": ("转移净收入", "Net transfers"),  # reports issued before 2026-12
    "deposits": ("存款", "Deposits"),
    "securities": ("有价证券", "Securities"),
    "provident-fund": ("住房公积金余额", "Provident-fund balance"),
    "vehicles": ("机动车辆价值", "Vehicle value"),
    "residential-property": ("住宅价值（按份额）", "Residential property (share)"),
    "non-residential-property": ("非住宅价值（按份额）", "Non-residential property (share)"),
    "business-capital": ("认缴资本", "Subscribed capital"),
}
_STEPS = {"intake": ("受理", "Intake"), "verification": ("核对", "Verification"),
          "review": ("审核", "Review")}
#: a count rule's unit
_COUNT_UNITS = {"vehicle": ("辆", "vehicle(s)"), "non-residential-property": ("处", "propert(ies)"),
                "residential-property-count": ("套", "home(s)")}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(("html",), default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def report_digest(report: case_pb2.DeterminationReport) -> str:
    """SHA-256 of the report as signed (its deterministic serialization), lowercase hex."""
    return hashlib.sha256(report.SerializeToString(deterministic=True)).hexdigest()


def _split_title(title: str) -> tuple[str, str]:
    """Standards title themselves "中文 / English"."""
    zh, _, en = title.partition(" / ")
    return zh.strip(), en.strip()


def _amount(rule_id: str, value: int) -> str:
    unit = RULE_UNITS.get(rule_id, "fen")
    if unit == "count":
        return f"{int(value)} {_COUNT_UNITS.get(rule_id, ('', ''))[0]}".strip()
    if unit == "area":
        return f"{format_area(value)} m²"
    return yuan(value)


def _comparison(rule_id: str, figure: int, limit: int) -> tuple[str, str]:
    shown, bound = _amount(rule_id, figure), _amount(rule_id, limit)
    if RULE_UNITS.get(rule_id) == "count":
        if figure > limit:
            return f"{shown}，超过上限 {bound}", f"{shown}, over the maximum of {bound}"
        return f"{shown}，未超过上限 {bound}", f"{shown}, within the maximum of {bound}"
    if figure < limit:
        return f"{shown} 低于限额 {bound}", f"{shown} is below the limit of {bound}"
    if figure == limit:
        return f"{shown} 等于限额 {bound}", f"{shown} equals the limit of {bound}"
    return f"{shown} 高于限额 {bound}", f"{shown} is above the limit of {bound}"


def _rule(rule: case_pb2.RuleResult, persons: int, words: EvidenceWords) -> dict[str, Any]:
    figure, limit = rule.figure_fen, rule.limit_fen
    if rule.rule_id == "money-assets" and persons > 0:  # the rule compares household totals
        figure, limit = figure // persons, limit // persons
    vzh, ven, css = _VERDICTS.get(rule.verdict, ("未定", "Unset", "unknown"))
    shown_figure = _amount(rule.rule_id, figure)
    household = ""
    if rule.rule_id == "money-assets":
        shown_figure += "/人"
        household = f"家庭 household {yuan(rule.figure_fen)}"
    elif rule.rule_id == "income":
        shown_figure += "/人·月"
    return {
        "title": (rule.title_zh, rule.title_en),
        "figure": shown_figure,
        "household": household,
        "limit": _amount(rule.rule_id, limit) if limit or rule.rule_id in _COUNT_UNITS else "—",
        "verdict": (vzh, ven),
        "css": css,
        # the rule's own sentence compares figure and limit in words; reports without
        # one get the comparison made here
        "explanation": (scrub_codes(rule.explanation_zh), scrub_codes(rule.explanation_en, True))
        if rule.explanation_zh else _comparison(rule.rule_id, figure, limit),
        "sources": words.rule_sources(rule),
    }


def _lines(items: Any, words: EvidenceWords) -> list[dict[str, Any]]:
    """The profile lines that hold something; the empty ones are listed by name only."""
    out = []
    for item in items:
        if not item.amount_fen and not item.evidence:
            continue
        phrases = []
        for p in words.phrases(item.evidence):
            who = words.who(p.member)[0]
            phrases.append({"who": who, "zh": p.zh, "en": p.en})
        out.append({"label": _ITEM_LABELS.get(item.kind, (item.kind, item.kind)),
                    "amount": yuan(item.amount_fen), "excluded": item.excluded,
                    "phrases": phrases})
    return out


def _departments(report: case_pb2.DeterminationReport,
                 words: EvidenceWords) -> list[dict[str, Any]]:
    out = []
    for ref in report.answers:
        a = words.answers.get(ref.department)
        out.append({"name": department_name(ref.department),
                    "data_as_of": a.data_as_of if a else "",
                    "answered_at": a.answered_at if a else "",
                    "status": None})
    for m in report.missing:
        reason = scrub_paths(m.reason)
        out.append({"name": department_name(m.department), "data_as_of": "", "answered_at": "",
                    "status": (f"未答复（{reason}）" if reason else "未答复",
                               f"no answer ({scrub_paths(m.reason, True)})" if reason
                               else "no answer")})
    return out


def _asset_limits(s: case_pb2.StandardApplied) -> str:
    """The standard's money-asset limits: per person, for the household, or none."""
    limits = []
    if s.asset_limit_per_person_fen:
        limits.append(f"{yuan(s.asset_limit_per_person_fen)}/人")
    if s.asset_limit_household_fen:
        limits.append(f"家庭 {yuan(s.asset_limit_household_fen)}")
    return "；".join(limits) or "—"


def _qr(report: case_pb2.DeterminationReport, digest: str) -> Markup:
    """The QR code of the report's id and digest, as inline SVG (no image to load)."""
    text = f"hedui-report:{report.report_id}:sha256:{digest}"
    svg = segno.make(text, error="m").svg_inline(scale=2, border=2)
    return Markup(svg)  # segno's own markup; the text inside it is only id and digest


def render_html(report: case_pb2.DeterminationReport, *, applicant_copy: bool = False,
                center_name: tuple[str, str] | str | None = None) -> str:
    """The report as one printable HTML page (inline CSS, nothing external, all escaped).

    ``applicant_copy``: members' names and ID numbers in full (the household's own
    copy); otherwise masked (the public copy). ``center_name``: the issuing center's
    official name (Chinese, or (Chinese, English)); default the region's checking center.
    """
    words = EvidenceWords(report, full_names=applicant_copy)
    region = region_name(report.region)
    if center_name is None:
        known = region[0] != report.region
        center = ((region[0] if known else "") + DEFAULT_CENTER[0],
                  (f"{region[1]} " if known else "") + DEFAULT_CENTER[1])
    elif isinstance(center_name, str):
        center = (center_name, "")
    else:
        center = center_name
    issued = ""
    if report.HasField("issued_at"):
        issued = from_timestamp(report.issued_at).astimezone(CHINA).strftime(
            "%Y-%m-%d %H:%M") + "（北京时间 UTC+8）"
    window = ""
    if report.HasField("income_window"):
        w = report.income_window
        window = (f"{date_words(w.start)} 至 {date_words(w.end)}"
                  f"（{report.standard.income_window_months} 个月 months）")
    s = report.standard
    digest = report_digest(report)
    p = report.profile
    context = {
        "center": center,
        "programme": programme_name(report.programme),
        "region": region,
        "which_copy": ("申请人留存联（完整信息）", "Applicant's copy (in full)") if applicant_copy
        else ("公开联（成员信息已遮蔽）", "Public copy (members masked)"),
        "case_id": report.case_id,
        "report_id": report.report_id,
        "authorization_number": report.authorization_number,
        "application_date": date_words(report.application_date)
        if report.HasField("application_date") else "",
        "income_window": window,
        "issued": issued,
        "outcome": _OUTCOMES.get(report.outcome, ("未定", "Undecided")),
        "reasons": [(scrub_codes(zh).replace(s.standard_id, f"“{_split_title(s.title)[0]}”"),
                     scrub_codes(en, True).replace(
                         s.standard_id, f"“{_split_title(s.title)[1] or s.title}”"))
                    for zh, en in zip(report.reasons_zh, report.reasons_en, strict=False)],
        "members": [{"name": m.name if applicant_copy else mask_name(m.name),
                     "id_number": m.id_number if applicant_copy
                     else mask_id_number(m.id_number),
                     "relation": RELATIONS.get(m.relation, ("未说明", "unspecified"))}
                    for m in report.members],
        "standard": {
            "title": _split_title(s.title),
            "source": s.source,
            "effective_from": date_words(s.effective_from),
            "income_limit": f"{yuan(s.monthly_income_limit_fen)}/人·月",
            "asset_limits": _asset_limits(s),
            "example": "EXAMPLE" in s.source.upper() or "示例" in s.title,
        },
        "rules": [_rule(r, p.persons, words) for r in report.rules],
        "persons": p.persons,
        "income": _lines(p.income, words),
        "income_per_person": yuan(p.monthly_income_per_person_fen),
        "assets": _lines(p.assets, words),
        "money_assets": yuan(p.money_assets_fen),
        "nil": [_ITEM_LABELS.get(i.kind, (i.kind, i.kind)) for i in (*p.income, *p.assets)
                if not i.amount_fen and not i.evidence],
        "holdings": f"机动车 {p.vehicles} 辆 · 住房 {p.residential_properties} 套 · "
                    f"非住宅 {p.non_residential_properties} 处 · 认缴资本 "
                    f"{format_yuan(p.business_capital_fen)} 元",
        "departments": _departments(report, words),
        "steps": [{"step": _STEPS.get(x.step, (x.step, x.step)), "name": x.name,
                   "staff_id": x.staff_id} for x in report.steps],
        "digest": digest,
        "qr": _qr(report, digest),
        "issuer": report.issuer,
        "answer_count": len(report.answers),
        "audit_count": len(report.audit_evidence),
    }
    return _env.get_template("report.html").render(r=context)

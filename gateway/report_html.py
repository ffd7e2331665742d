"""A printable, standalone HTML page of a determination report, bilingual 中文 / English.

The page may be printed and handed over or filed, so it shows members' names only by
surname and ID numbers only by their first four and last four characters; the signed
report (and its JSON) stays the record. Everything taken from the report is
HTML-escaped; the page loads nothing from outside (inline CSS, no scripts, no fonts).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from html import escape

from hedui.agents.departments import DEPARTMENTS
from hedui.gateway.assessment import RULE_UNITS
from hedui.gateway.masking import mask_id_number, mask_name
from hedui.gateway.profile import format_area, format_yuan
from hedui.timestamps import from_timestamp
from hedui.v1 import case_pb2

__all__ = ["mask_id_number", "mask_name", "render_html"]

#: the page shows times on the Beijing clock (China Standard Time, no DST)
_DISPLAY_TZ = timezone(timedelta(hours=8), "CST")

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
_RELATIONS = {
    1: ("申请人", "applicant"),
    2: ("配偶", "spouse"),
    3: ("子女", "child"),
    4: ("父母", "parent"),
    5: ("兄弟姐妹", "sibling"),
    6: ("祖父母", "grandparent"),
    7: ("孙子女", "grandchild"),
    8: ("其他", "other"),
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
    "residential-property": ("住宅价值（按份额）", "Residential property value (share)"),
    "non-residential-property": ("非住宅价值（按份额）", "Non-residential value (share)"),
    "business-capital": ("认缴资本", "Subscribed capital"),
}

_TITLE_ZH = "居民家庭经济状况核对 书面认定报告"
_TITLE_EN = "Household economic status determination report"
_EXAMPLE_ZH = "此标准为示例，不得作为正式认定依据。"
_EXAMPLE_EN = "This standard is an example and must not ground a real decision."
_NOT_COUNTED_EN = "not counted (in income or money assets)"
_UNSPECIFIED = ("未说明", "unspecified")

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
 sans-serif;margin:2em auto;max-width:60em;color:#111;line-height:1.45}
h1{font-size:1.5em;border-bottom:2px solid #111;padding-bottom:.3em}
h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eee}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.en{color:#444;font-size:.92em}
.pass{color:#1a6b1a}.fail{color:#a11}.unknown{color:#8a5a00}.review{color:#1d4f91}
.outcome{font-size:1.3em;font-weight:bold;padding:.5em;border:2px solid #111;margin:1em 0}
code{font-family:monospace;font-size:.9em;word-break:break-all}
pre{white-space:pre-wrap;word-break:break-all;font-size:.85em;background:#f6f6f6;padding:.5em}
.example{border:2px dashed #a11;padding:.5em;color:#a11}
@media print{body{margin:0;max-width:none;font-size:10.5pt}
 h2{page-break-after:avoid}tr,.outcome{page-break-inside:avoid}
 a{color:inherit;text-decoration:none}}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _bi(zh: str, en: str) -> str:
    return f'{_e(zh)} <span class="en">{_e(en)}</span>'


def _figure(rule_id: str, amount: int) -> str:
    unit = RULE_UNITS.get(rule_id, "fen")
    if unit == "count":
        return str(int(amount))
    if unit == "area":
        return f"{format_area(amount)} m²"
    return f"{format_yuan(amount)} 元"


def _limit(fen: int) -> str:
    """A standard's limit; 0 means the standard sets none."""
    return f"{format_yuan(fen)} 元" if fen else "—"


def _short(digest: bytes) -> str:
    return bytes(digest).hex()[:12]


def _department(department: str) -> str:
    d = DEPARTMENTS.get(department)
    return _bi(d.title_zh, d.title_en) if d else _e(department)


def _evidence(items: list[case_pb2.Evidence]) -> str:
    if not items:
        return "—"
    seen: dict[tuple[str, bytes], list[str]] = {}
    for ev in items:
        who = f" @{ev.subject_pseudonym[:6]}" if ev.subject_pseudonym else ""
        seen.setdefault((ev.department, bytes(ev.answer_digest)), []).append(ev.field_path + who)
    out = []
    for (department, digest), paths in seen.items():
        shown = ", ".join(paths[:4]) + (f" … (+{len(paths) - 4})" if len(paths) > 4 else "")
        out.append(
            f"{_department(department)} <code>{_e(_short(digest))}</code> "
            f'<span class="en">{_e(shown)}</span>'
        )
    return "<br>".join(out)


def _date(d: object) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"  # type: ignore[attr-defined]


def _month(d: object) -> str:
    return f"{d.year:04d}-{d.month:02d}"  # type: ignore[attr-defined]


def _assessment_dates(report: case_pb2.DeterminationReport) -> list[str]:
    """The application date and the income window it gives (absent in older reports)."""
    if not report.HasField("application_date"):
        return []
    w = report.income_window
    return [
        f"<tr><th>{_bi('申请日期', 'Application date')}</th>"
        f"<td>{_e(_date(report.application_date))}</td>"
        f"<th>{_bi('收入计算期间', 'Income window')}</th>"
        f"<td>{_e(_month(w.start))}..{_e(_month(w.end))} "
        f"({_e(_date(w.start))} – {_e(_date(w.end))})</td></tr>",
    ]


_STEP_WORDS = {"intake": ("受理", "Intake"), "verification": ("核对", "Verification"),
               "review": ("审核", "Review")}


def _steps(report: case_pb2.DeterminationReport) -> list[str]:
    """Who took, verified and reviewed the case (受理 → 核对 → 审核), when the report says."""
    if not report.steps:
        return []
    cells = " → ".join(
        f"{_bi(*_STEP_WORDS.get(x.step, (x.step, x.step)))}: {_e(x.name)} "
        f"(<code>{_e(x.staff_id)}</code>)" for x in report.steps)
    return [f'<tr><th>{_bi("经办人员", "Staff")}</th><td colspan="3">{cells}</td></tr>']


def render_html(report: case_pb2.DeterminationReport) -> str:
    """The report as one printable HTML page (inline CSS, nothing external, all escaped)."""
    issued = ""
    if report.HasField("issued_at"):
        local = from_timestamp(report.issued_at).astimezone(_DISPLAY_TZ)
        issued = local.strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"
    outcome_zh, outcome_en = _OUTCOMES.get(report.outcome, ("未定", "Undecided"))
    s = report.standard
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>书面认定报告 Determination report {_e(report.case_id)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_bi(_TITLE_ZH, _TITLE_EN)}</h1>",
        "<table>",
        f"<tr><th>{_bi('报告编号', 'Report')}</th><td><code>{_e(report.report_id)}</code></td>"
        f"<th>{_bi('案件', 'Case')}</th><td><code>{_e(report.case_id)}</code></td></tr>",
        f"<tr><th>{_bi('救助项目', 'Programme')}</th><td>{_e(report.programme)}</td>"
        f"<th>{_bi('区划', 'Region')}</th><td>{_e(report.region)}</td></tr>",
        f"<tr><th>{_bi('授权书编号', 'Authorization')}</th>"
        f"<td>{_e(report.authorization_number)}</td>"
        f"<th>{_bi('出具时间', 'Issued')}</th><td>{_e(issued)}</td></tr>",
        f'<tr><th>{_bi("出具机构", "Issuer")}</th><td colspan="3"><code>{_e(report.issuer)}</code>'
        "</td></tr>",
        *_assessment_dates(report),
        *_steps(report),
        "</table>",
        f'<div class="outcome">{_bi("认定结论：" + outcome_zh, "Outcome: " + outcome_en)}</div>',
        "<ol>",
        *(
            f'<li>{_e(zh)}<br><span class="en">{_e(en)}</span></li>'
            for zh, en in zip(report.reasons_zh, report.reasons_en, strict=False)
        ),
        "</ol>",
        f"<h2>{_bi('家庭成员', 'Household members')}</h2>",
        "<table><tr>"
        f"<th>{_bi('姓名', 'Name')}</th><th>{_bi('身份证号', 'ID number')}</th>"
        f"<th>{_bi('与申请人关系', 'Relation')}</th></tr>",
        *(
            f"<tr><td>{_e(mask_name(m.name))}</td><td><code>{_e(mask_id_number(m.id_number))}"
            f"</code></td><td>{_bi(*_RELATIONS.get(m.relation, _UNSPECIFIED))}</td></tr>"
            for m in report.members
        ),
        "</table>",
        f"<h2>{_bi('适用标准', 'Standard applied')}</h2>",
        "<table>",
        f"<tr><th>{_bi('标准', 'Standard')}</th>"
        f"<td><code>{_e(s.standard_id)}</code> {_e(s.title)}</td></tr>",
        f"<tr><th>{_bi('生效日期', 'In force from')}</th>"
        f"<td>{_e(_date(s.effective_from))}</td></tr>",
        f"<tr><th>{_bi('月人均收入限额', 'Monthly income limit per person')}</th>"
        f'<td class="num">{_e(format_yuan(s.monthly_income_limit_fen))} 元 '
        f"（{_e(s.income_window_months)} 个月 / months）</td></tr>",
        f"<tr><th>{_bi('人均金融资产限额', 'Money-asset limit per person')}</th>"
        f'<td class="num">{_e(_limit(s.asset_limit_per_person_fen))}</td></tr>',
        f"<tr><th>{_bi('家庭金融资产限额', 'Household money-asset limit')}</th>"
        f'<td class="num">{_e(_limit(s.asset_limit_household_fen))}</td></tr>',
        f"<tr><th>{_bi('依据', 'Source')}</th><td>{_e(s.source)}</td></tr>",
        "</table>",
    ]
    if "EXAMPLE" in s.source.upper() or "示例" in s.title:
        parts.append(f'<p class="example">{_bi(_EXAMPLE_ZH, _EXAMPLE_EN)}</p>')
    p = report.profile
    parts += [
        f"<h2>{_bi('家庭经济状况', 'Household profile')}</h2>",
        f"<p>{_bi('家庭人口', 'Persons')}: {_e(p.persons)}</p>",
        "<table><tr>"
        f"<th>{_bi('收入（月人均）', 'Income (per person per month)')}</th>"
        f"<th>{_bi('金额', 'Amount')}</th><th>{_bi('依据', 'Evidence')}</th></tr>",
    ]
    for item in p.income:
        zh, en = _ITEM_LABELS.get(item.kind, (item.kind, item.kind))
        parts.append(
            f"<tr><td>{_bi(zh, en)}{' ✕' if item.excluded else ''}</td>"
            f'<td class="num">{_e(format_yuan(item.amount_fen))} 元</td>'
            f"<td>{_evidence(list(item.evidence))}</td></tr>"
        )
    parts.append(
        f"<tr><th>{_bi('合计（计入部分）', 'Total counted')}</th>"
        f'<th class="num">{_e(format_yuan(p.monthly_income_per_person_fen))} 元</th><th></th></tr>'
    )
    parts += [
        "</table><table><tr>"
        f"<th>{_bi('财产', 'Assets')}</th><th>{_bi('金额', 'Amount')}</th>"
        f"<th>{_bi('依据', 'Evidence')}</th></tr>",
    ]
    for item in p.assets:
        zh, en = _ITEM_LABELS.get(item.kind, (item.kind, item.kind))
        parts.append(
            f"<tr><td>{_bi(zh, en)}{' ✕' if item.excluded else ''}</td>"
            f'<td class="num">{_e(format_yuan(item.amount_fen))} 元</td>'
            f"<td>{_evidence(list(item.evidence))}</td></tr>"
        )
    parts += [
        f"<tr><th>{_bi('金融资产合计', 'Money assets')}</th>"
        f'<th class="num">{_e(format_yuan(p.money_assets_fen))} 元</th><th></th></tr>',
        "</table>",
        f"<p>{_bi('机动车', 'Vehicles')}: {_e(p.vehicles)} · "
        f"{_bi('住房', 'Homes')}: {_e(p.residential_properties)} · "
        f"{_bi('非住宅', 'Non-residential')}: {_e(p.non_residential_properties)} · "
        f"{_bi('认缴资本', 'Business capital')}: {_e(format_yuan(p.business_capital_fen))} 元</p>",
        f'<p class="en">✕ {_bi("不计入（收入或金融资产）", _NOT_COUNTED_EN)}</p>',
        f"<h2>{_bi('逐项核定', 'Rules')}</h2>",
        "<table><tr>"
        f"<th>{_bi('项目', 'Rule')}</th><th>{_bi('家庭数值', 'Figure')}</th>"
        f"<th>{_bi('限额', 'Limit')}</th><th>{_bi('结果', 'Verdict')}</th>"
        f"<th>{_bi('说明', 'Explanation')}</th><th>{_bi('依据', 'Evidence')}</th></tr>",
    ]
    for r in report.rules:
        vzh, ven, css = _VERDICTS.get(r.verdict, ("未定", "Unset", "unknown"))
        parts.append(
            f"<tr><td>{_bi(r.title_zh, r.title_en)}</td>"
            f'<td class="num">{_e(_figure(r.rule_id, r.figure_fen))}</td>'
            f'<td class="num">{_e(_figure(r.rule_id, r.limit_fen))}</td>'
            f'<td class="{css}">{_bi(vzh, ven)}</td>'
            f'<td>{_e(r.explanation_zh)}<br><span class="en">{_e(r.explanation_en)}</span></td>'
            f"<td>{_evidence(list(r.evidence))}</td></tr>"
        )
    parts.append("</table>")
    if report.missing:
        parts += [
            f"<h2>{_bi('未答复的部门', 'Departments that did not answer')}</h2><ul>",
            *(f"<li>{_department(m.department)}: {_e(m.reason)}</li>" for m in report.missing),
            "</ul>",
        ]
    parts += [
        f"<h2>{_bi('部门答复（已签名）', 'Signed answers')}</h2>",
        "<table><tr>"
        f"<th>{_bi('部门', 'Department')}</th><th>{_bi('答复方', 'Agent')}</th>"
        f"<th>{_bi('答复摘要 SHA-256', 'Answer digest SHA-256')}</th></tr>",
        *(
            f"<tr><td>{_department(a.department)}</td><td><code>{_e(a.agent)}</code></td>"
            f"<td><code>{_e(bytes(a.answer_digest).hex())}</code></td></tr>"
            for a in report.answers
        ),
        "</table>",
        f"<h2>{_bi('审计日志检查点', 'Audit checkpoint')}</h2>",
        f"<pre>{_e(report.audit_checkpoint)}</pre>",
        f"<p>{_bi('审计条目包含证明', 'Audit entries with inclusion proofs')}: "
        f"{_e(len(report.audit_evidence))}</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"

"""The determination report (书面认定报告) as the case screen shows, prints and saves it.

``GetReport`` returns the signed envelope; the page decodes its DeterminationReport and
shows it in the page's language, members masked (the printed copy is handed over). The
envelope itself is what proves it: the page names its signature and links the file that
``hedui report verify`` checks. No figure is recomputed here.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hedui.console import web, words
from hedui.gateway.masking import mask_member
from hedui.v1 import case_pb2, envelope_pb2

REPORT_TYPE = "application/vnd.hedui.report+protobuf"


def _date(d: Any) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d and d.year else ""


def _month(d: Any) -> str:
    return f"{d.year:04d}-{d.month:02d}" if d and d.year else ""


def figure(rule_id: str, amount: int) -> str:
    """A rule's figure or limit in its unit: yuan, a count, or m²."""
    unit = words.RULE_UNITS.get(rule_id, "fen")
    if unit == "count":
        return str(int(amount))
    if unit == "area":
        whole, cents = divmod(int(amount), 100)
        return f"{whole:,}.{cents:02d} m²"
    return web.yuan(amount)


def limit(fen: int) -> str:
    """A standard's limit; 0 means the standard sets none."""
    return web.yuan(fen) if fen else "—"


def department_name(request: Request, department: str) -> str:
    return words.department_name(department, english=web.lang(request) == "en")


def _evidence_departments(request: Request, items: Any) -> str:
    seen: list[str] = []
    for ev in items:
        name = department_name(request, ev.department)
        if name not in seen:
            seen.append(name)
    return "、".join(seen)


def _items(request: Request, items: Any) -> list[dict[str, Any]]:
    return [{"label": words.ITEMS.get(i.kind, i.kind), "amount": web.yuan(i.amount_fen),
             "excluded": i.excluded, "evidence": _evidence_departments(request, i.evidence)}
            for i in items]


def report_context(request: Request, envelope: envelope_pb2.Envelope) -> dict[str, Any]:
    """What the report templates show of ``envelope``."""
    report = case_pb2.DeterminationReport.FromString(envelope.payload)
    english = web.lang(request) == "en"
    rules = []
    for r in report.rules:
        verdict, css = words.VERDICTS.get(r.verdict, ("", "unknown"))
        rules.append({
            "title": r.title_en if english and r.title_en else r.title_zh,
            "figure": figure(r.rule_id, r.figure_fen),
            "limit": figure(r.rule_id, r.limit_fen) if r.limit_fen else "—",
            "verdict": verdict, "css": css,
            "explanation": r.explanation_en if english and r.explanation_en
            else r.explanation_zh,
            "evidence": _evidence_departments(request, r.evidence),
        })
    reasons = list(report.reasons_en if english and report.reasons_en else report.reasons_zh)
    s = report.standard
    window = report.income_window
    return {
        "report": report, "case_id": report.case_id,
        "genuine_type": envelope.payload_type == REPORT_TYPE,
        "signers": [sig.keyid for sig in envelope.signatures],
        "programme_word": words.programme_word(report.programme),
        "outcome_word": words.OUTCOMES.get(report.outcome, ""),
        "reasons": reasons,
        "members": [mask_member(m) for m in report.members], "relations": words.RELATIONS,
        "application_date": _date(report.application_date)
        if report.HasField("application_date") else "",
        "income_window": f"{_month(window.start)} – {_month(window.end)}"
        if report.HasField("income_window") else "",
        "standard": s, "effective_from": _date(s.effective_from),
        "income_limit": limit(s.monthly_income_limit_fen),
        "asset_limit_person": limit(s.asset_limit_per_person_fen),
        "asset_limit_household": limit(s.asset_limit_household_fen),
        "example": "EXAMPLE" in s.source.upper() or "示例" in s.title,
        "income": _items(request, report.profile.income),
        "assets": _items(request, report.profile.assets),
        "income_per_person": web.yuan(report.profile.monthly_income_per_person_fen),
        "money_assets": web.yuan(report.profile.money_assets_fen),
        "business_capital": web.yuan(report.profile.business_capital_fen),
        "rules": rules,
        "missing": [{"name": department_name(request, m.department), "reason": m.reason}
                    for m in report.missing],
        "answers": [{"name": department_name(request, a.department), "agent": a.agent,
                     "digest": bytes(a.answer_digest).hex()} for a in report.answers],
        "steps": [{"step": words.STEPS.get(x.step, x.step), "name": x.name,
                   "staff_id": x.staff_id} for x in report.steps],
    }

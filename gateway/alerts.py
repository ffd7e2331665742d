"""Change alerts: what moved in a household's re-verification since its last determination.

Pure (no I/O): two :class:`Snapshot` s in, one :class:`Alert` or None out. A re-verified
roster household that is still eligible and unchanged needs nobody's time; one that
changed is put on a caseworker's worklist with a grade saying how soon:

* **red** — the outcome is now INELIGIBLE where it was not (or there is no previous
  determination to compare with): a rule FAILs; the alert names each failing rule with
  its figure and limit.
* **orange** — a money figure has come to ``approach_share`` of its limit or more where
  it was below that share before (or nothing was known before), or the household has a
  vehicle, a non-residential property or a business more than last time.
* **yellow** — a department's data is missing (a rule UNKNOWN, or a department that did
  not answer): the household could not be fully re-verified. This is about the current
  run, so it is raised again each run the data is missing.

The highest grade wins and every change is listed with the figures before and now, the
limit, the current figure's evidence (department, field path, answer digest) and one
sentence each in Chinese and English an applicant can read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from hedui.gateway.profile import format_area, format_yuan
from hedui.gateway.rules import RULE_TITLES, RULE_UNITS
from hedui.v1 import case_pb2

if TYPE_CHECKING:
    from hedui.gateway.assessment import Assessment

__all__ = ["GRADES", "Alert", "Change", "Counts", "Snapshot", "grade"]

RR = case_pb2.RuleResult
#: grades, highest first
GRADES = ("red", "orange", "yellow")
_RANK = {g: i for i, g in enumerate(GRADES)}
_INELIGIBLE = case_pb2.OUTCOME_INELIGIBLE
#: counts whose increase is orange: count → (rule id for its limit/evidence, zh, en)
_COUNTED = {
    "vehicles": ("vehicle", "机动车辆", "motor vehicles"),
    "non_residential_properties": ("non-residential-property", "非居住类房产",
                                   "non-residential properties"),
    "businesses": ("business-capital", "工商注册企业", "registered businesses"),
}


@dataclass(frozen=True)
class Counts:
    vehicles: int = 0
    non_residential_properties: int = 0
    businesses: int = 0


@dataclass(frozen=True)
class Snapshot:
    """What grading compares of one determination: from an Assessment or a stored report."""

    outcome: int
    rules: tuple[case_pb2.RuleResult, ...]
    counts: Counts = Counts()
    missing_departments: tuple[str, ...] = ()

    @classmethod
    def of_assessment(cls, assessment: Assessment) -> Snapshot:
        p = assessment.profile
        return cls(
            outcome=assessment.outcome, rules=tuple(assessment.rules),
            counts=Counts(vehicles=p.vehicle_count,
                          non_residential_properties=p.non_residential_count,
                          businesses=len(p.assets["business-capital"].evidence)
                          if "business-capital" in p.assets else 0),
            missing_departments=tuple(d for d, _ in assessment.missing))

    @classmethod
    def of_report(cls, report: case_pb2.DeterminationReport) -> Snapshot:
        capital = next((a for a in report.profile.assets if a.kind == "business-capital"), None)
        return cls(
            outcome=report.outcome, rules=tuple(report.rules),
            counts=Counts(vehicles=report.profile.vehicles,
                          non_residential_properties=report.profile.non_residential_properties,
                          businesses=len(capital.evidence) if capital is not None else 0),
            missing_departments=tuple(d.department for d in report.missing))

    def rule(self, rule_id: str) -> case_pb2.RuleResult | None:
        return next((r for r in self.rules if r.rule_id == rule_id), None)


@dataclass(frozen=True)
class Change:
    """One changed figure (or a department's missing data) behind an alert."""

    grade: str
    #: "ineligible", "approaching", "new-record", "unknown", "missing-department"
    kind: str
    rule_id: str
    previous: int | None
    current: int | None
    limit: int | None
    unit: str
    #: (department, field path, answer digest hex) of the current figure
    evidence: tuple[tuple[str, str, str], ...] = ()
    department: str = ""
    text_zh: str = ""
    text_en: str = ""


@dataclass(frozen=True)
class Alert:
    grade: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def to_json(self) -> bytes:
        """What the store seals with the decision."""
        return json.dumps({"grade": self.grade, "changes": [asdict(c) for c in self.changes]},
                          ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Alert:
        data = json.loads(raw)
        changes = tuple(Change(**{**c, "evidence": tuple(tuple(e) for e in c["evidence"])})
                        for c in data["changes"])
        return cls(data["grade"], changes)


# ------------------------------------------------------------------ words


def _amount(value: int, unit: str, lang: str) -> str:
    if unit == "fen":
        return f"{format_yuan(value)} 元" if lang == "zh" else f"{format_yuan(value)} yuan"
    if unit == "area":
        return f"{format_area(value)} 平方米" if lang == "zh" else f"{format_area(value)} m²"
    return f"{value}"


def _titles(rule: case_pb2.RuleResult) -> tuple[str, str]:
    zh, en = RULE_TITLES.get(rule.rule_id, (rule.title_zh, rule.title_en))
    return rule.title_zh or zh, rule.title_en or en


def _evidence(rule: case_pb2.RuleResult | None) -> tuple[tuple[str, str, str], ...]:
    if rule is None:
        return ()
    return tuple((e.department, e.field_path, e.answer_digest.hex()) for e in rule.evidence)


def _from_to(previous: int | None, current: int, unit: str) -> tuple[str, str]:
    now_zh, now_en = _amount(current, unit, "zh"), _amount(current, unit, "en")
    if previous is None:
        return f"现为 {now_zh}", f"is now {now_en}"
    return (f"由 {_amount(previous, unit, 'zh')} 变为 {now_zh}",
            f"went from {_amount(previous, unit, 'en')} to {now_en}")


# ------------------------------------------------------------------ grading


def _share(value: float) -> Fraction:
    share = Fraction(str(value))
    if not 0 < share <= 1:
        raise ValueError("approach_share is a share of the limit, above 0 and at most 1")
    return share


def _near(figure: int, limit: int, share: Fraction) -> bool:
    """figure ≥ share × limit, exactly (integers and a fraction, never a float)."""
    return limit > 0 and figure * share.denominator >= limit * share.numerator


def _ineligible(previous: Snapshot | None, current: Snapshot) -> list[Change]:
    if current.outcome != _INELIGIBLE or (previous is not None
                                          and previous.outcome == _INELIGIBLE):
        return []
    out = []
    for r in current.rules:
        if r.verdict != RR.VERDICT_FAIL:
            continue
        unit = RULE_UNITS.get(r.rule_id, "fen")
        before = previous.rule(r.rule_id) if previous else None
        zh, en = _titles(r)
        fz, fe = _from_to(before.figure_fen if before else None, r.figure_fen, unit)
        out.append(Change(
            "red", "ineligible", r.rule_id, before.figure_fen if before else None, r.figure_fen,
            r.limit_fen, unit, _evidence(r),
            text_zh=f"{zh}{fz}，超过限额 {_amount(r.limit_fen, unit, 'zh')}，"
                    "家庭已不符合保障条件。",
            text_en=f"{en} {fe}, over the limit of {_amount(r.limit_fen, unit, 'en')}; "
                    "the household no longer meets the conditions."))
    return out


def _approaching(previous: Snapshot | None, current: Snapshot, share: Fraction) -> list[Change]:
    out = []
    percent = f"{float(share) * 100:g}%"
    for r in current.rules:
        if RULE_UNITS.get(r.rule_id) != "fen":
            continue
        if r.verdict == RR.VERDICT_UNKNOWN or not _near(r.figure_fen, r.limit_fen, share):
            continue
        before = previous.rule(r.rule_id) if previous else None
        if before is not None and before.verdict != RR.VERDICT_UNKNOWN and _near(
                before.figure_fen, before.limit_fen, share):
            continue
        zh, en = _titles(r)
        fz, fe = _from_to(before.figure_fen if before else None, r.figure_fen, "fen")
        out.append(Change(
            "orange", "approaching", r.rule_id, before.figure_fen if before else None,
            r.figure_fen, r.limit_fen, "fen", _evidence(r),
            text_zh=f"{zh}{fz}，已达到限额 {_amount(r.limit_fen, 'fen', 'zh')} 的 {percent}"
                    "以上。",
            text_en=f"{en} {fe}, {percent} or more of the limit of "
                    f"{_amount(r.limit_fen, 'fen', 'en')}."))
    return out


def _new_records(previous: Snapshot | None, current: Snapshot) -> list[Change]:
    if previous is None:
        return []
    out = []
    for name, (rule_id, zh, en) in _COUNTED.items():
        before, now = getattr(previous.counts, name), getattr(current.counts, name)
        if now <= before:
            continue
        rule = current.rule(rule_id)
        limit = rule.limit_fen if rule is not None and RULE_UNITS.get(rule_id) == "count" \
            else None
        out.append(Change(
            "orange", "new-record", rule_id, before, now, limit, "count", _evidence(rule),
            text_zh=f"名下{zh}由 {before} 项增加到 {now} 项。",
            text_en=f"The household's {en} went from {before} to {now}."))
    return out


def _missing(current: Snapshot) -> list[Change]:
    out = []
    for r in current.rules:
        if r.verdict != RR.VERDICT_UNKNOWN:
            continue
        zh, en = _titles(r)
        out.append(Change(
            "yellow", "unknown", r.rule_id, None, None, r.limit_fen,
            RULE_UNITS.get(r.rule_id, "fen"), _evidence(r),
            text_zh=f"{zh}缺少部门数据，本次无法核对。",
            text_en=f"{en} could not be checked this time: a department's data is missing."))
    for d in dict.fromkeys(current.missing_departments):
        out.append(Change(
            "yellow", "missing-department", "", None, None, None, "", (), department=d,
            text_zh=f"部门 {d} 本次未答复，相关情况无法核对。",
            text_en=f"The department {d} did not answer this time; what it holds could "
                    "not be checked."))
    return out


def highest(grades: Iterable[str]) -> str | None:
    """The highest of ``grades`` (red > orange > yellow); None for none."""
    ranked = sorted(grades, key=_RANK.__getitem__)
    return ranked[0] if ranked else None


def grade(previous: Snapshot | None, current: Snapshot, *,
          approach_share: float = 0.9) -> Alert | None:
    """The alert for ``current`` against ``previous`` (None: no earlier determination),
    or None when nothing calls for a caseworker."""
    share = _share(approach_share)
    red = _ineligible(previous, current)
    failing = {c.rule_id for c in red}
    changes: Sequence[Change] = [
        *red, *(c for c in _approaching(previous, current, share) if c.rule_id not in failing),
        *_new_records(previous, current), *_missing(current)]
    top = highest(c.grade for c in changes)
    if top is None:
        return None
    return Alert(top, tuple(sorted(changes, key=lambda c: _RANK[c.grade])))

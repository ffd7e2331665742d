"""A determination report in words: names for codes and evidence a person can read.

The report's body is read by an applicant and, years later, by an appeal body: it says
"上海市徐汇区", not ``310104``, and "中国银行 存款余额 ¥12,345.67，截至 2026-10-31", not
``deposits.0.balance_fen``. Every value shown comes from the signed answers embedded in
the report itself, so the words are exactly as trustworthy as the report.

Evidence names its subject by a pseudonym the center's key makes, which cannot be
recomputed here; :func:`match_subjects` finds each pseudonym's member from the
evidence alone (which member's records hold the cited paths, and the order the
assessment walks members in). A pseudonym it cannot pin down is shown without values.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from google.protobuf.message import DecodeError, Message

from hedui import resident_id
from hedui.agents.departments import unwrap
from hedui.china_time import CHINA
from hedui.department_names import TITLES
from hedui.gateway.figures import format_yuan
from hedui.timestamps import from_timestamp
from hedui.v1 import case_pb2, common_pb2, query_pb2, records_pb2

Words = tuple[str, str]  # (中文, English)

REGIONS_FILE = Path(__file__).with_name("regions.toml")

#: programme code → its official name (the plan's list of social-assistance programmes)
PROGRAMMES: dict[str, Words] = {
    "dibao": ("城乡居民最低生活保障", "Minimum living guarantee (dibao)"),
    "low-income": ("低收入家庭认定", "Low-income household determination"),
    "tekun": ("特困人员救助供养", "Support for persons in extreme poverty"),
    "low-rent-housing": ("廉租住房保障", "Low-rent housing"),
    "affordable-housing": ("经济适用住房", "Affordable housing"),
    "temporary-assistance": ("临时救助", "Temporary assistance"),
    "medical-assistance": ("医疗救助", "Medical assistance"),
    "education-assistance": ("教育救助", "Education assistance"),
}

RELATIONS: dict[int, Words] = {
    records_pb2.RELATION_SELF: ("申请人", "applicant"),
    records_pb2.RELATION_SPOUSE: ("配偶", "spouse"),
    records_pb2.RELATION_CHILD: ("子女", "child"),
    records_pb2.RELATION_PARENT: ("父母", "parent"),
    records_pb2.RELATION_SIBLING: ("兄弟姐妹", "sibling"),
    records_pb2.RELATION_GRANDPARENT: ("祖父母", "grandparent"),
    records_pb2.RELATION_GRANDCHILD: ("孙子女", "grandchild"),
    records_pb2.RELATION_OTHER: ("其他", "other"),
}

_MUNICIPALITIES = ("11", "12", "31", "50")


def programme_name(code: str) -> Words:
    return PROGRAMMES.get(code, (code, code))


def department_name(department: str) -> Words:
    return TITLES.get(department, (department, department))


@cache
def _regions() -> dict[str, dict[str, str]]:
    with REGIONS_FILE.open("rb") as f:
        return {str(k): v for k, v in tomllib.load(f).get("codes", {}).items()}


def region_name(code: str) -> Words:
    """The region's full name, province first: 310104 → 上海市徐汇区 / Xuhui District,
    Shanghai. An unknown code is shown as it is."""
    table = _regions()
    if code not in table:
        return (code, code)
    chain = [code[:2] + "0000"]
    if code[:2] not in _MUNICIPALITIES:
        chain.append(code[:4] + "00")
    chain.append(code)
    names = [table[c] for c in dict.fromkeys(chain) if c in table]
    return "".join(n["zh"] for n in names), ", ".join(n["en"] for n in reversed(names))


def date_words(d: common_pb2.Date) -> str:
    """2026-10-31, or 2026-10 for a month (day 0); empty when unset."""
    if not d.year:
        return ""
    return f"{d.year:04d}-{d.month:02d}" + (f"-{d.day:02d}" if d.day else "")


def yuan(fen: int) -> str:
    """Fen as money: 1234567 → ¥12,345.67, -1 → -¥0.01."""
    return f"-¥{format_yuan(-fen)}" if fen < 0 else f"¥{format_yuan(fen)}"


# ------------------------------------------------------------------ field words

#: a field path (indexes as ``*``) → what it is, in words
FIELDS: dict[str, Words] = {
    "deposits.*.balance_fen": ("存款余额", "deposit balance"),
    "deposits.*.kind": ("存款类型", "deposit kind"),
    "securities.*.market_value_fen": ("有价证券市值", "securities' market value"),
    "income.*.amount_fen": ("利息及股息收入", "interest and dividends"),
    "wages.*.amount_fen": ("工资", "wages"),
    "insurance.*.monthly_contribution_base_fen": ("社会保险缴费基数",
                                                  "insurance contribution base"),
    "pensions.*.monthly_amount_fen": ("养老金", "pension"),
    "unemployment_benefits.*.monthly_amount_fen": ("失业保险金", "unemployment benefit"),
    "benefits.*.monthly_amount_fen": ("住房保障补贴", "housing-security subsidy"),
    "assistance_payments.*.monthly_amount_fen": ("社会救助金", "social-assistance payment"),
    "account.balance_fen": ("住房公积金余额", "provident-fund balance"),
    "vehicles.*.kind": ("机动车登记", "vehicle registration"),
    "vehicles.*.status": ("机动车状态", "vehicle status"),
    "vehicles.*.assessed_value_fen": ("机动车评估价值", "vehicle's assessed value"),
    "vehicles.*.purchase_price_fen": ("机动车购置价格", "vehicle's purchase price"),
    "properties.*.nature": ("房产登记", "property registration"),
    "properties.*.certificate_id": ("不动产权证号", "property certificate number"),
    "properties.*.floor_area_m2": ("房产建筑面积", "floor area"),
    "properties.*.share_percent": ("房产份额", "ownership share"),
    "businesses.*.subscribed_capital_fen": ("认缴资本", "subscribed capital"),
    "businesses.*.status": ("企业登记状态", "business status"),
    "filings.*.taxable_income_fen": ("个体经营应纳税所得额", "private-business taxable income"),
}
#: a record's first segment → what it is about (for a path not in FIELDS)
_SECTIONS: dict[str, Words] = {
    "deposits": ("存款", "deposits"), "securities": ("有价证券", "securities"),
    "income": ("财产收入", "property income"), "wages": ("工资", "wages"),
    "insurance": ("社会保险", "social insurance"), "pensions": ("养老金", "pensions"),
    "unemployment_benefits": ("失业保险金", "unemployment benefits"),
    "employment": ("就业登记", "employment registration"),
    "benefits": ("住房保障", "housing benefits"), "properties": ("房产", "property"),
    "assistance_payments": ("社会救助", "social assistance"),
    "marriage": ("婚姻登记", "marriage"), "ngo_registrations": ("民办非企业", "NGOs"),
    "account": ("住房公积金账户", "provident-fund account"),
    "withdrawals": ("公积金提取", "withdrawals"), "loans": ("公积金贷款", "housing loans"),
    "vehicles": ("机动车", "vehicles"), "household_registration": ("户籍", "hukou"),
    "businesses": ("工商登记", "business registrations"), "filings": ("纳税申报", "tax filings"),
}
_PATH = re.compile(r"\b[a-z][a-z_]*(?:\.(?:\*|\d+|[a-z][a-z_]*))+\b")
_INDEX = re.compile(r"\.\d+(?=\.|$)")


def template(path: str) -> str:
    """``deposits.0.balance_fen`` → ``deposits.*.balance_fen``."""
    return _INDEX.sub(".*", path)


def field_words(path: str) -> Words:
    known = FIELDS.get(template(path))
    if known is not None:
        return known
    section = _SECTIONS.get(path.split(".", 1)[0])
    if section is not None:
        return f"{section[0]}信息", f"{section[1]} data"
    return "相关记录", "a record"


def scrub_paths(text: str, english: bool = False) -> str:
    """Text (a rule's explanation, a gap's reason) with every field path put in words."""
    return _PATH.sub(lambda m: field_words(m.group(0))[1 if english else 0], text)


#: the standards' vehicle kinds, as rules' explanations name them
_VEHICLE_KIND_CODES: dict[str, Words] = {
    "passenger-car": ("小型客车", "passenger cars"), "motorcycle": ("摩托车", "motorcycles"),
    "truck": ("货车", "trucks"), "low-speed": ("低速车", "low-speed vehicles"),
}
_KIND_CODE = re.compile(r"\b(?:" + "|".join(map(re.escape, _VEHICLE_KIND_CODES)) + r")\b")


def scrub_codes(text: str, english: bool = False) -> str:
    """:func:`scrub_paths`, and the vehicle kinds a standard counts put in words."""
    text = scrub_paths(text, english)
    return _KIND_CODE.sub(lambda m: _VEHICLE_KIND_CODES[m.group(0)][1 if english else 0], text)


# ------------------------------------------------------------------ records


def resolve(record: Message, path: str) -> list[Message | object] | None:
    """The chain of values ``path`` walks through in ``record`` (last = the leaf), or
    None when the record does not hold it (an index past the end, an unknown field)."""
    chain: list[Message | object] = []
    here: object = record
    for part in path.split("."):
        if part.isdigit():
            try:
                here = here[int(part)]  # type: ignore[index]
            except (IndexError, TypeError):
                return None
        else:
            if not isinstance(here, Message) or part not in here.DESCRIPTOR.fields_by_name:
                return None
            here = getattr(here, part)
        chain.append(here)
    return chain


def _compact(id_number: str) -> str:
    try:
        return resident_id.normalize(id_number)
    except resident_id.InvalidIdNumber:
        return "".join(id_number.split()).upper()


@dataclass(frozen=True)
class DepartmentAnswer:
    """One embedded answer, read: when it was given, how current, each member's record."""

    department: str
    answer: query_pb2.Answer
    records: dict[int, Message]  # member index → that department's record

    @property
    def data_as_of(self) -> str:
        return date_words(self.answer.data_as_of)

    @property
    def answered_at(self) -> str:
        if not self.answer.HasField("answered_at"):
            return ""
        return from_timestamp(self.answer.answered_at).astimezone(CHINA).strftime(
            "%Y-%m-%d %H:%M")


def read_answers(report: case_pb2.DeterminationReport) -> dict[str, DepartmentAnswer]:
    """The report's answers by department (an unreadable one is left out: the page
    still prints; ``hedui report verify`` is what judges it)."""
    index = {_compact(m.id_number): i for i, m in enumerate(report.members)}
    out: dict[str, DepartmentAnswer] = {}
    for ref in report.answers:
        answer = query_pb2.Answer()
        try:
            answer.ParseFromString(ref.answer.payload)
        except DecodeError:
            continue
        records: dict[int, Message] = {}
        for s in answer.subjects:
            i = index.get(_compact(s.id_number))
            unwrapped = unwrap(s.record) if s.HasField("record") else None
            if i is not None and unwrapped is not None:
                records[i] = unwrapped[1]
        out[ref.department] = DepartmentAnswer(ref.department, answer, records)
    return out


def all_evidence(report: case_pb2.DeterminationReport) -> Iterator[Sequence[case_pb2.Evidence]]:
    for item in (*report.profile.income, *report.profile.assets):
        yield item.evidence
    for rule in report.rules:
        yield rule.evidence


def match_subjects(report: case_pb2.DeterminationReport,
                   answers: dict[str, DepartmentAnswer], limit: int = 64) -> dict[str, int]:
    """Pseudonym → member index, where the evidence settles it: a member is a candidate
    when their records hold every path cited for the pseudonym; within one profile line
    the assessment walks members in order, so pseudonyms there appear in member order; one
    member per pseudonym. Of all assignments that fit (up to ``limit``), the pseudonyms
    they agree on are returned."""
    cited: dict[str, list[case_pb2.Evidence]] = {}
    for group in all_evidence(report):
        for ev in group:
            if ev.subject_pseudonym:
                cited.setdefault(ev.subject_pseudonym, []).append(ev)
    before: set[tuple[str, str]] = set()
    for item in (*report.profile.income, *report.profile.assets):  # one figure each: a
        last: dict[str, str] = {}  # rule's evidence joins several, so its order is not one
        for ev in item.evidence:
            prev = last.get(ev.department)
            if ev.subject_pseudonym and prev and prev != ev.subject_pseudonym:
                before.add((prev, ev.subject_pseudonym))
            if ev.subject_pseudonym:
                last[ev.department] = ev.subject_pseudonym
    members = range(len(report.members))
    candidates = {
        p: [i for i in members if all(
            (a := answers.get(e.department)) is not None and i in a.records
            and resolve(a.records[i], e.field_path) is not None for e in evs)]
        for p, evs in cited.items()}
    order = sorted(candidates, key=lambda p: len(candidates[p]))
    solutions: list[dict[str, int]] = []

    def fits(p: str, i: int, chosen: dict[str, int]) -> bool:
        for q, j in chosen.items():
            if j == i or ((p, q) in before and not i < j) or ((q, p) in before and not j < i):
                return False
        return True

    def search(k: int, chosen: dict[str, int]) -> None:
        if len(solutions) >= limit:
            return
        if k == len(order):
            solutions.append(dict(chosen))
            return
        p = order[k]
        for i in candidates[p]:
            if fits(p, i, chosen):
                chosen[p] = i
                search(k + 1, chosen)
                del chosen[p]

    search(0, {})
    if not solutions:
        return {}
    first = solutions[0]
    return {p: i for p, i in first.items() if all(s[p] == i for s in solutions)}


# ------------------------------------------------------------------ evidence phrases


_VEHICLE_KINDS: dict[int, Words] = {
    records_pb2.Vehicle.KIND_PASSENGER_CAR: ("小型客车", "passenger car"),
    records_pb2.Vehicle.KIND_MOTORCYCLE: ("摩托车", "motorcycle"),
    records_pb2.Vehicle.KIND_TRUCK: ("货车", "truck"),
    records_pb2.Vehicle.KIND_LOW_SPEED: ("低速车", "low-speed vehicle"),
    records_pb2.Vehicle.KIND_OTHER: ("其他车辆", "other vehicle"),
}
_NATURES: dict[int, Words] = {
    records_pb2.Property.NATURE_RESIDENTIAL: ("住宅", "home"),
    records_pb2.Property.NATURE_NON_RESIDENTIAL: ("非住宅", "non-residential property"),
}


def _period(p: common_pb2.Period) -> str:
    a, b = date_words(p.start), date_words(p.end)
    return f"{a}–{b}" if a or b else ""


def _as_of(d: common_pb2.Date) -> Words:
    w = date_words(d)
    return (f"，截至 {w}", f", as of {w}") if w else ("", "")


def record_words(path: str, chain: list[object]) -> Words:
    """One cited record in words, with its value and what identifies it. A field the
    query did not ask for (the policy reads only what the rules need) arrives unset, so
    it is left out rather than said as 0 or an empty name."""
    leaf, parent = chain[-1], (chain[-2] if len(chain) > 1 else None)
    label = field_words(path)
    t = template(path)
    if t == "deposits.*.balance_fen" and isinstance(parent, records_pb2.Deposit):
        zh, en = _as_of(parent.as_of)
        inst = parent.institution
        return (f"{inst} 存款余额 {yuan(parent.balance_fen)}{zh}".strip(),
                f"{inst} deposit {yuan(parent.balance_fen)}{en}".strip())
    if t == "securities.*.market_value_fen" and isinstance(parent, records_pb2.Security):
        zh, en = _as_of(parent.as_of)
        inst = parent.institution
        return (f"{inst} 有价证券市值 {yuan(parent.market_value_fen)}{zh}".strip(),
                f"{inst} securities {yuan(parent.market_value_fen)}{en}".strip())
    if t == "vehicles.*.kind" and isinstance(parent, records_pb2.Vehicle):
        kind = _VEHICLE_KINDS.get(parent.kind, ("未登记类型车辆", "vehicle of no recorded kind"))
        value = parent.assessed_value_fen or parent.purchase_price_fen
        if not value:
            return f"{kind[0]} 1 辆", f"1 {kind[1]}"
        return f"{kind[0]} 1 辆，价值 {yuan(value)}", f"1 {kind[1]}, worth {yuan(value)}"
    if t == "properties.*.nature" and isinstance(parent, records_pb2.Property):
        nature = _NATURES.get(parent.nature, ("未登记性质房产", "property of no recorded nature"))
        zh, en = [nature[0]], [nature[1]]
        if parent.floor_area_m2:
            zh.append(f"{parent.floor_area_m2:g} 平方米")
            en.append(f"of {parent.floor_area_m2:g} m²")
        if parent.share_percent:
            zh.append(f"份额 {parent.share_percent:g}%")
            en.append(f"share {parent.share_percent:g}%")
        if parent.assessed_value_fen:
            zh.append(f"评估价值 {yuan(parent.assessed_value_fen)}")
            en.append(f"valued {yuan(parent.assessed_value_fen)}")
        return "，".join([" ".join(zh[:2]), *zh[2:]]), ", ".join([" ".join(en[:2]), *en[2:]])
    if t == "businesses.*.subscribed_capital_fen" and isinstance(
            parent, records_pb2.BusinessRegistration):
        name = parent.name or "登记企业"
        return (f"{name} 认缴资本 {yuan(parent.subscribed_capital_fen)}",
                f"{parent.name or 'a registered business'}: subscribed capital "
                f"{yuan(parent.subscribed_capital_fen)}")
    if t == "insurance.*.monthly_contribution_base_fen" and isinstance(
            parent, records_pb2.InsuranceEnrolment):
        base = yuan(parent.monthly_contribution_base_fen)
        return (f"{parent.employer} 社保缴费基数 {base}/月（无工资记录，按缴费基数计）".strip(),
                f"{parent.employer}: insurance contribution base {base}/month (no wage "
                "record: counted at the base)".strip())
    if isinstance(leaf, int) and not isinstance(leaf, bool) and path.endswith("_fen"):
        monthly = "monthly" in path
        period = getattr(parent, "period", None)
        span = _period(period) if isinstance(period, common_pb2.Period) else ""
        zh = f"{label[0]} {yuan(leaf)}" + ("/月" if monthly else "")
        en = f"{label[1]} {yuan(leaf)}" + ("/month" if monthly else "")
        return (zh + f"（{span}）", en + f" ({span})") if span else (zh, en)
    return label


@dataclass
class Phrase:
    """Evidence of one department about one member (or the household) in words."""

    department: str
    member: int | None
    zh: str
    en: str


class EvidenceWords:
    """Puts a report's evidence in words; ``full_names`` for the applicant's own copy."""

    def __init__(self, report: case_pb2.DeterminationReport, *, full_names: bool) -> None:
        from hedui.gateway.masking import mask_name

        self.report = report
        self.answers = read_answers(report)
        self.subjects = match_subjects(report, self.answers)
        self._who: list[Words] = []
        for m in report.members:
            zh, en = RELATIONS.get(m.relation, ("成员", "member"))
            name = m.name if full_names else mask_name(m.name)
            self._who.append((f"{zh} {name}".strip(), f"{en} {name}".strip()))

    def who(self, member: int | None) -> Words:
        return self._who[member] if member is not None else ("", "")

    def phrases(self, evidence: Iterable[case_pb2.Evidence], cap: int = 4) -> list[Phrase]:
        """The evidence of a profile line in words; wages of one employer are summed
        over their months; at most ``cap`` phrases, then how many more."""
        out: list[Phrase] = []
        wages: dict[tuple[str, int | None, str], tuple[Phrase, list[int]]] = {}
        for ev in evidence:
            member = self.subjects.get(ev.subject_pseudonym)
            answer = self.answers.get(ev.department)
            record = answer.records.get(member) if answer and member is not None else None
            chain = resolve(record, ev.field_path) if record is not None else None
            if chain is not None and len(chain) > 1 and isinstance(
                    chain[-2], records_pb2.WagePayment):
                key = (ev.department, member, chain[-2].employer)
                if key not in wages:
                    wages[key] = (Phrase(ev.department, member, "", ""), [])
                    out.append(wages[key][0])
                wages[key][1].append(chain[-2].amount_fen)
                continue
            zh, en = field_words(ev.field_path) if chain is None else record_words(
                ev.field_path, chain)
            if not any((p.department, p.member, p.zh) == (ev.department, member, zh)
                       for p in out):
                out.append(Phrase(ev.department, member, zh, en))
        for (_, _, employer), (phrase, amounts) in wages.items():
            phrase.zh = f"{employer} 工资 {len(amounts)} 个月，合计 {yuan(sum(amounts))}".strip()
            phrase.en = f"{employer}: wages for {len(amounts)} months, {yuan(sum(amounts))}"
        if len(out) > cap:
            more = len(out) - cap + 1
            out = out[:cap - 1]
            out.append(Phrase("", None, f"另有 {more} 项", f"and {more} more"))
        return out

    def rule_sources(self, rule: case_pb2.RuleResult) -> list[Words]:
        """What a rule rests on, per department: how many records it cites, or that the
        department holds none relevant (when each answered: the departments' table)."""
        counts: dict[str, int] = {}
        for ev in rule.evidence:
            counts.setdefault(ev.department, 0)
            if ev.subject_pseudonym:
                counts[ev.department] += 1
        out: list[Words] = []
        for department, n in counts.items():
            zh, en = department_name(department)
            if n:
                out.append((f"{zh} {n} 条记录", f"{en}: {n} record(s)"))
            else:
                out.append((f"{zh} 无相关记录", f"{en}: no relevant record"))
        return out

"""The household profile: what a household earns and owns, computed from verified answers.

Turns the departments' answers about every member into the figures the standard's
rules compare: monthly income per person by source over the standard's window, money
assets, vehicles, properties and business capital. Every figure lists the records it
came from as ``case_pb2.Evidence`` (department, answer digest, field path with the
element index, subject pseudonym), so a verifier can point at the answer that decided
it and no ID number ever enters the evidence.

Choices, each one documented where it is made:

* **Window.** The income window is the ``N`` whole calendar months before the month of
  ``as_of`` (that month is not over yet): ``as_of`` 2024-07-15, 6 months → 2024-01..06.
* **Wages** are the human-resources wage payments whose month lies in the window. When a
  member has no wage payment in the window but an active social-insurance enrolment, and
  the standard's ``wage_fallback`` is ``contribution-base``, the member is taken to earn
  the highest active monthly contribution base (缴费基数 follows the declared wage) for
  each window month since enrolment: employers who do not report wages still pay
  insurance, and silence must not read as no income.
* **Net business income** is the taxable income of *private-business* tax filings (it
  is already net of costs); individual filings are not added, since an individual's
  taxable income is mostly the wage counted already. A filing's loss counts as zero: no
  business loss offsets other income, which also keeps every figure monotone (a missing
  answer can only raise it, see :mod:`hedui.gateway.assessment`).
* **Net property income** is the banks' interest and dividend income. **Pensions**,
  **unemployment benefits** and **housing subsidies** (housing-security benefits) are
  each their own kind, as are **assistance** payments from civil affairs: published
  rules count some and exclude others (social assistance is never income; many
  counties exclude housing subsidies), so the standard's ``counted`` says which count
  and the report lists the others as excluded.
* **Spreading.** A monthly amount counts once for each window month its period covers
  (a partly covered month counts whole: benefits are paid by the month). An amount over
  a period (a tax year, an interest period) counts pro rata to the months of the period
  inside the window.
* **Money assets** are deposit balances plus securities' market value, plus the
  provident-fund balance only when the standard says so (many localities exclude it:
  it can only be withdrawn for housing or retirement).
* **Vehicles** count when their kind is one the standard counts and their status is not
  scrapped, transferred or stolen; a vehicle's value is its assessed value, else its
  purchase price. **Properties** are counted per certificate (the same certificate held
  by two members counts once); owned floor area is area x share.
* **Arithmetic** is integer only: fen, and hundredths of a m² for areas (read from the
  record's double via its shortest decimal repr). Every division rounds half up (toward
  +infinity at exactly .5) through :func:`div_round_half_up`, and totals are divided once,
  so the total per person is computed from the exact window total, not from rounded
  lines (lines may therefore not add up to it by a fen or so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from hedui import resident_id
from hedui.agents.departments import DEPARTMENTS, unwrap
from hedui.gateway.figures import (
    Figure,
    Gap,
    IncomeWindow,
    Profile,
    div_round_half_up,
    format_area,
    format_yuan,
    hundredths,
    income_window,
    month_of,
    paths_overlap,
)
from hedui.gateway.standards import INCOME_KINDS, Standard
from hedui.v1 import case_pb2, common_pb2, query_pb2, records_pb2

__all__ = [
    "ASSET_KINDS",
    "MONEY_ASSET_KINDS",
    "AnswerLike",
    "Figure",
    "Gap",
    "IncomeWindow",
    "Profile",
    "Pseudonym",
    "build_profile",
    "div_round_half_up",
    "format_area",
    "format_yuan",
    "income_window",
    "make_profile",
    "paths_overlap",
]

#: a function from a resident ID number to its pseudonym (keyed HMAC in production)
Pseudonym = Callable[[str], str]
#: one department's verified answer: ``(Answer, SHA-256 of the signed payload)``, or an
#: object with ``.answer`` and ``.digest`` (hedui.gateway.answers.VerifiedAnswer)
AnswerLike = Any

MONEY_ASSET_KINDS = ("deposits", "securities", "provident-fund")
ASSET_KINDS = (
    *MONEY_ASSET_KINDS,
    "vehicles",
    "residential-property",
    "non-residential-property",
    "business-capital",
)

_V = records_pb2.Vehicle
_VEHICLE_KIND_NAMES = {
    _V.KIND_PASSENGER_CAR: "passenger-car",
    _V.KIND_MOTORCYCLE: "motorcycle",
    _V.KIND_TRUCK: "truck",
    _V.KIND_LOW_SPEED: "low-speed",
    _V.KIND_OTHER: "other",
}
_GONE_VEHICLE = (_V.STATUS_SCRAPPED, _V.STATUS_TRANSFERRED, _V.STATUS_STOLEN)
_P = records_pb2.Property
_B = records_pb2.BusinessRegistration


# ------------------------------------------------------------------ building


@lru_cache(maxsize=65536)  # each member's number is looked up once per department answer
def _compact_id(id_number: str) -> str:
    """The canonical form (members are normalised at intake, answers by the agents);
    one that is not a valid number still gets a stable key so it is reported, not lost."""
    try:
        return resident_id.normalize(id_number)
    except resident_id.InvalidIdNumber:
        return "".join(id_number.split()).upper()


def _as_pair(department: str, value: AnswerLike) -> tuple[query_pb2.Answer, bytes]:
    if isinstance(value, tuple):
        answer, digest = value
    else:
        answer, digest = value.answer, value.digest
    if not isinstance(answer, query_pb2.Answer):
        raise TypeError(f"the answer of {department} is not a hedui.v1.Answer")
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise ValueError(f"the answer digest of {department} must be 32 bytes (SHA-256)")
    return answer, digest


_WITHHELD_ZH = {
    query_pb2.Withheld.REASON_NOT_IN_POLICY: "交换策略不允许",
    query_pb2.Withheld.REASON_NARROWED_LOCALLY: "部门本地收窄",
    query_pb2.Withheld.REASON_NO_SUCH_FIELD: "无此字段",
    query_pb2.Withheld.REASON_NOT_HELD: "部门未保存",
}
_WITHHELD_EN = {
    query_pb2.Withheld.REASON_NOT_IN_POLICY: "not allowed by the exchange policy",
    query_pb2.Withheld.REASON_NARROWED_LOCALLY: "narrowed by the department",
    query_pb2.Withheld.REASON_NO_SUCH_FIELD: "no such field",
    query_pb2.Withheld.REASON_NOT_HELD: "not held by the department",
}


class _Collector:
    """Walks each member's records once and fills the figures."""

    def __init__(
        self,
        standard: Standard,
        window: IncomeWindow,
        answers: Mapping[str, tuple[query_pb2.Answer, bytes]],
    ) -> None:
        self.standard = standard
        self.window = window
        self.answers = answers
        self.income = {k: Figure(k) for k in INCOME_KINDS}
        self.assets = {k: Figure(k) for k in ASSET_KINDS}
        self.vehicle_count = 0
        self.residential: dict[str, int] = {}
        self.non_residential: dict[str, int] = {}
        self.residential_area = 0

    def evidence(self, department: str, path: str, subject: str) -> case_pb2.Evidence:
        return case_pb2.Evidence(
            department=department,
            answer_digest=self.answers[department][1],
            field_path=path,
            subject_pseudonym=subject,
        )

    # --- spreading amounts over the window --------------------------------------

    def monthly(self, amount: int, start: int | None, end: int | None) -> int:
        return amount * self.window.overlap(start, end)

    def pro_rata(self, amount: int, period: common_pb2.Period) -> int:
        start, end = month_of(period.start), month_of(period.end)
        if start is None and end is None:
            return amount  # no dates: conservatively all in the window
        if start is None:
            start = end
        if end is None:
            end = max(start, self.window.last)  # type: ignore[type-var]
        assert start is not None and end is not None
        if end < start:
            end = start
        inside = self.window.overlap(start, end)
        return div_round_half_up(amount * inside, end - start + 1)

    # --- per department ---------------------------------------------------------

    def human_resources(self, r: records_pb2.HumanResourcesRecord, who: str) -> None:
        d = "human-resources"
        wages = self.income["wages"]
        paid = False
        for i, w in enumerate(r.wages):
            month = month_of(w.month)
            if month is not None and self.window.first <= month <= self.window.last:
                wages.add(w.amount_fen, self.evidence(d, f"wages.{i}.amount_fen", who))
                paid = True
        if not paid and self.standard.wage_fallback == "contribution-base":
            active = [
                (e.monthly_contribution_base_fen, i, e)
                for i, e in enumerate(r.insurance)
                if e.active and e.monthly_contribution_base_fen > 0
            ]
            if active:
                base, i, e = max(active, key=lambda t: (t[0], -t[1]))
                months = self.window.overlap(month_of(e.since), None)
                if months:
                    wages.add(
                        base * months,
                        self.evidence(d, f"insurance.{i}.monthly_contribution_base_fen", who),
                    )
        pensions = self.income["pensions"]
        for i, p in enumerate(r.pensions):
            amount = self.monthly(p.monthly_amount_fen, month_of(p.since), None)
            if amount:
                pensions.add(amount, self.evidence(d, f"pensions.{i}.monthly_amount_fen", who))
        benefits = self.income["unemployment-benefits"]
        for i, u in enumerate(r.unemployment_benefits):
            amount = self.monthly(
                u.monthly_amount_fen, month_of(u.period.start), month_of(u.period.end)
            )
            if amount:
                benefits.add(
                    amount, self.evidence(d, f"unemployment_benefits.{i}.monthly_amount_fen", who)
                )

    def housing(self, r: records_pb2.HousingRecord, who: str) -> None:
        d = "housing"
        subsidies = self.income["housing-subsidies"]
        for i, b in enumerate(r.benefits):
            amount = self.monthly(
                b.monthly_amount_fen, month_of(b.period.start), month_of(b.period.end)
            )
            if amount:
                subsidies.add(amount, self.evidence(d, f"benefits.{i}.monthly_amount_fen", who))
        for i, p in enumerate(r.properties):
            share = hundredths(p.share_percent) or 10000
            share = min(share, 10000)
            value = div_round_half_up(p.assessed_value_fen * share, 10000)
            key = p.certificate_id or f"\x00{who}:{i}"
            ev = self.evidence(d, f"properties.{i}.nature", who)
            if p.nature == _P.NATURE_RESIDENTIAL:
                self.residential.setdefault(key, i)
                self.residential_area += div_round_half_up(
                    hundredths(p.floor_area_m2) * share, 10000
                )
                self.assets["residential-property"].add(value, ev)
            elif p.nature == _P.NATURE_NON_RESIDENTIAL:
                self.non_residential.setdefault(key, i)
                self.assets["non-residential-property"].add(value, ev)
            else:
                fig = self.assets["residential-property"]
                fig.evidence.append(ev)
                fig.review_notes.append(
                    (
                        "一处房产未登记性质（住宅或非住宅）",
                        "a property has no recorded nature (residential or not)",
                    )
                )

    def civil_affairs(self, r: records_pb2.CivilAffairsRecord, who: str) -> None:
        fig = self.income["assistance"]
        for i, a in enumerate(r.assistance_payments):
            amount = self.monthly(
                a.monthly_amount_fen, month_of(a.period.start), month_of(a.period.end)
            )
            if amount:
                fig.add(
                    amount,
                    self.evidence(
                        "civil-affairs", f"assistance_payments.{i}.monthly_amount_fen", who
                    ),
                )

    def banks(self, r: records_pb2.BanksRecord, who: str) -> None:
        d = "banks"
        for i, dep in enumerate(r.deposits):
            self.assets["deposits"].add(
                dep.balance_fen, self.evidence(d, f"deposits.{i}.balance_fen", who)
            )
        for i, s in enumerate(r.securities):
            self.assets["securities"].add(
                s.market_value_fen, self.evidence(d, f"securities.{i}.market_value_fen", who)
            )
        for i, inc in enumerate(r.income):
            amount = self.pro_rata(inc.amount_fen, inc.period)
            if amount > 0:
                self.income["net-property"].add(
                    amount, self.evidence(d, f"income.{i}.amount_fen", who)
                )

    def provident_fund(self, r: records_pb2.ProvidentFundRecord, who: str) -> None:
        if r.HasField("account") and r.account.balance_fen:
            self.assets["provident-fund"].add(
                r.account.balance_fen,
                self.evidence("provident-fund", "account.balance_fen", who),
            )

    def public_security(self, r: records_pb2.PublicSecurityRecord, who: str) -> None:
        fig = self.assets["vehicles"]
        for i, v in enumerate(r.vehicles):
            if v.status in _GONE_VEHICLE:
                continue
            kind = _VEHICLE_KIND_NAMES.get(v.kind)
            ev = self.evidence("public-security", f"vehicles.{i}.kind", who)
            if kind is None:
                fig.evidence.append(ev)
                fig.review_notes.append(("一辆车辆未登记类型", "a vehicle has no recorded kind"))
                continue
            if kind not in self.standard.vehicle_counted_kinds:
                continue
            self.vehicle_count += 1
            value = v.assessed_value_fen or v.purchase_price_fen
            fig.add(value, ev)

    def market_regulation(self, r: records_pb2.MarketRegulationRecord, who: str) -> None:
        fig = self.assets["business-capital"]
        for i, b in enumerate(r.businesses):
            if b.status in (_B.STATUS_REVOKED, _B.STATUS_DEREGISTERED):
                continue
            fig.add(
                b.subscribed_capital_fen,
                self.evidence("market-regulation", f"businesses.{i}.subscribed_capital_fen", who),
            )

    def tax(self, r: records_pb2.TaxRecord, who: str) -> None:
        fig = self.income["net-business"]
        for i, f in enumerate(r.filings):
            if f.taxpayer_kind != records_pb2.TaxFiling.TAXPAYER_KIND_PRIVATE_BUSINESS:
                continue
            amount = self.pro_rata(f.taxable_income_fen, f.period)
            if amount > 0:  # a loss counts as zero (module docstring)
                fig.add(amount, self.evidence("tax", f"filings.{i}.taxable_income_fen", who))


_HANDLERS: dict[str, Callable[[_Collector, Any, str], None]] = {
    "public-security": _Collector.public_security,
    "housing": _Collector.housing,
    "human-resources": _Collector.human_resources,
    "civil-affairs": _Collector.civil_affairs,
    "banks": _Collector.banks,
    "provident-fund": _Collector.provident_fund,
    "market-regulation": _Collector.market_regulation,
    "tax": _Collector.tax,
}


def build_profile(
    members: Sequence[case_pb2.Member],
    answers: Mapping[str, AnswerLike],
    standard: Standard,
    *,
    as_of: date,
    missing: Sequence[tuple[str, str]] = (),
    pseudonym: Pseudonym,
) -> Profile:
    """Compute the household profile from verified answers.

    Preconditions (checked, ValueError): at least one member; members' ID numbers
    distinct; departments known; no department both answered and missing; digests 32
    bytes. What is absent — a department missing or not asked, a member the answer does
    not cover or could not read, a withheld field — becomes a :class:`Gap`, not an error.
    """
    if not members:
        raise ValueError("a household has at least one member")
    ids = [_compact_id(m.id_number) for m in members]
    if len(set(ids)) != len(ids) or not all(ids):
        raise ValueError("household members must have distinct, non-empty ID numbers")
    pairs = {d: _as_pair(d, v) for d, v in answers.items()}
    missing_map: dict[str, str] = {}
    for department, reason in missing:
        missing_map.setdefault(department, reason)
    for department in (*pairs, *missing_map):
        if department not in DEPARTMENTS:
            raise ValueError(f"unknown department {department!r}")
    both = sorted(set(pairs) & set(missing_map))
    if both:
        raise ValueError(f"department {both[0]} is both answered and missing")

    window = income_window(as_of, standard.income_window_months)
    collector = _Collector(standard, window, pairs)
    who = [pseudonym(m.id_number) for m in members]
    gaps: list[Gap] = []
    for department in DEPARTMENTS:
        title = DEPARTMENTS[department]
        if department in missing_map:
            reason = missing_map[department]
            gaps.append(
                Gap(
                    department,
                    "",
                    f"{title.title_zh}未答复（{reason}）",
                    f"{title.title_en} did not answer ({reason})",
                )
            )
            continue
        if department not in pairs:
            gaps.append(
                Gap(department, "", f"未询问{title.title_zh}", f"{title.title_en} was not asked")
            )
            continue
        answer, _ = pairs[department]
        for w in answer.withheld:
            gaps.append(
                Gap(
                    department,
                    w.path,
                    f"{title.title_zh}未提供字段 {w.path}"
                    f"（{_WITHHELD_ZH.get(w.reason, '未说明原因')}）",
                    f"{title.title_en} withheld {w.path} "
                    f"({_WITHHELD_EN.get(w.reason, 'no reason given')})",
                )
            )
        by_id = {_compact_id(s.id_number): s for s in answer.subjects}
        for member_id, subject in zip(ids, who, strict=True):
            sa = by_id.get(member_id)
            if sa is None or sa.status not in (
                query_pb2.SubjectAnswer.STATUS_FOUND,
                query_pb2.SubjectAnswer.STATUS_NOT_FOUND,
            ):
                what_zh = "未涵盖该成员" if sa is None else "无法读取该成员的记录"
                what_en = (
                    "does not cover a member"
                    if sa is None
                    else "could not read its records on a member"
                )
                gaps.append(
                    Gap(
                        department,
                        "",
                        f"{title.title_zh}的答复{what_zh}",
                        f"the answer of {title.title_en} {what_en}",
                        subject,
                    )
                )
                continue
            unwrapped = unwrap(sa.record)
            if unwrapped is None:
                continue  # NOT_FOUND (or nothing released): holds nothing on the member
            record_department, record = unwrapped
            if record_department != department:
                gaps.append(
                    Gap(
                        department,
                        "",
                        f"{title.title_zh}的答复含有其他部门的记录",
                        f"the answer of {title.title_en} holds another department's record",
                        subject,
                    )
                )
                continue
            _HANDLERS[department](collector, record, subject)

    return make_profile(
        standard,
        persons=len(members),
        window=window,
        income=collector.income,
        assets=collector.assets,
        vehicle_count=collector.vehicle_count,
        residential_count=len(collector.residential),
        non_residential_count=len(collector.non_residential),
        residential_area_cm2=collector.residential_area,
        gaps=tuple(gaps),
        answer_digests={d: digest for d, (_, digest) in pairs.items()},
    )


def make_profile(
    standard: Standard,
    *,
    persons: int,
    window: IncomeWindow,
    income: Mapping[str, Figure],
    assets: Mapping[str, Figure],
    vehicle_count: int = 0,
    residential_count: int = 0,
    non_residential_count: int = 0,
    residential_area_cm2: int = 0,
    gaps: tuple[Gap, ...] = (),
    answer_digests: Mapping[str, bytes] | None = None,
) -> Profile:
    """A profile from its figures: what the standard counts, and the totals it compares.

    ``income`` and ``assets`` hold a Figure for every kind (INCOME_KINDS, ASSET_KINDS).
    Used by :func:`build_profile` and by ``hedui standards check`` for sample households.
    """
    if persons < 1:
        raise ValueError("a household has at least one member")
    counted_income = tuple(k for k in income if k in standard.income_counted)
    income_total = sum(income[k].amount for k in counted_income)
    counted_money = ("deposits", "securities") + (
        ("provident-fund",) if standard.count_provident_fund else ()
    )
    return Profile(
        persons=persons,
        window=window,
        income=income,
        counted_income=counted_income,
        income_total_fen=income_total,
        monthly_income_per_person_fen=div_round_half_up(income_total, window.months * persons),
        assets=assets,
        counted_money_assets=counted_money,
        money_assets_fen=sum(assets[k].amount for k in counted_money),
        vehicle_count=vehicle_count,
        residential_count=residential_count,
        non_residential_count=non_residential_count,
        residential_area_cm2=residential_area_cm2,
        gaps=gaps,
        answer_digests=dict(answer_digests or {}),
    )

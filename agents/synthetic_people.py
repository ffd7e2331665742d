"""The synthetic population, in hedui's own terms, before any department sees it.

One model, eight views: ``synthetic_schema`` turns each household into rows of eight
department databases, each with its own table names, codes, units and date formats.
Keeping the model here, with the field names of the record messages (money in fen,
dates as ``datetime.date``, months as ``(year, month)``), lets tests rebuild the exact
records a mapping must return, and lets the eligibility label be computed once, from
the same numbers the departments hold.

Everything is drawn from one ``random.Random`` in a fixed order: the same seed, person
count and ``today`` give the same population, byte for byte. Names are built from a
few surnames and the heavenly stems and earthly branches, so nobody mistakes them for
real people.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

#: Shanghai dibao standard, fen per person per month (1,330 yuan from July 2021)
STANDARD_FEN = 133_000
#: money assets allowed per person: 4 x the annual standard
ASSET_LIMIT_FEN = 4 * 12 * STANDARD_FEN
#: subscribed capital allowed per household (Haiyan, Zhejiang rule)
CAPITAL_LIMIT_FEN = 100_000 * 100

LABELS: tuple[str, ...] = (
    "eligible",
    "ineligible-income",
    "ineligible-assets",
    "ineligible-vehicle",
    "ineligible-property",
    "ineligible-business",
    "borderline",
)

#: district codes valid for every birth year in stdnum's GB/T 2260 table
REGIONS: tuple[str, ...] = ("310101", "310104", "310105", "310106", "310107", "310109", "310110")
REGION_NAMES: dict[str, str] = {
    "310101": "黄浦区", "310104": "徐汇区", "310105": "长宁区", "310106": "静安区",
    "310107": "普陀区", "310109": "虹口区", "310110": "杨浦区",
}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
_ROADS = ("甲子路", "乙丑路", "丙寅路", "丁卯路", "戊辰路", "己巳路", "庚午路", "辛未路")
_EMPLOYER_WORDS = ("合成", "示例", "演示", "样本", "测试", "模拟")
_EMPLOYER_TRADES = ("物流", "餐饮", "制造", "商贸", "物业", "科技", "建筑", "保洁")
BANKS: tuple[str, ...] = ("申测银行", "合成农商银行", "示例商业银行", "演示储蓄银行")
BROKERS: tuple[str, ...] = ("模拟证券", "样本基金", "申测银行理财")

# Category weights for households after the first few (which cycle through every
# label so that even a 200-person population has each one).
_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("eligible", 16), ("ineligible-income", 44), ("ineligible-assets", 9),
    ("ineligible-vehicle", 12), ("ineligible-property", 5), ("ineligible-business", 7),
    ("borderline", 7),
)
_CYCLE_ROUNDS = 5

Month = tuple[int, int]


@dataclass(slots=True)
class HukouMove:
    date: date
    from_region_code: str
    to_region_code: str


@dataclass(slots=True)
class Vehicle:
    kind: str
    plate: str
    displacement_ml: int
    purchase_date: date
    purchase_price_fen: int
    status: str
    assessed_value_fen: int
    detail: str  # department vehicle-type detail: "car", "suv", "truck", "motorcycle", ...


@dataclass(slots=True)
class Property:
    certificate_id: str
    address: str
    floor_area_m2: float
    nature: str
    acquired_on: date
    assessed_value_fen: int
    usage: str  # "residential", "commercial", "office", "parking"
    holders: list[tuple[Person, float]] = field(default_factory=list)


@dataclass(slots=True)
class Period:
    start: Month
    end: Month | None


@dataclass(slots=True)
class HousingBenefit:
    programme: str
    monthly_amount_fen: int
    period: Period


@dataclass(slots=True)
class InsuranceEnrolment:
    scheme: str
    employer: str | None
    monthly_contribution_base_fen: int | None
    active: bool
    since: date
    scheme_detail: str  # "employee" or "resident" (medical)


@dataclass(slots=True)
class WagePayment:
    employer: str
    month: Month
    amount_fen: int


@dataclass(slots=True)
class Pension:
    scheme: str
    monthly_amount_fen: int
    since: date


@dataclass(slots=True)
class UnemploymentBenefit:
    monthly_amount_fen: int
    period: Period


@dataclass(slots=True)
class EmploymentRegistration:
    status: str
    since: date


@dataclass(slots=True)
class Marriage:
    status: str
    spouse_id_number: str | None
    spouse_name: str | None
    since: date


@dataclass(slots=True)
class AssistancePayment:
    programme: str
    monthly_amount_fen: int
    period: Period


@dataclass(slots=True)
class NgoRegistration:
    name: str
    registration_number: str
    role: str
    registered_on: date


@dataclass(slots=True)
class Deposit:
    institution: str
    kind: str
    balance_fen: int
    as_of: date


@dataclass(slots=True)
class Security:
    institution: str
    kind: str
    market_value_fen: int
    as_of: date


@dataclass(slots=True)
class PropertyIncome:
    institution: str
    kind: str
    amount_fen: int
    period: tuple[date, date]


@dataclass(slots=True)
class ProvidentFundAccount:
    account_number: str
    status: str
    monthly_contribution_fen: int
    balance_fen: int
    opened_on: date


@dataclass(slots=True)
class ProvidentFundWithdrawal:
    date: date
    amount_fen: int
    reason: str


@dataclass(slots=True)
class HousingLoan:
    contract: str
    outstanding_fen: int
    monthly_repayment_fen: int
    period: tuple[date, date]


@dataclass(slots=True)
class Business:
    registration_number: str
    name: str
    kind: str
    status: str
    registered_on: date
    annual_revenue_fen: int | None
    capital_fen: int
    roles: list[tuple[Person, str, int | None]] = field(default_factory=list)


@dataclass(slots=True)
class TaxFiling:
    taxpayer_kind: str
    period: tuple[date, date]
    taxable_income_fen: int
    tax_paid_fen: int


@dataclass(slots=True, eq=False)
class Person:
    """One person, with every record any department holds about them."""

    id_number: str
    name: str
    sex: int  # GB/T 2261.1: 1 male, 2 female
    birth: date
    relation: str  # Relation enum name: to the applicant, who is head of the hukou
    hr_no: int
    deceased_on: date | None = None
    moves: list[HukouMove] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    benefits: list[HousingBenefit] = field(default_factory=list)
    insurance: list[InsuranceEnrolment] = field(default_factory=list)
    wages: list[WagePayment] = field(default_factory=list)
    pensions: list[Pension] = field(default_factory=list)
    unemployment_benefits: list[UnemploymentBenefit] = field(default_factory=list)
    employment: EmploymentRegistration | None = None
    marriage: Marriage | None = None
    assistance_payments: list[AssistancePayment] = field(default_factory=list)
    ngo_registrations: list[NgoRegistration] = field(default_factory=list)
    deposits: list[Deposit] = field(default_factory=list)
    securities: list[Security] = field(default_factory=list)
    income: list[PropertyIncome] = field(default_factory=list)
    pf_account: ProvidentFundAccount | None = None
    withdrawals: list[ProvidentFundWithdrawal] = field(default_factory=list)
    loans: list[HousingLoan] = field(default_factory=list)
    filings: list[TaxFiling] = field(default_factory=list)

    def age(self, today: date) -> int:
        return today.year - self.birth.year - ((today.month, today.day) < (self.birth.month,
                                                                            self.birth.day))


@dataclass(slots=True, eq=False)
class Household:
    """An applicant household and its hukou (which may also list deceased persons)."""

    index: int
    hukou_number: str
    region_code: str
    target: str  # the category it was generated for; ``label`` is what the data says
    registered: list[Person]  # everybody in the hukou, deceased included
    properties: list[Property] = field(default_factory=list)
    businesses: list[Business] = field(default_factory=list)
    label: str = ""
    facts: dict[str, int] = field(default_factory=dict)

    @property
    def members(self) -> list[Person]:
        """The living members: the household that applies."""
        return [p for p in self.registered if p.deceased_on is None]


# ------------------------------------------------------------------ the label


def window(today: date) -> tuple[Month, Month]:
    """The 12 whole months before ``today``'s month: the income period assessed."""
    end = _add_months((today.year, today.month), -1)
    return _add_months(end, -11), end


def _add_months(m: Month, n: int) -> Month:
    k = m[0] * 12 + (m[1] - 1) + n
    return (k // 12, k % 12 + 1)


def _months_between(a: Month, b: Month) -> int:
    """Inclusive count of months from a to b (0 when b < a)."""
    return max(0, (b[0] * 12 + b[1]) - (a[0] * 12 + a[1]) + 1)


def _overlap(start: Month, end: Month | None, win: tuple[Month, Month]) -> int:
    lo = max(start, win[0])
    hi = win[1] if end is None else min(end, win[1])
    return _months_between(lo, hi)


def _month(d: date) -> Month:
    return (d.year, d.month)


def assess(household: Household, today: date) -> tuple[str, dict[str, int]]:
    """The label the data supports, by Shanghai dibao rules, and the figures behind it.

    Income over the 12 months before ``today``: wages paid + pensions + unemployment
    benefits + housing benefits + property income whose period ends in the window +
    private-business taxable income (prorated by months). Social-assistance payments
    are excluded; individual (wage) tax filings are not income again. Money assets =
    deposits + securities (the provident fund is not counted). The first failing hard
    rule wins: a registered car or truck, any non-residential property, active
    subscribed capital above 100,000 yuan. Otherwise "borderline" when income or
    assets lie within 10% of their limit, else the income rule, then the asset rule.
    """
    win = window(today)
    members = household.members
    size = len(members)
    income = 0
    assets = 0
    car = False
    capital = 0
    for p in members:
        income += sum(w.amount_fen for w in p.wages if win[0] <= w.month <= win[1])
        income += sum(x.monthly_amount_fen * _overlap(_month(x.since), None, win)
                      for x in p.pensions)
        income += sum(x.monthly_amount_fen * _overlap(x.period.start, x.period.end, win)
                      for x in (*p.unemployment_benefits, *p.benefits))
        income += sum(x.amount_fen for x in p.income if win[0] <= _month(x.period[1]) <= win[1])
        for f in p.filings:
            if f.taxpayer_kind != "TAXPAYER_KIND_PRIVATE_BUSINESS":
                continue
            months = _months_between(_month(f.period[0]), _month(f.period[1]))
            part = _overlap(_month(f.period[0]), _month(f.period[1]), win)
            income += f.taxable_income_fen * part // months
        assets += sum(d.balance_fen for d in p.deposits)
        assets += sum(s.market_value_fen for s in p.securities)
        car = car or any(v.kind in ("KIND_PASSENGER_CAR", "KIND_TRUCK")
                         and v.status == "STATUS_REGISTERED" for v in p.vehicles)
    non_residential = any(pr.nature == "NATURE_NON_RESIDENTIAL" for pr in household.properties)
    for b in household.businesses:
        if b.status == "STATUS_ACTIVE":
            capital += sum(c or 0 for _, _, c in b.roles)
    per_capita = income // (12 * size)
    asset_limit = ASSET_LIMIT_FEN * size
    facts = {
        "members": size,
        "monthly_income_per_capita_fen": per_capita,
        "income_standard_fen": STANDARD_FEN,
        "money_assets_fen": assets,
        "money_assets_limit_fen": asset_limit,
        "subscribed_capital_fen": capital,
    }
    if car:
        return "ineligible-vehicle", facts
    if non_residential:
        return "ineligible-property", facts
    if capital > CAPITAL_LIMIT_FEN:
        return "ineligible-business", facts
    if (abs(per_capita - STANDARD_FEN) * 10 <= STANDARD_FEN
            or abs(assets - asset_limit) * 10 <= asset_limit):
        return "borderline", facts
    if per_capita > STANDARD_FEN:
        return "ineligible-income", facts
    if assets > asset_limit:
        return "ineligible-assets", facts
    return "eligible", facts


# ------------------------------------------------------------------ generation


class _Counters:
    """Sequence numbers that make identifiers unique without remembering them all."""

    def __init__(self) -> None:
        self.id_seq: dict[int, int] = {}  # (region, birth day, sex) -> next sequence
        self.hr_no = 100_000_000
        self.vehicle = 0
        self.certificate = 0
        self.account = 0
        self.business = 0
        self.ngo = 0
        self.contract = 0


def id_number(region: str, birth: date, seq: int) -> str:
    """An 18-character resident ID number with its GB 11643 check digit."""
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    check = (1 - 2 * int(body, 13)) % 11
    return body + ("X" if check == 10 else str(check))


def _fen_yuan(rng: random.Random, lo_yuan: float, hi_yuan: float) -> int:
    """A whole-yuan amount in fen, uniformly drawn."""
    return int(rng.uniform(lo_yuan, hi_yuan)) * 100


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


class _Generator:
    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.win = window(today)
        self.c = _Counters()
        self.borderline_by_assets = False
        n_employers = 400
        self.employers = [
            f"上海{rng.choice(_EMPLOYER_WORDS)}{_GIVEN[i % 22]}{_GIVEN[(i // 22) % 22]}"
            f"{rng.choice(_EMPLOYER_TRADES)}有限公司"
            for i in range(n_employers)
        ]

    # -- people ---------------------------------------------------------------

    def _birth(self, age: int) -> date:
        start = date(self.today.year - age - 1, self.today.month, 1) + timedelta(days=1)
        return start + timedelta(days=self.rng.randrange(364))

    def person(self, region: str, age: int, sex: int, relation: str, surname: str) -> Person:
        rng = self.rng
        birth = self._birth(age)
        seq = None
        r = REGIONS.index(region)
        for attempt in range(len(REGIONS)):
            key = (((r + attempt) % len(REGIONS)) * 100_000 + birth.toordinal() % 100_000) * 2 + sex
            k = self.c.id_seq.get(key, 0)
            if k < 499:
                self.c.id_seq[key] = k + 1
                seq = 2 * k + 1 if sex == 1 else 2 * k + 2
                region = REGIONS[(r + attempt) % len(REGIONS)]
                break
        if seq is None:  # pragma: no cover - needs ~3,500 people born on one day
            raise RuntimeError("ran out of ID sequence numbers for one birth date")
        given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
        self.c.hr_no += 1
        return Person(id_number(region, birth, seq), surname + given, sex, birth, relation,
                      self.c.hr_no)

    def household(self, index: int, category: str, size: int) -> Household:
        rng = self.rng
        region = rng.choice(REGIONS)
        surname = rng.choice(_SURNAMES)
        hh = f"{region}{index:09d}"
        kids = parents = 0
        couple = False
        if size == 1:
            pass
        elif size == 2:
            couple = rng.random() < 0.6
            kids = 0 if couple else 1
        elif size == 3:
            couple = rng.random() < 0.8
            kids = 1
            parents = 0 if couple else 1
        elif size == 4:
            couple, kids, parents = True, (2 if rng.random() < 0.5 else 1), 0
            parents = 2 - kids
        else:
            couple, kids, parents = True, 2, 1
        if size == 1:
            head_age = rng.randint(25, 85)
        elif parents:
            head_age = rng.randint(30, 60)
        else:
            head_age = rng.randint(25, 75)
        head_sex = 1 if rng.random() < 0.6 else 2
        head = self.person(region, head_age, head_sex, "RELATION_SELF", surname)
        registered = [head]
        if couple:
            spouse = self.person(region, max(20, head_age + rng.randint(-5, 5)), 3 - head_sex,
                                 "RELATION_SPOUSE", rng.choice(_SURNAMES))
            registered.append(spouse)
        for _ in range(kids):
            age = max(0, head_age - rng.randint(22, 36))
            registered.append(self.person(region, age, rng.choice((1, 2)), "RELATION_CHILD",
                                          surname))
        for _ in range(parents):
            age = min(98, head_age + rng.randint(22, 34))
            registered.append(self.person(region, age, rng.choice((1, 2)), "RELATION_PARENT",
                                          surname if rng.random() < 0.5 else
                                          rng.choice(_SURNAMES)))
        h = Household(index, hh, region, category, registered)
        self._family_records(h, couple)
        self._income(h, category)
        self._assets(h, category)
        self._vehicles(h, category)
        self._properties(h, category)
        self._businesses(h, category)
        self._provident_fund(h)
        self._civil(h, category)
        return h

    def _family_records(self, h: Household, couple: bool) -> None:
        rng = self.rng
        members = h.members
        head = members[0]
        if couple:
            spouse = members[1]
            since = max(head.birth, spouse.birth) + timedelta(days=365 * rng.randint(21, 30))
            since = min(since, self.today - timedelta(days=30))
            head.marriage = Marriage("STATUS_MARRIED", spouse.id_number, spouse.name, since)
            spouse.marriage = Marriage("STATUS_MARRIED", head.id_number, head.name, since)
        elif head.age(self.today) >= 55 and rng.random() < 0.5:
            dead = self.person(h.region_code, head.age(self.today) + rng.randint(-3, 5),
                               3 - head.sex, "RELATION_SPOUSE", rng.choice(_SURNAMES))
            dead.deceased_on = self.today - timedelta(days=rng.randint(200, 4000))
            h.registered.append(dead)
            head.marriage = Marriage("STATUS_WIDOWED", dead.id_number, dead.name,
                                     dead.deceased_on)
        elif head.age(self.today) >= 30 and rng.random() < 0.3:
            head.marriage = Marriage("STATUS_DIVORCED", None, None,
                                     self.today - timedelta(days=rng.randint(300, 6000)))
        for p in members:
            if p.relation == "RELATION_PARENT":
                p.marriage = Marriage("STATUS_WIDOWED", None, None,
                                      self.today - timedelta(days=rng.randint(300, 8000)))
        for p in h.registered:
            if rng.random() < 0.15 and p.age(self.today) > 18:
                other = rng.choice([r for r in REGIONS if r != h.region_code])
                d = self.today - timedelta(days=rng.randint(400, 9000))
                p.moves.append(HukouMove(d - timedelta(days=rng.randint(400, 3000)),
                                         "320102", other))
                p.moves.append(HukouMove(d, other, h.region_code))

    # -- income ---------------------------------------------------------------

    def _income(self, h: Household, category: str) -> None:
        """Wages, pensions and benefits that add up to the category's income target."""
        rng = self.rng
        members = h.members
        size = len(members)
        if category == "ineligible-income":
            per_capita = STANDARD_FEN * _log_uniform(rng, 1.3, 8.0)
        elif category == "borderline":
            self.borderline_by_assets = rng.random() < 0.4
            per_capita = STANDARD_FEN * (rng.uniform(0.2, 0.7) if self.borderline_by_assets
                                         else rng.uniform(0.94, 1.06))
        elif rng.random() < 0.1:
            per_capita = 0.0
        else:
            per_capita = STANDARD_FEN * rng.uniform(0.1, 0.72)
        budget = per_capita * size  # fen per month, the whole household
        today = self.today
        earners = [p for p in members if p.age(today) >= 18]
        weights = [rng.uniform(0.5, 1.5) for _ in earners]
        total_w = sum(weights) or 1.0
        for p, w in zip(earners, weights, strict=True):
            share = int(budget * w / total_w)
            age = p.age(today)
            if age >= 60:
                self._retiree(p, share)
            elif share >= 80_000:
                self._worker(p, share)
            else:
                self._not_working(p)
        for p in members:
            if p.age(today) < 18:
                p.insurance.append(InsuranceEnrolment(
                    "SCHEME_MEDICAL", None, None, True, p.birth + timedelta(days=60), "resident"))

    def _retiree(self, p: Person, share: int) -> None:
        rng = self.rng
        since_age = 60 if p.sex == 1 else 55
        since = date(p.birth.year + since_age, p.birth.month, 1)
        since = min(since, date(self.win[0][0], self.win[0][1], 1))
        amount = max(share // 100 * 100, 0)
        if amount == 0:
            return
        scheme = "urban-employee" if amount >= 250_000 else "urban-rural-resident"
        p.pensions.append(Pension(scheme, amount, since))
        p.insurance.append(InsuranceEnrolment("SCHEME_MEDICAL", None, None, True, since,
                                              "employee" if scheme == "urban-employee"
                                              else "resident"))
        if rng.random() < 0.3:
            p.employment = EmploymentRegistration("STATUS_NOT_REGISTERED", since)

    def _worker(self, p: Person, share: int) -> None:
        rng = self.rng
        employer = rng.choice(self.employers)
        base = share // 100 * 100
        since = max(p.birth + timedelta(days=365 * 19),
                    self.today - timedelta(days=rng.randint(200, 7000)))
        for scheme in ("SCHEME_PENSION", "SCHEME_MEDICAL", "SCHEME_UNEMPLOYMENT"):
            p.insurance.append(InsuranceEnrolment(scheme, employer, base, True, since,
                                                  "employee"))
        paid = 0
        months = 12
        for i in range(months):
            m = _add_months(self.win[0], i)
            if i < months - 1:
                amount = int(share * rng.uniform(0.97, 1.03))
                paid += amount
            else:
                amount = share * months - paid  # the year adds up to the target exactly
            p.wages.append(WagePayment(employer, m, amount))
        p.employment = EmploymentRegistration("STATUS_EMPLOYED", since)
        if share >= 1_000_000:
            annual = share * 12
            taxable = max(0, annual - 6_000_000)
            y = self.today.year - 1
            p.filings.append(TaxFiling("TAXPAYER_KIND_INDIVIDUAL",
                                       (date(y, 1, 1), date(y, 12, 31)), taxable,
                                       taxable // 10))

    def _not_working(self, p: Person) -> None:
        rng = self.rng
        today = self.today
        p.insurance.append(InsuranceEnrolment("SCHEME_MEDICAL", None, None, True,
                                              today - timedelta(days=rng.randint(100, 3000)),
                                              "resident"))
        if rng.random() < 0.5:
            since = today - timedelta(days=rng.randint(500, 2000))
            p.employment = EmploymentRegistration("STATUS_REGISTERED_UNEMPLOYED", since)
            start = _month(since)
            # a benefit paid in the past: evidence, but no income in the window
            end = _add_months(start, rng.randint(3, 11))
            if end >= self.win[0]:
                end = _add_months(self.win[0], -1)
            if end >= start:
                p.unemployment_benefits.append(UnemploymentBenefit(
                    _fen_yuan(rng, 1800, 2200), Period(start, end)))

    # -- assets ---------------------------------------------------------------

    def _assets(self, h: Household, category: str) -> None:
        rng = self.rng
        members = h.members
        size = len(members)
        limit = ASSET_LIMIT_FEN * size
        if category == "ineligible-assets":
            total = limit * rng.uniform(1.2, 4.0)
        elif category == "ineligible-income":
            total = limit * _log_uniform(rng, 0.05, 3.0)
        elif category == "borderline" and self.borderline_by_assets:
            total = limit * rng.uniform(0.94, 1.06)
        else:
            total = limit * rng.uniform(0.0, 0.5)
        adults = [p for p in members if p.age(self.today) >= 18] or members
        securities = category in ("ineligible-assets", "ineligible-income") and rng.random() < 0.5
        parts = rng.randint(1, 3) + (1 if securities else 0)
        cuts = sorted(rng.random() for _ in range(parts - 1))
        fractions = [b - a for a, b in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
        as_of = self.today - timedelta(days=1)
        win = self.win
        period = (date(win[0][0], win[0][1], 1), _last_day(win[1]))
        for i, f in enumerate(fractions):
            owner = rng.choice(adults)
            amount = int(total * f)
            if securities and i == len(fractions) - 1:
                kind = rng.choice(("KIND_STOCK", "KIND_FUND", "KIND_BOND", "KIND_WEALTH_PRODUCT"))
                broker = rng.choice(BROKERS)
                owner.securities.append(Security(broker, kind, amount, as_of))
                if kind != "KIND_WEALTH_PRODUCT" and amount > 0:
                    income_kind = {"KIND_STOCK": "KIND_STOCK_DIVIDEND",
                                   "KIND_FUND": "KIND_FUND_DIVIDEND",
                                   "KIND_BOND": "KIND_BOND_INTEREST"}[kind]
                    owner.income.append(PropertyIncome(broker, income_kind,
                                                       int(amount * rng.uniform(0.005, 0.03)),
                                                       period))
                continue
            bank = rng.choice(BANKS)
            time_deposit = amount > 5_000_000 and rng.random() < 0.6
            owner.deposits.append(Deposit(bank, "KIND_TIME" if time_deposit else "KIND_DEMAND",
                                          amount, as_of))
            rate = 0.015 if time_deposit else 0.002
            interest = int(amount * rate)
            if interest > 0:
                owner.income.append(PropertyIncome(bank, "KIND_INTEREST", interest, period))

    def _vehicles(self, h: Household, category: str) -> None:
        rng = self.rng
        adults = [p for p in h.members if p.age(self.today) >= 18] or h.members
        owner = adults[0]
        if category == "ineligible-vehicle" or (category == "ineligible-income"
                                               and rng.random() < 0.3):
            detail = "truck" if rng.random() < 0.15 else rng.choice(("car", "suv"))
            self._vehicle(owner, "KIND_TRUCK" if detail == "truck" else "KIND_PASSENGER_CAR",
                          detail, "STATUS_REGISTERED")
        elif category not in ("ineligible-income",):
            x = rng.random()
            if x < 0.12:
                detail = rng.choice(("motorcycle", "low-speed"))
                self._vehicle(owner, "KIND_MOTORCYCLE" if detail == "motorcycle"
                              else "KIND_LOW_SPEED", detail, "STATUS_REGISTERED")
            elif x < 0.17:
                self._vehicle(owner, "KIND_PASSENGER_CAR", "car",
                              rng.choice(("STATUS_SCRAPPED", "STATUS_TRANSFERRED")))

    def _vehicle(self, owner: Person, kind: str, detail: str, status: str) -> None:
        rng = self.rng
        self.c.vehicle += 1
        n = self.c.vehicle
        plate = f"沪{'ABCDEFGHJKLMNPQRSTUVWXYZ'[(n // 100_000) % 24]}{n % 100_000:05d}"
        bought = self.today - timedelta(days=rng.randint(100, 5000))
        if kind == "KIND_PASSENGER_CAR":
            price = _fen_yuan(rng, 60_000, 350_000) + rng.randrange(100) * 1
            displacement = rng.choice((0, 1200, 1498, 1598, 1998, 2494))
        elif kind == "KIND_TRUCK":
            price = _fen_yuan(rng, 80_000, 250_000)
            displacement = rng.choice((2499, 2771, 3907))
        elif kind == "KIND_MOTORCYCLE":
            price = _fen_yuan(rng, 3_000, 15_000) + 50
            displacement = rng.choice((110, 125, 150))
        else:
            price = _fen_yuan(rng, 2_000, 8_000)
            displacement = 0
        years = (self.today - bought).days / 365
        assessed = int(price * max(0.1, 1 - 0.12 * years)) // 100 * 100
        owner.vehicles.append(Vehicle(kind, plate, displacement, bought, price, status,
                                      assessed, detail))

    def _properties(self, h: Household, category: str) -> None:
        rng = self.rng
        members = h.members
        owners = [p for p in members if p.relation in ("RELATION_SELF", "RELATION_SPOUSE")]
        if rng.random() < 0.55:
            self._property(h, owners, "residential")
        if category == "ineligible-property":
            self._property(h, owners[:1], rng.choice(("commercial", "office", "parking")))
        elif category == "ineligible-income" and rng.random() < 0.15:
            self._property(h, owners, rng.choice(("residential", "parking")))

    def _property(self, h: Household, owners: list[Person], usage: str) -> None:
        rng = self.rng
        self.c.certificate += 1
        acquired = self.today - timedelta(days=rng.randint(200, 9000))
        cert = f"沪({acquired.year})字不动产权第{self.c.certificate:07d}号"
        road = rng.choice(_ROADS)
        address = (f"上海市{REGION_NAMES[h.region_code]}{road}{rng.randint(1, 999)}弄"
                   f"{rng.randint(1, 40)}号{rng.randint(1, 30)}0{rng.randint(1, 4)}室")
        area = {"residential": (35.0, 140.0), "commercial": (20.0, 200.0),
                "office": (40.0, 300.0), "parking": (12.0, 15.0)}[usage]
        floor_area = round(rng.uniform(*area), 2)
        value = int(floor_area * rng.uniform(30_000, 90_000)) * 100
        nature = "NATURE_RESIDENTIAL" if usage == "residential" else "NATURE_NON_RESIDENTIAL"
        prop = Property(cert, address, floor_area, nature, acquired, value, usage)
        share = 100.0 if len(owners) == 1 else 50.0
        prop.holders = [(p, share) for p in owners]
        h.properties.append(prop)
        if usage == "residential" and owners and rng.random() < 0.25:
            head = owners[0]
            if head.wages and head.wages[0].amount_fen >= 300_000:
                self.c.contract += 1
                start = acquired
                end = date(start.year + rng.choice((10, 20, 30)), start.month, 1)
                outstanding = value * rng.randint(10, 50) // 100
                head.loans.append(HousingLoan(f"GJJDK{self.c.contract:010d}", outstanding,
                                              outstanding // 150 // 100 * 100, (start, end)))

    def _businesses(self, h: Household, category: str) -> None:
        rng = self.rng
        adults = [p for p in h.members if 18 <= p.age(self.today) < 70] or h.members
        owner = adults[0]
        x = rng.random()
        if category == "ineligible-business" or (category == "ineligible-income" and x < 0.1):
            kind = "KIND_COMPANY" if rng.random() < 0.8 else "KIND_PARTNERSHIP"
            capital = rng.randint(15, 500) * 1_000_000  # 15..500 (10k yuan) = 150k..5M yuan
            self._business(h, owner, kind, "STATUS_ACTIVE", capital, small=True)
        elif x < 0.05:
            capital = rng.randint(1, 9) * 500_000  # 5,000..45,000 yuan
            self._business(h, owner, "KIND_INDIVIDUAL_BUSINESS", "STATUS_ACTIVE", capital,
                           small=category != "ineligible-income")
        elif x < 0.08:
            capital = rng.randint(20, 100) * 1_000_000
            self._business(h, owner, "KIND_COMPANY",
                           rng.choice(("STATUS_DEREGISTERED", "STATUS_REVOKED")), capital,
                           small=True)

    def _business(self, h: Household, owner: Person, kind: str, status: str, capital: int,
                  small: bool) -> None:
        rng = self.rng
        self.c.business += 1
        n = self.c.business
        uscc = _uscc(f"9{'2' if kind == 'KIND_INDIVIDUAL_BUSINESS' else '1'}31{h.region_code[2:]}"
                     f"MA{n:07d}")
        trade = rng.choice(_EMPLOYER_TRADES)
        name = (f"{REGION_NAMES[h.region_code]}{owner.name}{trade}店"
                if kind == "KIND_INDIVIDUAL_BUSINESS"
                else f"上海{rng.choice(_EMPLOYER_WORDS)}{_GIVEN[n % 22]}{trade}"
                     f"{'有限公司' if kind == 'KIND_COMPANY' else '合伙企业'}")
        registered = self.today - timedelta(days=rng.randint(400, 6000))
        revenue = None if rng.random() < 0.2 else rng.randint(1, 5000) * 100_000
        b = Business(uscc, name, kind, status, registered, revenue, capital)
        if kind == "KIND_INDIVIDUAL_BUSINESS":
            b.roles.append((owner, "ROLE_OPERATOR", capital))
        else:
            b.roles.append((owner, "ROLE_LEGAL_REPRESENTATIVE", None))
            b.roles.append((owner, "ROLE_SHAREHOLDER", capital))
        h.businesses.append(b)
        if status != "STATUS_ACTIVE" or kind != "KIND_INDIVIDUAL_BUSINESS":
            return
        # quarterly private-business filings over the last four calendar quarters
        q_end = (self.today.year, ((self.today.month - 1) // 3) * 3)  # last whole quarter
        if q_end[1] == 0:
            q_end = (q_end[0] - 1, 12)
        for i in range(4):
            end = _add_months(q_end, -3 * i)
            start = _add_months(end, -2)
            profit = rng.randint(0, 900) * 100 if small else rng.randint(200, 2000) * 10_000
            owner.filings.append(TaxFiling(
                "TAXPAYER_KIND_PRIVATE_BUSINESS", (date(start[0], start[1], 1), _last_day(end)),
                profit, profit * 5 // 100))

    def _provident_fund(self, h: Household) -> None:
        rng = self.rng
        for p in h.members:
            if p.wages and p.wages[0].amount_fen >= 300_000:
                base = p.insurance[0].monthly_contribution_base_fen or 0
                contribution = (base * 14 // 100) // 100 * 100
                opened = p.insurance[0].since
                self.c.account += 1
                p.pf_account = ProvidentFundAccount(
                    f"{self.c.account:012d}", "STATUS_ACTIVE", contribution,
                    contribution * rng.randint(1, 60) + rng.randrange(100), opened)
                if rng.random() < 0.2:
                    for k in range(rng.randint(1, 3)):
                        d = self.today - timedelta(days=30 * (k + 1) + rng.randint(0, 20))
                        p.withdrawals.append(ProvidentFundWithdrawal(
                            d, _fen_yuan(rng, 1000, 4000), "rent"))
            elif p.pensions and p.pensions[0].scheme == "urban-employee" and rng.random() < 0.5:
                self.c.account += 1
                since = p.pensions[0].since
                p.pf_account = ProvidentFundAccount(
                    f"{self.c.account:012d}", "STATUS_CLOSED", 0, 0,
                    date(since.year - 20, since.month, 1))
                p.withdrawals.append(ProvidentFundWithdrawal(
                    since + timedelta(days=10), _fen_yuan(rng, 20_000, 150_000), "retirement"))
            elif p.employment and p.employment.status == "STATUS_REGISTERED_UNEMPLOYED" \
                    and rng.random() < 0.4:
                self.c.account += 1
                p.pf_account = ProvidentFundAccount(
                    f"{self.c.account:012d}", "STATUS_SUSPENDED", 0,
                    _fen_yuan(rng, 500, 20_000), p.employment.since - timedelta(days=1500))
        for p in h.members:
            for loan in p.loans:
                if p.pf_account is not None:
                    p.withdrawals.append(ProvidentFundWithdrawal(
                        loan.period[0] + timedelta(days=400), loan.monthly_repayment_fen * 12,
                        "loan-repayment"))

    def _civil(self, h: Household, category: str) -> None:
        rng = self.rng
        head = h.members[0]
        size = len(h.members)
        low = category not in ("ineligible-income", "borderline")
        if low and rng.random() < 0.4:
            start = _add_months(self.win[1], -rng.randint(3, 40))
            head.assistance_payments.append(AssistancePayment(
                "dibao", STANDARD_FEN * size // 2 // 100 * 100, Period(start, None)))
        if low and rng.random() < 0.1:
            m = _add_months(self.win[1], -rng.randint(0, 20))
            head.assistance_payments.append(AssistancePayment(
                "temporary", _fen_yuan(rng, 500, 3000), Period(m, m)))
        if low and size == 1 and head.age(self.today) >= 60 and rng.random() < 0.1:
            start = _add_months(self.win[1], -rng.randint(3, 60))
            head.assistance_payments.append(AssistancePayment(
                "tekun", 199_500, Period(start, None)))
        if low and rng.random() < 0.15:
            start = _add_months(self.win[1], -rng.randint(2, 30))
            head.benefits.append(HousingBenefit(
                rng.choice(("rent-subsidy", "low-rent-housing", "public-rental-housing")),
                _fen_yuan(rng, 100, 600), Period(start, None)))
        if rng.random() < 0.004 and head.age(self.today) >= 25:
            self.c.ngo += 1
            n = self.c.ngo
            head.ngo_registrations.append(NgoRegistration(
                f"上海市{REGION_NAMES[h.region_code]}{_GIVEN[n % 22]}{_GIVEN[n // 22 % 22]}"
                "社区服务中心", _uscc(f"5231{h.region_code[2:]}MJ{n:07d}"),
                "legal-representative", self.today - timedelta(days=rng.randint(300, 5000))))


def _last_day(m: Month) -> date:
    nxt = _add_months(m, 1)
    return date(nxt[0], nxt[1], 1) - timedelta(days=1)


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc(body17: str) -> str:
    """A unified social credit code with its GB 32100 check character."""
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + _USCC_ALPHABET[(31 - total % 31) % 31]


def _size(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4, 5), weights=(24, 30, 26, 14, 6))[0]


class Population:
    """A deterministic population: iterate it for households (labelled), in order.

    Precondition: ``persons >= 1``. The first ``5 x 7`` households cycle through every
    label's category, so small populations still hold each one. ``employers`` is
    fixed before the first household, so a department can list them up front.
    """

    def __init__(self, persons: int, seed: int, today: date) -> None:
        if persons < 1:
            raise ValueError("persons must be at least 1")
        self.persons = persons
        self.today = today
        self._rng = random.Random(seed)
        self._gen = _Generator(self._rng, today)
        self.employers: list[str] = list(self._gen.employers)
        self._used = False

    def __iter__(self) -> Iterator[Household]:
        if self._used:
            raise RuntimeError("a Population can be iterated once; build a new one")
        self._used = True
        rng, gen, today = self._rng, self._gen, self.today
        cats = [c for c, _ in _WEIGHTS]
        weights = [w for _, w in _WEIGHTS]
        left = self.persons
        index = 0
        while left > 0:
            if index < _CYCLE_ROUNDS * len(LABELS):
                category = LABELS[index % len(LABELS)]
                size = max(2, _size(rng)) if category == "borderline" else _size(rng)
            else:
                category = rng.choices(cats, weights=weights)[0]
                size = _size(rng)
            size = min(size, left)
            index += 1
            h = gen.household(index, category, size)
            h.label, h.facts = assess(h, today)
            left -= size
            yield h


def iter_households(persons: int, seed: int, today: date) -> Iterator[Household]:
    """The households of ``Population(persons, seed, today)``."""
    return iter(Population(persons, seed, today))

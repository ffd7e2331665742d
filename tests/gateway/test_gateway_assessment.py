"""Assessment: each rule family failed by a household built from Answer messages, the
outcomes (eligible, review, incomplete), window boundaries and integer arithmetic."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from hedui.agents.departments import DEPARTMENTS, wrap
from hedui.gateway.assessment import assess
from hedui.gateway.profile import div_round_half_up, format_yuan, income_window
from hedui.gateway.standards import StandardsLibrary
from hedui.v1 import case_pb2, common_pb2, query_pb2, records_pb2

STANDARDS = StandardsLibrary(Path(__file__).parents[2] / "deploy" / "standards")
AS_OF = date(2024, 7, 15)  # 12-month window 2023-07..2024-06, 6-month 2024-01..06
DIBAO = STANDARDS.select("310000", "dibao", AS_OF)  # 1,330 yuan, 4x assets, no car
LOW_RENT = STANDARDS.select("310000", "low-rent-housing", AS_OF)  # 960 yuan, 6 months
# Shanghai's dibao sets no limit on homes; localities that do are modelled by this variant
DIBAO_ONE_HOME = dataclasses.replace(DIBAO, residential_max_count=1)
RR = case_pb2.RuleResult
R = records_pb2


def make_id(serial: int) -> str:
    body = f"31010119800101{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def pseudonym(id_number: str) -> str:
    return "ps-" + hashlib.sha256(id_number.encode()).hexdigest()[:16]


def month(y: int, m: int) -> common_pb2.Date:
    return common_pb2.Date(year=y, month=m)


def period(y1: int, m1: int, y2: int | None = None, m2: int | None = None) -> common_pb2.Period:
    p = common_pb2.Period(start=common_pb2.Date(year=y1, month=m1, day=1))
    if y2 is not None:
        p.end.CopyFrom(common_pb2.Date(year=y2, month=m2, day=1))
    return p


class Household:
    """Members plus one (initially empty) record per member per department."""

    def __init__(self, persons: int = 2) -> None:
        self.members = [
            case_pb2.Member(id_number=make_id(i), name=f"成员{i}", relation=1 if i == 0 else 3)
            for i in range(persons)
        ]
        self.records = {
            d: {m.id_number: dep.record_type() for m in self.members}
            for d, dep in DEPARTMENTS.items()
        }
        self.withheld: dict[str, list[query_pb2.Withheld]] = {}
        self.skip_member: dict[str, str] = {}

    def rec(self, department: str, member: int = 0):  # type: ignore[no-untyped-def]
        return self.records[department][self.members[member].id_number]

    def answer(self, department: str) -> tuple[query_pb2.Answer, bytes]:
        answer = query_pb2.Answer(
            query_digest=hashlib.sha256(department.encode()).digest(),
            agent=f"spiffe://county.example/agent/{department}",
            withheld=self.withheld.get(department, []),
        )
        for m in self.members:
            if self.skip_member.get(department) == m.id_number:
                continue
            record = self.records[department][m.id_number]
            answer.subjects.add(
                id_number=m.id_number,
                status=query_pb2.SubjectAnswer.STATUS_FOUND,
                record=wrap(department, record),
            )
        return answer, hashlib.sha256(answer.SerializeToString(deterministic=True)).digest()

    def answers(
        self, *, without: tuple[str, ...] = ()
    ) -> dict[str, tuple[query_pb2.Answer, bytes]]:
        return {d: self.answer(d) for d in DEPARTMENTS if d not in without}

    def assess(self, standard=DIBAO, *, without=(), missing=(), as_of=AS_OF):  # type: ignore[no-untyped-def]
        return assess(
            self.members,
            self.answers(without=without),
            standard,
            as_of=as_of,
            missing=list(missing),
            pseudonym=pseudonym,
        )


def rule(assessment, rule_id: str) -> case_pb2.RuleResult:  # type: ignore[no-untyped-def]
    return next(r for r in assessment.rules if r.rule_id == rule_id)


def wages(h: Household, member: int, amount_fen: int, months: list[tuple[int, int]]) -> None:
    for y, m in months:
        h.rec("human-resources", member).wages.add(
            employer="厂", month=month(y, m), amount_fen=amount_fen
        )


WINDOW_12 = [(2023, m) for m in range(7, 13)] + [(2024, m) for m in range(1, 7)]


def eligible() -> Household:
    """Two persons, 1,000 yuan a month of wages for one, 20,000 yuan of deposits, one flat."""
    h = Household(2)
    wages(h, 0, 200000, WINDOW_12)  # 2,000/month for one → 1,000 per person
    h.rec("banks").deposits.add(institution="银行", balance_fen=2000000)
    h.rec("housing").properties.add(
        nature=R.Property.NATURE_RESIDENTIAL,
        floor_area_m2=45.5,
        share_percent=100.0,
        assessed_value_fen=90000000,
    )
    return h


# ---------------------------------------------------------------- outcomes


def test_eligible_household_passes_every_rule() -> None:
    a = eligible().assess(DIBAO_ONE_HOME)
    assert a.outcome == case_pb2.OUTCOME_ELIGIBLE
    assert {r.rule_id for r in a.rules} == {
        "income",
        "money-assets",
        "vehicle",
        "non-residential-property",
        "residential-property-count",
        "business-capital",
    }
    assert all(r.verdict == RR.VERDICT_PASS for r in a.rules)
    assert a.profile.monthly_income_per_person_fen == 100000
    assert rule(a, "income").figure_fen == 100000
    assert rule(a, "income").limit_fen == 133000
    assert "1,000.00 元" in rule(a, "income").explanation_zh
    assert "1,000.00 yuan" in rule(a, "income").explanation_en
    assert a.reasons_zh and a.reasons_en


def test_rule_with_no_records_cites_the_answer_that_said_nothing() -> None:
    h = eligible()
    a = h.assess()
    vehicle = rule(a, "vehicle")
    assert [e.department for e in vehicle.evidence] == ["public-security"]
    assert vehicle.evidence[0].answer_digest == h.answer("public-security")[1]


def test_income_over_the_standard_fails() -> None:
    h = eligible()
    wages(h, 1, 90000, WINDOW_12)  # +900 per month → 1,450 per person, 9% over
    a = h.assess()
    assert rule(a, "income").verdict == RR.VERDICT_FAIL
    assert a.outcome == case_pb2.OUTCOME_INELIGIBLE
    assert a.reasons_zh[0] == rule(a, "income").explanation_zh


def test_income_exactly_at_a_strict_limit_fails_and_at_an_inclusive_limit_passes() -> None:
    h = Household(1)
    h.records["human-resources"][h.members[0].id_number].wages.extend(
        R.WagePayment(month=month(y, m), amount_fen=133000) for y, m in WINDOW_12
    )
    h.rec("banks").deposits.add(balance_fen=10)
    dibao = DIBAO.__class__(**{**_fields(DIBAO), "review_margin_percent": 0})
    assert rule(h.assess(dibao), "income").verdict == RR.VERDICT_FAIL  # "below 1,330"
    inclusive = DIBAO.__class__(
        **{**_fields(DIBAO), "review_margin_percent": 0, "income_strictly_below": False}
    )
    assert rule(h.assess(inclusive), "income").verdict == RR.VERDICT_PASS


def _fields(standard):  # type: ignore[no-untyped-def]
    return {f: getattr(standard, f) for f in standard.__dataclass_fields__}


def test_money_assets_over_four_times_the_annual_standard_fails() -> None:
    h = eligible()
    h.rec("banks", 1).securities.add(kind=R.Security.KIND_FUND, market_value_fen=12000000)
    a = h.assess()
    r = rule(a, "money-assets")
    assert r.figure_fen == 2000000 + 12000000
    assert r.limit_fen == 6384000 * 2
    assert r.verdict == RR.VERDICT_FAIL
    assert a.outcome == case_pb2.OUTCOME_INELIGIBLE


def test_passenger_car_fails_the_vehicle_rule() -> None:
    h = eligible()
    h.rec("public-security", 1).vehicles.add(
        kind=R.Vehicle.KIND_PASSENGER_CAR,
        status=R.Vehicle.STATUS_REGISTERED,
        purchase_price_fen=8000000,
    )
    a = h.assess()
    assert rule(a, "vehicle").verdict == RR.VERDICT_FAIL
    assert a.profile.vehicle_count == 1
    assert a.outcome == case_pb2.OUTCOME_INELIGIBLE


def test_scrapped_car_and_motorcycle_do_not_count() -> None:
    h = eligible()
    vs = h.rec("public-security").vehicles
    vs.add(kind=R.Vehicle.KIND_PASSENGER_CAR, status=R.Vehicle.STATUS_SCRAPPED)
    vs.add(kind=R.Vehicle.KIND_MOTORCYCLE, status=R.Vehicle.STATUS_REGISTERED)
    a = h.assess()
    assert rule(a, "vehicle").verdict == RR.VERDICT_PASS
    assert a.outcome == case_pb2.OUTCOME_ELIGIBLE


def test_vehicle_of_unrecorded_kind_needs_review() -> None:
    h = eligible()
    h.rec("public-security").vehicles.add(status=R.Vehicle.STATUS_REGISTERED)
    a = h.assess()
    assert rule(a, "vehicle").verdict == RR.VERDICT_REVIEW
    assert a.outcome == case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW


def test_non_residential_property_fails() -> None:
    h = eligible()
    h.rec("housing", 1).properties.add(
        nature=R.Property.NATURE_NON_RESIDENTIAL, floor_area_m2=12.0, share_percent=50.0
    )
    a = h.assess()
    assert rule(a, "non-residential-property").verdict == RR.VERDICT_FAIL
    assert a.outcome == case_pb2.OUTCOME_INELIGIBLE


def test_second_home_fails_the_residential_count() -> None:
    h = eligible()
    h.rec("housing", 1).properties.add(
        certificate_id="B",
        nature=R.Property.NATURE_RESIDENTIAL,
        floor_area_m2=60.0,
        share_percent=100.0,
    )
    assert rule(h.assess(DIBAO_ONE_HOME), "residential-property-count").verdict == RR.VERDICT_FAIL


def test_one_home_held_by_two_members_counts_once() -> None:
    h = eligible()
    h.rec("housing").properties[0].certificate_id = "沪房2020-1"
    h.rec("housing").properties[0].share_percent = 50.0
    h.rec("housing", 1).properties.add(
        certificate_id="沪房2020-1",
        nature=R.Property.NATURE_RESIDENTIAL,
        floor_area_m2=45.5,
        share_percent=50.0,
    )
    a = h.assess(DIBAO_ONE_HOME)
    assert a.profile.residential_count == 1
    assert a.profile.residential_area_cm2 == 4550
    assert rule(a, "residential-property-count").verdict == RR.VERDICT_PASS


def test_floor_area_over_the_low_rent_line_fails() -> None:
    h = Household(2)
    h.rec("housing").properties.add(
        nature=R.Property.NATURE_RESIDENTIAL, floor_area_m2=30.1, share_percent=100.0
    )
    a = h.assess(LOW_RENT)
    r = rule(a, "residential-area")
    assert r.figure_fen == 1505 and r.limit_fen == 700  # 15.05 m² per person vs 7.00
    assert r.verdict == RR.VERDICT_FAIL
    assert "15.05 平方米" in r.explanation_zh


def test_subscribed_capital_over_the_limit_fails_and_revoked_business_does_not_count() -> None:
    h = eligible()
    bs = h.rec("market-regulation").businesses
    bs.add(
        kind=R.BusinessRegistration.KIND_COMPANY,
        subscribed_capital_fen=50000000,
        status=R.BusinessRegistration.STATUS_REVOKED,
    )
    assert rule(h.assess(), "business-capital").verdict == RR.VERDICT_PASS
    bs.add(
        kind=R.BusinessRegistration.KIND_INDIVIDUAL_BUSINESS,
        subscribed_capital_fen=12000000,
        status=R.BusinessRegistration.STATUS_ACTIVE,
    )
    a = h.assess()
    assert rule(a, "business-capital").verdict == RR.VERDICT_FAIL
    assert a.outcome == case_pb2.OUTCOME_INELIGIBLE


def test_family_assets_over_the_low_rent_household_limit_fail() -> None:
    h = Household(3)
    h.rec("banks", 2).deposits.add(balance_fen=13000000)
    a = h.assess(LOW_RENT)
    assert rule(a, "household-assets").verdict == RR.VERDICT_FAIL
    assert rule(a, "household-assets").limit_fen == 12000000


def test_deposits_within_five_percent_of_the_limit_need_manual_review() -> None:
    h = eligible()
    h.rec("banks").deposits[0].balance_fen = 6384000 * 2 - 100000  # 1,000 yuan under the limit
    a = h.assess()
    assert rule(a, "money-assets").verdict == RR.VERDICT_REVIEW
    assert a.outcome == case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW
    assert "5%" in a.reasons_zh[0] and "5%" in a.reasons_en[0]


def test_income_just_over_the_limit_within_margin_is_review_not_fail() -> None:
    h = Household(1)
    wages(h, 0, 134000, WINDOW_12)
    assert rule(h.assess(), "income").verdict == RR.VERDICT_REVIEW


# ---------------------------------------------------------------- incomplete


def test_missing_bank_answer_makes_assets_unknown_and_the_case_incomplete() -> None:
    h = eligible()
    a = h.assess(without=("banks",), missing=[("banks", "deadline exceeded")])
    r = rule(a, "money-assets")
    assert r.verdict == RR.VERDICT_UNKNOWN
    assert "deadline exceeded" in r.explanation_en and "银行" in r.explanation_zh
    assert rule(a, "income").verdict == RR.VERDICT_UNKNOWN  # banks' interest is income too
    assert rule(a, "vehicle").verdict == RR.VERDICT_PASS
    assert a.outcome == case_pb2.OUTCOME_INCOMPLETE


def test_missing_department_does_not_hide_a_certain_failure() -> None:
    h = eligible()
    h.rec("public-security").vehicles.add(kind=R.Vehicle.KIND_PASSENGER_CAR)
    a = h.assess(without=("banks",), missing=[("banks", "unavailable")])
    assert rule(a, "money-assets").verdict == RR.VERDICT_UNKNOWN
    assert a.outcome == case_pb2.OUTCOME_INELIGIBLE


def test_known_income_already_over_the_limit_fails_even_with_tax_missing() -> None:
    h = Household(1)
    wages(h, 0, 300000, WINDOW_12)
    a = h.assess(without=("tax",), missing=[("tax", "offline")])
    r = rule(a, "income")
    assert r.verdict == RR.VERDICT_FAIL
    assert "offline" in r.explanation_en


def test_department_never_asked_is_a_gap_too() -> None:
    a = eligible().assess(without=("market-regulation",))
    assert rule(a, "business-capital").verdict == RR.VERDICT_UNKNOWN
    assert "was not asked" in rule(a, "business-capital").explanation_en


def test_withheld_vehicle_kind_makes_the_vehicle_rule_unknown() -> None:
    h = eligible()
    h.withheld["public-security"] = [
        query_pb2.Withheld(path="vehicles.*.kind", reason=query_pb2.Withheld.REASON_NOT_HELD)
    ]
    a = h.assess()
    assert rule(a, "vehicle").verdict == RR.VERDICT_UNKNOWN
    assert a.outcome == case_pb2.OUTCOME_INCOMPLETE


def test_withheld_plate_does_not_matter() -> None:
    h = eligible()
    h.withheld["public-security"] = [
        query_pb2.Withheld(path="vehicles.*.plate", reason=query_pb2.Withheld.REASON_NOT_IN_POLICY)
    ]
    assert h.assess().outcome == case_pb2.OUTCOME_ELIGIBLE


def test_answer_that_skips_a_member_leaves_the_rule_unknown() -> None:
    h = eligible()
    h.skip_member["banks"] = h.members[1].id_number
    a = h.assess()
    assert rule(a, "money-assets").verdict == RR.VERDICT_UNKNOWN
    assert a.outcome == case_pb2.OUTCOME_INCOMPLETE


def test_missing_civil_affairs_does_not_block_dibao_income() -> None:
    a = eligible().assess(without=("civil-affairs",), missing=[("civil-affairs", "down")])
    assert a.outcome == case_pb2.OUTCOME_ELIGIBLE


# ---------------------------------------------------------------- income details


def test_income_window_boundaries() -> None:
    w = income_window(date(2024, 7, 15), 6)
    assert w.label() == "2024-01..2024-06" and w.months == 6
    assert income_window(date(2024, 1, 1), 12).label() == "2023-01..2023-12"
    h = Household(1)
    for y, m in [(2023, 12), (2024, 1), (2024, 6), (2024, 7)]:
        h.rec("human-resources").wages.add(month=month(y, m), amount_fen=600000)
    a = h.assess(LOW_RENT)
    assert a.profile.income["wages"].amount == 1200000  # only 2024-01 and 2024-06
    assert [e.field_path for e in a.profile.income["wages"].evidence] == [
        "wages.1.amount_fen",
        "wages.2.amount_fen",
    ]
    assert a.profile.monthly_income_per_person_fen == 200000


def test_assistance_payments_are_listed_but_excluded_from_income() -> None:
    h = Household(1)
    h.rec("civil-affairs").assistance_payments.add(
        programme="dibao", monthly_amount_fen=133000, period=period(2022, 1)
    )
    a = h.assess()
    assert a.profile.income["assistance"].amount == 133000 * 12
    assert a.profile.monthly_income_per_person_fen == 0
    proto = a.profile.to_proto()
    item = next(i for i in proto.income if i.kind == "assistance")
    assert item.excluded and item.amount_fen == 133000
    assert rule(a, "income").verdict == RR.VERDICT_PASS


def test_contribution_base_stands_in_for_missing_wages() -> None:
    h = Household(1)
    h.rec("human-resources").insurance.add(
        scheme=R.InsuranceEnrolment.SCHEME_PENSION,
        monthly_contribution_base_fen=150000,
        active=True,
        since=common_pb2.Date(year=2024, month=1, day=5),
    )
    a = h.assess()
    assert a.profile.income["wages"].amount == 150000 * 6  # enrolled 2024-01..06
    assert a.profile.income["wages"].evidence[0].field_path == (
        "insurance.0.monthly_contribution_base_fen"
    )


def test_transfers_business_and_property_income_are_spread_over_the_window() -> None:
    h = Household(1)
    hr = h.rec("human-resources")
    hr.pensions.add(
        scheme="urban-employee",
        monthly_amount_fen=100000,
        since=common_pb2.Date(year=2024, month=4, day=1),
    )
    hr.unemployment_benefits.add(monthly_amount_fen=50000, period=period(2023, 5, 2023, 8))
    h.rec("housing").benefits.add(
        programme="rent-subsidy", monthly_amount_fen=30000, period=period(2024, 6)
    )
    F = R.TaxFiling
    h.rec("tax").filings.add(
        taxpayer_kind=F.TAXPAYER_KIND_PRIVATE_BUSINESS,
        period=period(2023, 1, 2023, 12),
        taxable_income_fen=1200000,
    )
    h.rec("tax").filings.add(
        taxpayer_kind=F.TAXPAYER_KIND_PRIVATE_BUSINESS,
        period=period(2024, 1, 2024, 3),
        taxable_income_fen=-900000,
    )
    h.rec("tax").filings.add(
        taxpayer_kind=F.TAXPAYER_KIND_INDIVIDUAL,
        period=period(2023, 1, 2023, 12),
        taxable_income_fen=9999999,
    )
    h.rec("banks").income.add(
        kind=R.PropertyIncome.KIND_INTEREST, amount_fen=10001, period=period(2023, 1, 2023, 12)
    )
    a = h.assess()
    inc = a.profile.income
    assert inc["pensions"].amount == 100000 * 3
    assert inc["unemployment-benefits"].amount == 50000 * 2
    assert inc["housing-subsidies"].amount == 30000 * 1
    # the shipped dibao standard counts pensions and benefits, not housing subsidies
    assert a.profile.income_total_fen == 100000 * 3 + 50000 * 2 + 600000 + 5001
    assert inc["net-business"].amount == 600000  # 6 of 12 months; loss counts as zero
    assert inc["net-property"].amount == div_round_half_up(10001 * 6, 12) == 5001


def test_no_id_number_enters_the_evidence() -> None:
    h = eligible()
    h.rec("public-security", 1).vehicles.add(kind=R.Vehicle.KIND_PASSENGER_CAR)
    a = h.assess()
    blob = a.profile.to_proto().SerializeToString() + b"".join(
        r.SerializeToString() for r in a.rules
    )
    for m in h.members:
        assert m.id_number.encode() not in blob
        assert pseudonym(m.id_number).encode() in blob


def test_answered_and_missing_at_once_is_refused() -> None:
    with pytest.raises(ValueError, match="both answered and missing"):
        eligible().assess(missing=[("banks", "x")])


def test_standard_not_in_force_is_refused() -> None:
    with pytest.raises(ValueError, match="not in force"):
        eligible().assess(as_of=date(2020, 1, 1))


# ---------------------------------------------------------------- integer arithmetic


@settings(max_examples=60, deadline=None)
@given(
    persons=st.integers(1, 6),
    amounts=st.lists(st.integers(0, 10**9), min_size=1, max_size=12),
    window=st.sampled_from([DIBAO, LOW_RENT]),
)
def test_per_person_income_times_persons_is_the_total_within_rounding(
    persons: int, amounts: list[int], window
) -> None:  # type: ignore[no-untyped-def]
    h = Household(persons)
    for i, amount in enumerate(amounts):
        y, m = WINDOW_12[-1 - (i % 6)]
        h.rec("human-resources", i % persons).wages.add(month=month(y, m), amount_fen=amount)
    a = h.assess(window)
    p = a.profile
    n = p.window.months * persons
    assert p.income_total_fen == sum(amounts)
    assert abs(p.monthly_income_per_person_fen * n - p.income_total_fen) * 2 <= n
    proto = p.to_proto()
    for value in (
        proto.monthly_income_per_person_fen,
        *(i.amount_fen for i in proto.income),
        *(r.figure_fen for r in a.rules),
        *(r.limit_fen for r in a.rules),
    ):
        assert type(value) is int


@given(st.integers(-(10**15), 10**15))
def test_yuan_formatting_is_exact(fen: int) -> None:
    text = format_yuan(fen)
    assert int(text.replace(",", "").replace(".", "")) == fen
    assert text.split(".")[1].__len__() == 2


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_round_half_up_is_within_half(n: int, d: int) -> None:
    q = div_round_half_up(n, d)
    assert -d <= 2 * (q * d - n) < d + 1 and 2 * (q * d - n) >= -d

"""A rule is undecidable exactly when a figure it reads is missing (issue 12, item 5).

The class of defect: a rule's needs named a coarser part than its figure reads
(``pensions`` instead of the pension's amount and start), so a department that does
not hold a descriptive field (a pension's scheme) made the income rule undecidable.
This test finds what each rule really reads, by behaviour: for every leaf of every
department's record, clear it in a household where every figure depends on its inputs
and see which rules change. Then withholding that leaf must make exactly those rules
undecidable (or leave a certain failure), and every other rule as it was.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from test_gateway_assessment import (
    AS_OF,
    DIBAO,
    LOW_RENT,
    RR,
    Household,
    R,
    month,
    period,
    pseudonym,
    rule,
)

from hedui.agents import fieldmask
from hedui.agents.departments import DEPARTMENTS
from hedui.gateway.assessment import assess
from hedui.gateway.standards import StandardsLibrary
from hedui.v1 import query_pb2

W = query_pb2.Withheld


def household() -> Household:
    """Two persons; each figure's inputs matter (window 2024-01..06 and 2023-07..2024-06)."""
    h = Household(2)
    hr = h.rec("human-resources")
    for m in range(1, 7):
        hr.wages.add(employer="厂", month=month(2024, m), amount_fen=30000)
    hr.pensions.add(scheme="urban", monthly_amount_fen=20000, since=period(2024, 2).start)
    hr.unemployment_benefits.add(monthly_amount_fen=10000, period=period(2024, 2, 2024, 4))
    other = h.rec("human-resources", 1)  # no wages: the contribution base stands in
    other.insurance.add(scheme=R.InsuranceEnrolment.SCHEME_PENSION, active=True,
                        monthly_contribution_base_fen=20000,
                        since=period(2024, 3).start)
    housing = h.rec("housing")
    housing.benefits.add(programme="rent", monthly_amount_fen=5000, period=period(2024, 3, 2024, 5))
    housing.properties.add(certificate_id="沪2020-1", nature=R.Property.NATURE_RESIDENTIAL,
                           floor_area_m2=10.0, share_percent=50.0, assessed_value_fen=1000000)
    h.rec("housing", 1).properties.add(  # the other half of the same home: one home
        certificate_id="沪2020-1", nature=R.Property.NATURE_RESIDENTIAL, floor_area_m2=10.0,
        share_percent=50.0, assessed_value_fen=1000000)
    h.rec("civil-affairs").assistance_payments.add(programme="temporary", monthly_amount_fen=7000,
                                                   period=period(2024, 1, 2024, 2))
    banks = h.rec("banks")
    banks.deposits.add(institution="银行", balance_fen=1000000)
    banks.securities.add(market_value_fen=500000)
    banks.income.add(kind=R.PropertyIncome.KIND_INTEREST, amount_fen=600,
                     period=period(2023, 1, 2024, 3))  # partly inside: both ends matter
    h.rec("provident-fund").account.balance_fen = 2000000
    ps = h.rec("public-security")
    ps.vehicles.add(kind=R.Vehicle.KIND_MOTORCYCLE, status=R.Vehicle.STATUS_REGISTERED,
                    purchase_price_fen=300000, displacement_ml=125)
    ps.vehicles.add(kind=R.Vehicle.KIND_PASSENGER_CAR, status=R.Vehicle.STATUS_SCRAPPED,
                    purchase_price_fen=9000000)
    mr = h.rec("market-regulation")
    mr.businesses.add(subscribed_capital_fen=50000, status=R.BusinessRegistration.STATUS_ACTIVE)
    mr.businesses.add(subscribed_capital_fen=99000000,
                      status=R.BusinessRegistration.STATUS_REVOKED)
    h.rec("tax").filings.add(taxpayer_kind=R.TaxFiling.TAXPAYER_KIND_PRIVATE_BUSINESS,
                             period=period(2023, 10, 2024, 9), taxable_income_fen=12000)
    return h


STANDARDS = {
    "dibao": dataclasses.replace(DIBAO, review_margin_percent=0),
    # the low-rent rules (household assets, floor area) plus a home count
    "low-rent": dataclasses.replace(LOW_RENT, review_margin_percent=0, residential_max_count=1),
}
LEAVES = [(d, leaf) for d, dep in DEPARTMENTS.items()
          for leaf in sorted(fieldmask.all_leaves(dep.record_type.DESCRIPTOR))]


def _verdicts(assessment) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    return {r.rule_id: (r.verdict, r.figure_fen) for r in assessment.rules}


def _cleared(department: str, leaf: str) -> Household:
    h = household()
    keep = fieldmask.all_leaves(DEPARTMENTS[department].record_type.DESCRIPTOR) - {leaf}
    for record in h.records[department].values():
        fieldmask.mask(record, frozenset(keep))
    return h


@pytest.mark.parametrize("standard_name", sorted(STANDARDS))
def test_the_baseline_household_is_decided_on_every_rule(standard_name: str) -> None:
    a = household().assess(STANDARDS[standard_name])
    assert all(r.verdict == RR.VERDICT_PASS for r in a.rules), [
        (r.rule_id, r.explanation_en) for r in a.rules if r.verdict != RR.VERDICT_PASS]


@pytest.mark.parametrize("standard_name", sorted(STANDARDS))
def test_withholding_a_leaf_blocks_exactly_the_rules_that_read_it(standard_name: str) -> None:
    standard = STANDARDS[standard_name]
    baseline = _verdicts(household().assess(standard))
    wrong: list[str] = []
    for department, leaf in LEAVES:
        cleared = _verdicts(_cleared(department, leaf).assess(standard))
        reads = {r for r in baseline if cleared[r] != baseline[r]}
        h = _cleared(department, leaf)  # what an agent sends when it does not hold it
        h.withheld[department] = [W(path=leaf, reason=W.REASON_NOT_HELD)]
        withheld = _verdicts(h.assess(standard))
        for r in baseline:
            verdict = withheld[r][0]
            if r in reads and verdict not in (RR.VERDICT_UNKNOWN, RR.VERDICT_FAIL):
                wrong.append(f"{department} {leaf}: {r} reads it but stays decided")
            if r not in reads and verdict == RR.VERDICT_UNKNOWN:
                wrong.append(f"{department} {leaf}: {r} does not read it but is undecidable")
    assert wrong == [], "\n".join(wrong)


def test_a_field_the_policy_never_asks_for_is_missing_data() -> None:
    """Found by the native-database acceptance test: the dibao policy did not ask for
    the property certificate, so a flat owned by two spouses counted as two homes —
    a certain-looking FAIL, where the truth was one home."""
    standard = STANDARDS["low-rent"]  # at most one home
    h = household()
    for record in h.records["housing"].values():  # what an agent sends when not asked
        for p in record.properties:
            p.ClearField("certificate_id")
    asked = {d: sorted(fieldmask.all_leaves(dep.record_type.DESCRIPTOR))
             for d, dep in DEPARTMENTS.items()}
    asked["housing"] = [p for p in asked["housing"] if p != "properties.*.certificate_id"]
    a = assess(h.members, h.answers(), standard, as_of=AS_OF, pseudonym=pseudonym,
               requested=asked)
    count = rule(a, "residential-property-count")
    assert count.figure_fen == 2  # two holders' records, no certificate to match them
    assert count.verdict == RR.VERDICT_UNKNOWN, count.explanation_en
    assert "does not ask" in count.explanation_en and "certificate_id" in count.explanation_en
    # asked for, the certificate makes it one home
    full = {d: sorted(fieldmask.all_leaves(dep.record_type.DESCRIPTOR))
            for d, dep in DEPARTMENTS.items()}
    b = assess(household().members, household().answers(), standard, as_of=AS_OF,
               pseudonym=pseudonym, requested=full)
    assert rule(b, "residential-property-count").verdict == RR.VERDICT_PASS


def test_the_shipped_policies_ask_for_every_field_their_standards_read() -> None:
    """Every shipped standard, under its programme's shipped policy: nothing a rule
    reads is left out (else every case of the programme would be incomplete)."""
    root = Path(__file__).parents[2]
    policies = tomllib.loads((root / "deploy/policy/programmes.toml").read_text())["policies"]
    for standard in StandardsLibrary(root / "deploy" / "standards"):
        asked = policies[standard.programme]["departments"]
        h = household()
        a = assess(h.members, {d: h.answer(d) for d in asked}, standard,
                   as_of=max(AS_OF, standard.effective_from), pseudonym=pseudonym,
                   requested=asked)
        unasked = [r.explanation_en for r in a.rules if "does not ask" in r.explanation_en]
        assert unasked == [], (standard.standard_id, unasked)

"""Income kinds and limits as published rules distinguish them (issue 12, items 4 and 5).

Housing-security subsidies, pensions, unemployment benefits and assistance payments are
each their own kind, so a standard can exclude one without the others; every limit says
whether it is strict (低于) or inclusive (不超过); and a rule is undecidable only when a
figure it reads is missing — a withheld descriptive field decides nothing.
"""

from __future__ import annotations

import dataclasses

import pytest
from test_gateway_assessment import (
    DIBAO,
    LOW_RENT,
    RR,
    WINDOW_12,
    Household,
    R,
    eligible,
    period,
    rule,
    wages,
)

from hedui.gateway.standards import INCOME_KINDS, InvalidStandard, parse_standard_text
from hedui.v1 import query_pb2

W = query_pb2.Withheld


def _counting(standard, *kinds):  # type: ignore[no-untyped-def]
    return dataclasses.replace(
        standard, income_counted=kinds,
        income_excluded=tuple(k for k in INCOME_KINDS if k not in kinds),
        review_margin_percent=0,
    )


def test_housing_subsidies_are_their_own_kind_and_a_standard_can_exclude_them() -> None:
    """1,300 of wages + 100 of rent subsidy a month for one person: under a standard that
    excludes subsidies the income is 1,300 (< 1,330, eligible); one that counts them
    sees 1,400 and refuses. Before the split both were one "net transfers" kind."""
    h = Household(1)
    wages(h, 0, 130000, WINDOW_12)
    h.rec("housing").benefits.add(programme="rent-subsidy", monthly_amount_fen=10000,
                                  period=period(2023, 1))
    excluding = _counting(DIBAO, "wages", "net-business", "net-property", "pensions",
                          "unemployment-benefits")
    a = h.assess(excluding)
    assert a.profile.income["housing-subsidies"].amount == 10000 * 12
    assert rule(a, "income").figure_fen == 130000
    assert rule(a, "income").verdict == RR.VERDICT_PASS
    assert "住房保障补贴" in rule(a, "income").explanation_zh  # named as not counted
    counting = _counting(DIBAO, *excluding.income_counted, "housing-subsidies")
    b = h.assess(counting)
    assert rule(b, "income").figure_fen == 140000
    assert rule(b, "income").verdict == RR.VERDICT_FAIL


def test_pensions_and_unemployment_benefits_can_be_counted_apart() -> None:
    h = Household(1)
    hr = h.rec("human-resources")
    hr.pensions.add(scheme="urban-employee", monthly_amount_fen=100000,
                    since=period(2020, 1).start)
    hr.unemployment_benefits.add(monthly_amount_fen=200000, period=period(2023, 7, 2024, 6))
    only_pensions = _counting(DIBAO, "wages", "pensions")
    assert rule(h.assess(only_pensions), "income").figure_fen == 100000
    both = _counting(DIBAO, "wages", "pensions", "unemployment-benefits")
    assert rule(h.assess(both), "income").figure_fen == 300000


@pytest.mark.parametrize(
    ("section", "field", "figure_setup", "rule_id"),
    [
        ("assets", "assets_strictly_below", "deposits", "money-assets"),
        ("business", "capital_strictly_below", "capital", "business-capital"),
    ],
)
def test_every_money_limit_says_whether_it_is_strict(section, field, figure_setup, rule_id):  # type: ignore[no-untyped-def]
    """Exactly at the limit: passes under 不超过 (<=), fails under 低于 (<)."""
    h = eligible()
    standard = dataclasses.replace(DIBAO, review_margin_percent=0)
    if figure_setup == "deposits":
        h.rec("banks").deposits.clear()
        h.rec("banks").deposits.add(institution="银行",
                                    balance_fen=standard.asset_limit_per_person_fen * 2)
    else:
        h.rec("market-regulation").businesses.add(
            subscribed_capital_fen=standard.business_max_capital_fen,
            status=R.BusinessRegistration.STATUS_ACTIVE)
    inclusive = h.assess(standard)
    assert rule(inclusive, rule_id).verdict == RR.VERDICT_PASS
    assert "不超过" in rule(inclusive, rule_id).explanation_zh
    strict = h.assess(dataclasses.replace(standard, **{field: True}))
    assert rule(strict, rule_id).verdict == RR.VERDICT_FAIL
    assert "低于" in rule(strict, rule_id).explanation_zh


def test_floor_area_limit_can_be_strict() -> None:
    h = Household(1)
    h.rec("housing").properties.add(nature=R.Property.NATURE_RESIDENTIAL, floor_area_m2=7.0,
                                    share_percent=100.0, assessed_value_fen=1)
    standard = dataclasses.replace(LOW_RENT, review_margin_percent=0)
    assert rule(h.assess(standard), "residential-area").verdict == RR.VERDICT_PASS
    strict = dataclasses.replace(standard, area_strictly_below=True)
    assert rule(h.assess(strict), "residential-area").verdict == RR.VERDICT_FAIL


@pytest.mark.parametrize(
    ("department", "path"),
    [
        ("human-resources", "pensions.*.scheme"),
        ("human-resources", "wages.*.employer"),
        ("banks", "deposits.*.institution"),
        ("banks", "income.*.kind"),
        ("housing", "properties.*.address"),
        ("housing", "benefits.*.programme"),
        ("public-security", "vehicles.*.plate"),
        ("market-regulation", "businesses.*.name"),
    ],
)
def test_a_withheld_descriptive_field_leaves_every_rule_decidable(department, path):  # type: ignore[no-untyped-def]
    """A department that does not hold a pension's scheme or a bank's name withholds it
    (NOT_HELD); the figures do not read it, so the household is still decided."""
    h = eligible()
    h.withheld[department] = [W(path=path, reason=W.REASON_NOT_HELD)]
    a = h.assess(dataclasses.replace(DIBAO, review_margin_percent=0))
    assert [r.rule_id for r in a.rules if r.verdict == RR.VERDICT_UNKNOWN] == []
    assert a.outcome == eligible().assess(
        dataclasses.replace(DIBAO, review_margin_percent=0)).outcome


@pytest.mark.parametrize(
    ("department", "path", "rule_id"),
    [
        ("human-resources", "pensions.*.monthly_amount_fen", "income"),
        ("human-resources", "wages", "income"),
        ("banks", "deposits.*.balance_fen", "money-assets"),
        ("public-security", "vehicles.*.status", "vehicle"),
        ("market-regulation", "businesses.*.subscribed_capital_fen", "business-capital"),
    ],
)
def test_a_withheld_figure_makes_its_rule_undecidable(department, path, rule_id):  # type: ignore[no-untyped-def]
    h = eligible()
    h.withheld[department] = [W(path=path, reason=W.REASON_NOT_HELD)]
    a = h.assess(dataclasses.replace(DIBAO, review_margin_percent=0))
    assert rule(a, rule_id).verdict == RR.VERDICT_UNKNOWN


_BASE = """\
id = "t"
region = "310000"
programme = "dibao"
title = "t"
effective_from = 2021-07-01
source = "test"
monthly_standard_fen = 133000
income_window_months = 12

[income]
{income}

[assets]
money_assets_multiple = 4
"""


def test_a_standard_names_every_income_kind_once() -> None:
    text = _BASE.format(income='counted = ["wages"]\nexcluded = ["assistance"]')
    with pytest.raises(InvalidStandard) as caught:
        parse_standard_text(text, "s.toml")
    message = str(caught.value)
    assert "line 12" in message and "income.excluded" in message
    assert "housing-subsidies" in message and "pensions" in message


def test_the_retired_net_transfers_kind_is_refused_with_what_replaced_it() -> None:
    text = _BASE.format(income='counted = ["wages", "net-transfers"]')
    with pytest.raises(InvalidStandard, match=r"line 11: key 'income.counted'.*pensions"):
        parse_standard_text(text, "s.toml")


def test_counted_alone_excludes_the_rest() -> None:
    standard = parse_standard_text(_BASE.format(income='counted = ["wages", "pensions"]'), "s")
    assert standard.income_excluded == tuple(
        k for k in INCOME_KINDS if k not in ("wages", "pensions"))

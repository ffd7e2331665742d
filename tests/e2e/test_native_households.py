"""Issue 12's acceptance test: the whole system on department databases of a native style.

Eight real agent processes serve the eight databases of ``native_departments.py`` —
pinyin table names, yuan as text, capital in 万元, a two-column marriage register,
monthly payment ledgers, a tax table without a taxpayer kind — through the mappings in
``native_mappings/``, over mutual TLS, to a real gateway. 27 invented households, each
decided by hand below, go through the case service WITH an application date; every
outcome, every deciding rule, every per-capita income figure and every money-asset
total must agree with the hand computation. The system is started once for all of
them (a module-scoped fixture).

The standard (``STANDARD_TOML``, written into the gateway's standards directory) is a
test standard for Shanghai's minimum living guarantee (城乡居民最低生活保障, 低保),
whose amounts come from published rules, each cited by issuer, subject and date:

* **1,330 yuan per person per month** — Shanghai's urban and rural dibao standard as
  raised from 1 July 2021 (Shanghai Municipal Civil Affairs Bureau with the city's
  finance and other bureaus, the 2021 notice adjusting the city's dibao standard,
  effective 2021-07-01). Income must be *below* the standard (低于), so a household
  exactly at it is not eligible. The amount is applied here to a November 2026
  application as a fixed test figure: it is not the amount in force in 2026.
* **family money assets at most 120,000 yuan** — the family-asset ceiling of
  Shanghai's 2009 low-rent housing (廉租住房) admission rule (Shanghai, 2009: household
  income at most 960 yuan per person per month over 6 months, family assets at most
  120,000 yuan). Deposits and securities count; the housing provident fund does not.
* **subscribed business capital at most 100,000 yuan** — the limit Haiyan County
  (海盐县, Jiaxing, Zhejiang) sets in its dibao family-economic-status rules for
  registered businesses.

The vehicle and property rules are chosen for this test and cite no published text:
no passenger car or truck (motorcycles and low-speed vehicles do not count; scrapped,
transferred and stolen vehicles do not count), no non-residential property (shop,
office, parking space), at most one home (a flat two members hold together is one).
Housing subsidies (住房保障补贴) and social-assistance payments are excluded from
income. ``[review] margin_percent = 0``: no household goes to manual review, so every
boundary decides crisply.

Semantics the hand computations use (gateway/profile.py, gateway/assessment.py):

* application date 2026-11-15, 12-month window = the whole months before November
  2026: **2025-11 .. 2026-10** (W below);
* wages: HR wage payments whose month is in W; with none in W but an active insurance
  enrolment, the highest active contribution base for each W month since enrolment;
* pensions: monthly amount x W months since the first month paid; unemployment
  benefits: monthly amount x W months of the paid period (ledgers grouped by the
  mappings: first month .. last month paid, latest month's amount);
* net business income: each filing's taxable income x (its months in W) / (its
  months), rounded half up; a loss counts 0. Net property income: the same for bank
  interest and dividends;
* income per person = W total / (12 x persons), rounded half up to a fen; the rule
  compares exact totals: eligible only if total < 133,000 fen x 12 x persons
  (1,596,000 fen per person);
* money assets = deposits + securities <= 12,000,000 fen; subscribed capital of
  registrations not revoked or deregistered <= 10,000,000 fen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import native_departments as native
import pytest
from native_departments import (
    Business,
    Deposit,
    Household,
    Insurance,
    Ledger,
    Marriage,
    Property,
    PropertyIncome,
    ProvidentFund,
    Security,
    TaxReturn,
    Vehicle,
    Wage,
)
from stdnum.cn import ric

from hedui.agents.mapping import MappingSource
from hedui.gateway import sandbox, verifying
from hedui.gateway.client import ClientConfig, GatewayClient, GatewayError
from hedui.gateway.demo import write_client_config
from hedui.v1 import case_pb2, common_pb2, envelope_pb2, records_pb2

pytestmark = pytest.mark.slow

APPLICATION_DATE = dt.date(2026, 11, 15)
#: the authorization the households signed before applying (valid for a year)
SIGNED_ON = dt.date(2026, 11, 10)
WINDOW = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))

STANDARD_ID = "e2e-shanghai-dibao-1330"
SOURCE = (
    "Shanghai dibao 1,330 yuan/person/month from 2021-07-01; family assets <= 120,000 yuan "
    "(Shanghai low-rent housing 2009); subscribed capital <= 100,000 yuan (Haiyan County "
    "dibao rules); vehicle and property rules chosen for the test"
)
STANDARD_TOML = f"""\
# Test standard of tests/e2e/test_native_households.py (sources: the module docstring).
id = "{STANDARD_ID}"
region = "310000"
programme = "dibao"
title = "上海市最低生活保障（1,330 元，测试标准） / Shanghai dibao at 1,330 yuan (test standard)"
effective_from = 2021-07-01
source = "{SOURCE}"
example = true
monthly_standard_fen = 133000
income_window_months = 12

[income]
limit_percent_of_standard = 100
strictly_below = true                  # 低于 1,330 yuan
counted = ["wages", "net-business", "net-property", "pensions", "unemployment-benefits"]
excluded = ["housing-subsidies", "assistance"]
wage_fallback = "contribution-base"

[assets]
household_limit_fen = 12000000         # 不超过 120,000 yuan for the family
count_provident_fund = false
strictly_below = false

[vehicle]
counted_kinds = ["passenger-car", "truck"]
max_count = 0

[property]
allow_non_residential = false
max_residential_count = 1

[business]
max_subscribed_capital_fen = 10000000  # 不超过 100,000 yuan
strictly_below = false

[review]
margin_percent = 0
"""

#: every rule the standard sets, by the assessment's rule ids
RULES = ("income", "household-assets", "vehicle", "non-residential-property",
         "residential-property-count", "business-capital")


# ------------------------------------------------------------------ the households

P = native.People(start=501)


def wages(first: str, last: str, amount: str) -> list[Wage]:
    """One wage row per month ``first..last`` (YYYYMM), each ``amount`` yuan."""
    return [Wage(m, amount) for m in Ledger("", first, last, amount).months()]


def pension(amount: str, first: str, last: str = "202611", kind: str = "QY") -> Ledger:
    return Ledger(kind, first, last, amount)


@dataclass(frozen=True)
class Expected:
    """The hand-computed result: outcome, the rules that FAIL (all others PASS), and
    the figures, all in fen (counts for vehicles and properties)."""

    outcome: str  # ELIGIBLE or INELIGIBLE
    failed: frozenset[str]
    income_per_person_fen: int
    money_assets_fen: int = 0
    vehicles: int = 0
    homes: int = 0
    non_residential: int = 0
    capital_fen: int = 0


def eligible(income: int, **figures: int) -> Expected:
    return Expected("ELIGIBLE", frozenset(), income, **figures)


def ineligible(failed: set[str], income: int, **figures: int) -> Expected:
    return Expected("INELIGIBLE", frozenset(failed), income, **figures)


CASES: list[tuple[Household, Expected]] = []


def case(household: Household, expected: Expected) -> None:
    CASES.append((household, expected))


# H01 — exactly at the standard (1 person).
# wages 2025-11..2026-10: 12 x 1,330.00 = 15,960.00 = 1,596,000 fen; the 2025-10 and
# 2026-11 wages (9,999.00 each) are outside W. Limit 133,000 x 12 x 1 = 1,596,000:
# 1,596,000 < 1,596,000 is false -> income FAILS (低于). Per person 1,596,000/12 =
# 133,000. Deposits 3,000.00 = 300,000.
case(Household("H01", "exactly at the standard: fails under 低于", "310104", [
    P.member("顾文斌", "M", "19700304", "310104", "self",
             wages=[Wage("202510", "9,999.00"), *wages("202511", "202610", "1,330.00"),
                    Wage("202611", "9,999.00")],
             deposits=[Deposit("上海农商银行", "HQ", "3,000.00")]),
]), ineligible({"income"}, 133000, money_assets_fen=300000))

# H02 — one fen below the standard in total (1 person).
# 11 x 1,330.00 + 1,329.99 = 15,959.99 = 1,595,999 < 1,596,000 -> PASS. Per person
# 1,595,999/12 = 132,999.92 -> 133,000 (the figure shows 1,330.00 yet passes: the
# rule compares exact totals).
case(Household("H02", "one fen below the standard in total", "310105", [
    P.member("陆美华", "F", "19681122", "310105", "self",
             wages=[*wages("202511", "202609", "1,330.00"), Wage("202610", "1,329.99")]),
]), eligible(133000))

# H03 — one fen above the standard in total (1 person).
# 11 x 1,330.00 + 1,330.01 = 15,960.01 = 1,596,001 >= 1,596,000 -> FAIL. Per person
# 1,596,001/12 = 133,000.08 -> 133,000.
case(Household("H03", "one fen above the standard in total", "310106", [
    P.member("钱国平", "M", "19750816", "310106", "self",
             wages=[*wages("202511", "202609", "1,330.00"), Wage("202610", "1,330.01")]),
]), ineligible({"income"}, 133000))

# H04 — one fen above the standard per person per month (2 persons).
# member 1 wages 12 x 2,660.02 = 31,920.24 = 3,192,024; limit 133,000 x 12 x 2 =
# 3,192,000 -> FAIL. Per person 3,192,024/24 = 133,001 (1,330.01 yuan).
case(Household("H04", "1,330.01 per person per month", "310107", [
    P.member("沈志强", "M", "19800102", "310107", "self",
             wages=wages("202511", "202610", "2,660.02")),
    P.member("沈小雨", "F", "20120915", "310107", "child"),
]), ineligible({"income"}, 133001))

# H05 — money assets exactly at the limit (2 persons).
# deposits 100,000.00 + fund 20,000.00 = 120,000.00 = 12,000,000 <= 12,000,000 ->
# PASS (不超过). Income: pension 1,000.00 since 2015-03 -> 12 x 1,000.00 = 1,200,000;
# per person 1,200,000/24 = 50,000. Limit 3,192,000 -> PASS.
case(Household("H05", "money assets exactly at the 120,000 yuan limit", "310109", [
    P.member("杨秀英", "F", "19560710", "310109", "self",
             pensions=[pension("1,000.00", "201503")],
             deposits=[Deposit("中国工商银行上海分行", "DQ", "100,000.00")]),
    P.member("杨磊", "M", "19881203", "310109", "child",
             securities=[Security("华安基金", "JJ", "20,000.00")]),
]), eligible(50000, money_assets_fen=12000000))

# H06 — money assets one fen above the limit (1 person).
# 60,000.00 + 60,000.01 = 120,000.01 = 12,000,001 > 12,000,000 -> FAIL. No income:
# per person 0.
case(Household("H06", "money assets one fen above the limit", "310110", [
    P.member("孙丽娟", "F", "19720405", "310110", "self",
             deposits=[Deposit("交通银行上海分行", "DQ", "60,000.00"),
                       Deposit("上海银行", "HQ", "60,000.01")]),
]), ineligible({"household-assets"}, 0, money_assets_fen=12000001))

# H07 — housing subsidy and assistance excluded (1 person).
# pension 800.00 since 2020-05 -> 12 x 800.00 = 960,000; per person 80,000 -> PASS.
# Rent subsidy 1,500.00/month (2025-01..2026-11) and dibao assistance 530.00/month
# (2026-01..2026-11) are excluded; counted they would give (960,000 + 1,800,000 +
# 530,000)/12 = 274,166.67 > 133,000.
case(Household("H07", "housing subsidy and assistance excluded from income", "310112", [
    P.member("周桂兰", "F", "19600218", "310104", "self",
             pensions=[pension("800.00", "202005", kind="CX")],
             housing_subsidies=[Ledger("ZL", "202501", "202611", "1,500.00")],
             assistance=[Ledger("DB", "202601", "202611", "530.00")]),
]), eligible(80000))

# H08 — a motorcycle (2 persons): not a counted kind.
# wages 12 x 2,000.00 = 2,400,000; per person 2,400,000/24 = 100,000 -> PASS.
# Motorcycle (MT, 125 ml, 6,800.00) registered: not counted -> 0 vehicles, PASS.
case(Household("H08", "a motorcycle does not count", "310113", [
    P.member("吴建军", "M", "19780630", "310108", "self",
             wages=wages("202511", "202610", "2,000.00"),
             vehicles=[Vehicle("沪A·M1234", "MT", "6,800.00", displacement_ml=125)]),
    P.member("吴佳怡", "F", "20100311", "310113", "child"),
]), eligible(100000))

# H09 — a passenger car (1 person).
# wages 12 x 1,000.00 = 1,200,000; per person 100,000 -> PASS. Car XK registered
# -> 1 counted vehicle > 0 -> vehicle FAILS.
case(Household("H09", "a passenger car", "310115", [
    P.member("郑海涛", "M", "19820917", "310225", "self",
             wages=wages("202511", "202610", "1,000.00"),
             vehicles=[Vehicle("沪B·12345", "XK", "85,000.00")]),
]), ineligible({"vehicle"}, 100000, vehicles=1))

# H10 — vehicles gone: scrapped car, transferred car, stolen truck (1 person).
# pension 1,100.00 since 2018-01 -> 1,320,000; per person 110,000 -> PASS. None of
# the three vehicles counts (BF, ZY, DQ) -> 0, PASS.
case(Household("H10", "scrapped, transferred and stolen vehicles", "310101", [
    P.member("冯德明", "M", "19590123", "310101", "self",
             pensions=[pension("1,100.00", "201801")],
             vehicles=[Vehicle("沪C·11111", "XK", "60,000.00", status="BF"),
                       Vehicle("沪C·22222", "XK", "70,000.00", status="ZY"),
                       Vehicle("沪C·33333", "HC", "90,000.00", status="DQ")]),
]), eligible(110000))

# H11 — a truck counts, a low-speed three-wheeler does not (1 person).
# wages 12 x 900.00 = 1,080,000; per person 90,000 -> PASS. Truck HC registered ->
# 1 vehicle -> FAIL; the SL three-wheeler is not a counted kind.
case(Household("H11", "a truck counts, a three-wheeler does not", "310230", [
    P.member("蒋永福", "M", "19690508", "310110", "self",
             wages=wages("202511", "202610", "900.00"),
             vehicles=[Vehicle("沪D·55555", "HC", "120,000.00"),
                       Vehicle("沪D·66666", "SL", "8,000.00", displacement_ml=0)]),
]), ineligible({"vehicle"}, 90000, vehicles=1))

# H12 — a second residence (2 persons, married).
# husband's pension 1,500.00 since 2010-01 -> 1,800,000; per person 1,800,000/24 =
# 75,000 -> PASS. Flat A (husband 100%) and flat B (wife 100%), both ZZ -> 2 homes
# > 1 -> FAIL.
case(Household("H12", "a second residence", "310104", [
    P.member("韩振华", "M", "19580406", "310104", "self",
             pensions=[pension("1,500.00", "201001")]),
    P.member("韩丽萍", "F", "19610921", "310104", "spouse"),
], properties=[
    Property("沪(2012)徐字不动产权第000101号", "ZZ", 58.3, ((0, "100"),)),
    Property("沪(2016)闵字不动产权第000202号", "ZZ", 45.0, ((1, "100"),),
             registered="20160303"),
], marriages=[Marriage(0, 1, registered="19850512")]),
 ineligible({"residential-property-count"}, 75000, homes=2))

# H13 — one flat held jointly by husband and wife (2 persons).
# wife's wages 12 x 1,800.00 = 2,160,000; per person 90,000 -> PASS. One certificate,
# two holders at 50% each -> 1 home -> PASS.
case(Household("H13", "one flat held by both spouses counts once", "310105", [
    P.member("朱建华", "M", "19740715", "310105", "self"),
    P.member("朱慧敏", "F", "19760203", "310105", "spouse",
             wages=wages("202511", "202610", "1,800.00")),
], properties=[
    Property("沪(2008)长字不动产权第000303号", "ZZ", 72.5, ((0, "50"), (1, "50"))),
], marriages=[Marriage(0, 1, registered="20000101")]), eligible(90000, homes=1))

# H14 — a parking space (1 person).
# pension 1,200.00 since 2012-01 -> 1,440,000; per person 120,000 -> PASS. One flat
# (ZZ) and one parking space (CW) -> non-residential 1 -> FAIL; 1 home -> PASS.
case(Household("H14", "a parking space is non-residential", "310106", [
    P.member("秦玉珍", "F", "19570830", "310106", "self",
             pensions=[pension("1,200.00", "201201")]),
], properties=[
    Property("沪(2005)静字不动产权第000404号", "ZZ", 49.9, ((0, "100"),)),
    Property("沪(2015)静字不动产权第000505号", "CW", 12.5, ((0, "100"),),
             value="150,000.00"),
]), ineligible({"non-residential-property"}, 120000, homes=1, non_residential=1))

# H15 — subscribed capital exactly 100,000 yuan, with business income (2 persons).
# capital: company 10.0000 万元 + own shop 0.0000 万元 = 10,000,000 <= 10,000,000 ->
# PASS. Income (tax returns of the shop): 2025 return 12,000.00 over 2025-01..12,
# 2 months in W -> 1,200,000 x 2/12 = 200,000; 2026-01..09 return 18,000.00, all 9
# months in W -> 1,800,000. Total 2,000,000; per person 2,000,000/24 = 83,333.33 ->
# 83,333 -> PASS.
case(Household("H15", "subscribed capital exactly 100,000 yuan; business income", "310107", [
    P.member("许国庆", "M", "19711001", "310107", "self",
             businesses=[Business("上海许记餐饮管理有限公司", "YX", "10.0000"),
                         Business("普陀区许记小吃店", "GT", "0.0000", role="JYZ")],
             tax_returns=[TaxReturn("20250101", "20251231", "12,000.00", "150.00"),
                          TaxReturn("20260101", "20260930", "18,000.00", "300.00")]),
    P.member("许晨", "F", "20050606", "310107", "child"),
]), eligible(83333, capital_fen=10000000))

# H16 — subscribed capital one fen above 100,000 yuan (1 person).
# 10.000001 万元 = 100,000.01 yuan = 10,000,001 > 10,000,000 -> FAIL. No income: 0.
case(Household("H16", "subscribed capital one fen above 100,000 yuan", "310109", [
    P.member("何志刚", "M", "19830214", "310109", "self",
             businesses=[Business("上海何氏贸易有限公司", "YX", "10.000001", role="FDDBR")]),
]), ineligible({"business-capital"}, 0, capital_fen=10000001))

# H17 — revoked and deregistered businesses do not count (1 person).
# 50.0000 万元 revoked (DX) and 30.0000 deregistered (ZX) do not count; 5.0000 active
# -> 5,000,000 -> PASS. wages 12 x 1,200.00 = 1,440,000; per person 120,000 -> PASS.
case(Household("H17", "revoked and deregistered businesses do not count", "310110", [
    P.member("吕春生", "M", "19770419", "310110", "self",
             wages=wages("202511", "202610", "1,200.00"),
             businesses=[Business("上海吕氏建材有限公司", "YX", "50.0000", status="DX"),
                         Business("上海春生物流有限公司", "YX", "30.0000", status="ZX"),
                         Business("上海吕家装饰有限公司", "YX", "5.0000")]),
]), eligible(120000, capital_fen=5000000))

# H18 — a business loss does not offset wages (1 person).
# wages 12 x 1,400.00 = 1,680,000. 2025 return -30,000.00 and 2026-01..06 return
# -6,000.00 are losses -> 0. Total 1,680,000 >= 1,596,000 -> FAIL; per person
# 140,000. (Offset, it would be 1,680,000 - 500,000 - 600,000 = 580,000 and pass.)
case(Household("H18", "a business loss counts zero", "310112", [
    P.member("施建平", "M", "19760927", "310105", "self",
             wages=wages("202511", "202610", "1,400.00"),
             tax_returns=[TaxReturn("20250101", "20251231", "-30,000.00"),
                          TaxReturn("20260101", "20260630", "-6,000.00")]),
]), ineligible({"income"}, 140000))

# H19 — no wage record: the contribution base stands in (1 person).
# active pension and medical enrolments, base 2,500.00, since 2026-01-15; a
# terminated enrolment at 9,000.00 does not count. W months since 2026-01:
# 2026-01..10 = 10 -> 10 x 2,500.00 = 2,500,000 >= 1,596,000 -> FAIL; per person
# 2,500,000/12 = 208,333.33 -> 208,333.
case(Household("H19", "contribution base when no wage is declared", "310113", [
    P.member("张伟民", "M", "19850112", "310228", "self",
             insurance=[Insurance("SY", "9,000.00", "20190301", status="3"),
                        Insurance("YL", "2,500.00", "20260115"),
                        Insurance("YB", "2,500.00", "20260115")]),
]), ineligible({"income"}, 208333))

# H20 — a declared wage: no contribution-base fallback (1 person).
# wages 2026-07..10: 4 x 1,000.00 = 400,000 (the 2026-11 wage is outside W); the
# active base 6,000.00 is not used since wages exist in W. Per person 400,000/12 =
# 33,333.33 -> 33,333 -> PASS.
case(Household("H20", "declared wages: no contribution-base fallback", "310115", [
    P.member("王晓燕", "F", "19900505", "310225", "self",
             wages=wages("202607", "202611", "1,000.00"),
             insurance=[Insurance("YL", "6,000.00", "20260701")]),
]), eligible(33333))

# H21 — a pension first paid in 2026-05 (1 person).
# ledger 2026-05..2026-11 at 1,600.00 -> since 2026-05: W months 2026-05..10 = 6 ->
# 960,000; per person 80,000 -> PASS.
case(Household("H21", "a pension that started inside the window", "310101", [
    P.member("李凤英", "F", "19660515", "310101", "self",
             pensions=[pension("1,600.00", "202605")]),
]), eligible(80000))

# H22 — unemployment benefit partly in the window (2 persons).
# member 2: ledger 2025-09..2026-02 at 2,000.00 -> W months 2025-11..2026-02 = 4 ->
# 800,000. member 1 wages 12 x 1,500.00 = 1,800,000. Total 2,600,000; per person
# 2,600,000/24 = 108,333.33 -> 108,333 -> PASS (limit 3,192,000).
case(Household("H22", "unemployment benefit partly inside the window", "310226", [
    P.member("刘志明", "M", "19790303", "310106", "self",
             wages=wages("202511", "202610", "1,500.00")),
    P.member("刘芳", "F", "19810808", "310112", "spouse",
             unemployment=[Ledger("SL2025090001", "202509", "202602", "2,000.00")],
             employment="SY"),
], marriages=[Marriage(0, 1, registered="20060606")]), eligible(108333))

# H23 — property income pro rata tips the household over (1 person).
# pension 1,200.00 since 2010-01 -> 1,440,000. Interest 2,400.00 for 2025-05-01..
# 2026-04-30 (12 months, 6 in W) -> 240,000 x 6/12 = 120,000. Fund dividend 500.00
# for 2026-01-01..06-30 (6 months, all in W) -> 50,000. Total 1,610,000 >= 1,596,000
# -> FAIL; per person 1,610,000/12 = 134,166.67 -> 134,167. Deposit 50,000.00.
case(Household("H23", "property income counted pro rata", "310104", [
    P.member("陈桂芳", "F", "19580228", "310104", "self",
             pensions=[pension("1,200.00", "201001")],
             deposits=[Deposit("中国银行上海分行", "DQ", "50,000.00")],
             property_income=[
                 PropertyIncome("中国银行上海分行", "LX", "2,400.00", "20250501", "20260430"),
                 PropertyIncome("南方基金", "FH", "500.00", "20260101", "20260630")]),
]), ineligible({"income"}, 134167, money_assets_fen=5000000))

# H24 — the provident fund is not a money asset (1 person).
# deposit 100,000.00 -> 10,000,000 <= 12,000,000 -> PASS; the provident-fund balance
# 80,000.00 is not counted (counted it would be 18,000,000). wages 12 x 1,000.00 ->
# per person 100,000 -> PASS.
case(Household("H24", "provident-fund balance not counted", "310105", [
    P.member("罗建新", "M", "19840704", "310105", "self",
             wages=wages("202511", "202610", "1,000.00"),
             deposits=[Deposit("招商银行上海分行", "HQ", "100,000.00")],
             provident_fund=ProvidentFund("80,000.00", "1,200.00")),
]), eligible(100000, money_assets_fen=10000000))

# H25 — three persons exactly at the standard.
# member 1 wages 12 x 3,000.00 = 3,600,000; member 2 pension 990.00 since 2016-01 ->
# 1,188,000; child none. Total 4,788,000 = 133,000 x 12 x 3 -> FAIL; per person
# 4,788,000/36 = 133,000.
case(Household("H25", "three persons exactly at the standard", "310106", [
    P.member("黄永强", "M", "19800819", "310106", "self",
             wages=wages("202511", "202610", "3,000.00")),
    P.member("黄母", "F", "19520101", "310106", "parent",
             pensions=[pension("990.00", "201601", kind="CX")]),
    P.member("黄子涵", "M", "20140412", "310106", "child"),
]), ineligible({"income"}, 133000))

# H26 — per-person figure rounds half up (2 persons).
# wages 11 x 1,000.00 + 1,000.12 = 1,200,012; per person 1,200,012/24 = 50,000.5 ->
# 50,001 (half up) -> PASS.
case(Household("H26", "per-person income rounds half up", "310107", [
    P.member("马俊", "M", "19870123", "310107", "self",
             wages=[*wages("202511", "202609", "1,000.00"), Wage("202610", "1,000.12")]),
    P.member("马欣怡", "F", "20160620", "310107", "child"),
]), eligible(50001))

# H27 — several rules fail at once (3 persons).
# wages 12 x 6,000.00 = 7,200,000 >= 4,788,000 -> FAIL; per person 7,200,000/36 =
# 200,000. Deposits 200,000.00 = 20,000,000 > 12,000,000 -> FAIL. Car XK registered
# -> FAIL. One flat held by the couple -> 1 home, PASS.
case(Household("H27", "income, assets and a car all fail", "310109", [
    P.member("高建国", "M", "19750301", "310109", "self",
             wages=wages("202511", "202610", "6,000.00"),
             deposits=[Deposit("建设银行上海分行", "DQ", "200,000.00")],
             vehicles=[Vehicle("沪E·88888", "XK", "150,000.00")]),
    P.member("高丽", "F", "19770707", "310109", "spouse"),
    P.member("高天宇", "M", "20080808", "310109", "child"),
], properties=[Property("沪(2010)虹字不动产权第000606号", "ZZ", 88.0, ((0, "50"), (1, "50")))],
   marriages=[Marriage(0, 1, registered="20030303")]),
 ineligible({"income", "household-assets", "vehicle"}, 200000, money_assets_fen=20000000,
            vehicles=1, homes=1))

HOUSEHOLDS = [h for h, _ in CASES]


# ------------------------------------------------------------------ the system


@dataclass
class Decided:
    case: case_pb2.Case | None = None
    report: case_pb2.DeterminationReport | None = None
    envelope: bytes = b""
    error: str = ""


class NativeSystem:
    """A sandbox whose agents serve the native databases through the native mappings."""

    def __init__(self, root: Path) -> None:
        self.sb = sandbox.provision(root, persons=20, seed=3)
        self.databases = native.build_databases(root / "native-data", HOUSEHOLDS)
        self.standards = root / "standards"
        self.standards.mkdir()
        (self.standards / f"{STANDARD_ID}.toml").write_text(STANDARD_TOML, encoding="utf-8")
        for department in self.sb.agents:
            _point_agent(self.sb.agent_config(department), native.mapping_file(department),
                         self.databases[department])
        gateway_toml = self.sb.gateway_config
        text = gateway_toml.read_text(encoding="utf-8")
        text, n = re.subn(r'(?m)^directory = ".*"$',
                          f'directory = "{self.standards}"', text)
        assert n == 1, "the sandbox's gateway.toml has no [standards] directory line"
        gateway_toml.write_text(text, encoding="utf-8")
        self.material = sandbox.gateway_material(self.sb)
        self.client_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                               "hedui-client.toml")
        self.processes: dict[str, subprocess.Popen] = {}
        self.dated = "application_date" in case_pb2.OpenCaseRequest.DESCRIPTOR.fields_by_name
        self.decided: dict[str, Decided] = {}

    def start(self) -> None:
        sb = self.sb
        self.processes["gateway"] = sandbox.start_gateway(sb)
        sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material,
                             process=self.processes["gateway"],
                             log_file=sb.logs / "gateway.log")
        for d in sb.agents:
            self.processes[d] = sandbox.start_agent(sb, d)
        for d in sb.agents:
            sandbox.wait_healthy(sb.endpoints[d], sb.agents[d].id, self.material,
                                 process=self.processes[d],
                                 log_file=sb.logs / f"agent-{d}.log")

    def stop(self) -> None:
        for p in self.processes.values():
            sandbox.stop_process(p)

    def client(self) -> GatewayClient:
        return GatewayClient(ClientConfig.load(self.client_file))

    def decide_all(self) -> None:
        with self.client() as client:
            for n, h in enumerate(HOUSEHOLDS, 1):
                self.decided[h.hid] = self._decide(client, h, n)

    def _decide(self, client: GatewayClient, h: Household, n: int) -> Decided:
        members = [case_pb2.Member(id_number=m.id_number, name=m.name,
                                   relation=records_pb2.Relation.Value(
                                       "RELATION_" + m.relation.upper()))
                   for m in h.members]
        number = f"SQ-E2E-{n:04d}"
        auth = case_pb2.Authorization(
            number=number, programme="dibao",
            covered_id_numbers=[m.id_number for m in members],
            signed_on=_date(SIGNED_ON),
            validity=common_pb2.Period(start=_date(SIGNED_ON),
                                       end=_date(SIGNED_ON + dt.timedelta(days=364))),
            document_sha256=hashlib.sha256(number.encode()).hexdigest())
        request = case_pb2.OpenCaseRequest(
            programme="dibao", region=h.region, members=members,
            authorization_number=number, operator=client.config.operator)
        if self.dated:
            request.application_date.CopyFrom(_date(APPLICATION_DATE))
        out = Decided()
        try:
            verifying.register_authorization(client, auth)
            opened = client.call(client.cases.OpenCase, request)
            out.case = client.call(client.cases.VerifyCase, case_pb2.VerifyCaseRequest(
                case_id=opened.case_id, operator=client.config.operator), timeout=120)
            if out.case.state != case_pb2.CASE_STATE_DECIDED:
                out.error = verifying.summary(out.case)
                return out
            envelope: envelope_pb2.Envelope = client.call(
                client.cases.GetReport, case_pb2.GetReportRequest(
                    case_id=out.case.case_id, operator=client.config.operator))
            out.envelope = envelope.SerializeToString()
            out.report = case_pb2.DeterminationReport()
            out.report.ParseFromString(envelope.payload)
        except GatewayError as exc:
            out.error = f"{exc.code.name if exc.code else ''}: {exc}"
        return out


def _date(d: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def _point_agent(config: Path, mapping: Path, database: Path) -> None:
    """The sandbox's agent.toml, with the native mapping and database instead."""
    text = config.read_text(encoding="utf-8")
    text, n1 = re.subn(r'(?m)^mapping = ".*"$', f'mapping = "{mapping}"', text)
    text, n2 = re.subn(r'(?m)^database = ".*"$', f'database = "sqlite:///{database}"', text)
    assert n1 == n2 == 1, f"unexpected agent.toml layout in {config}"
    config.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeSystem]:
    s = NativeSystem(tmp_path_factory.mktemp("native"))
    try:
        s.start()
        s.decide_all()
        yield s
    finally:
        s.stop()


# ------------------------------------------------------------------ the households' results

VERDICT = case_pb2.RuleResult.Verdict.Name


def observed(report: case_pb2.DeterminationReport) -> dict:
    rules = {r.rule_id: VERDICT(r.verdict).removeprefix("VERDICT_") for r in report.rules}
    income_rule = [r.figure_fen for r in report.rules if r.rule_id == "income"]
    p = report.profile
    return {
        "outcome": case_pb2.Outcome.Name(report.outcome).removeprefix("OUTCOME_"),
        "rules": rules,
        "income_per_person_fen": p.monthly_income_per_person_fen,
        "income_rule_figure_fen": income_rule[0] if income_rule else None,
        "money_assets_fen": p.money_assets_fen,
        "vehicles": p.vehicles,
        "homes": p.residential_properties,
        "non_residential": p.non_residential_properties,
        "capital_fen": p.business_capital_fen,
    }


def wanted(e: Expected) -> dict:
    return {
        "outcome": e.outcome,
        "rules": {r: "FAIL" if r in e.failed else "PASS" for r in RULES},
        "income_per_person_fen": e.income_per_person_fen,
        "income_rule_figure_fen": e.income_per_person_fen,
        "money_assets_fen": e.money_assets_fen,
        "vehicles": e.vehicles,
        "homes": e.homes,
        "non_residential": e.non_residential,
        "capital_fen": e.capital_fen,
    }


@pytest.mark.parametrize(("household", "expected"), CASES, ids=[h.hid for h, _ in CASES])
def test_household_is_decided_as_computed_by_hand(system: NativeSystem, household: Household,
                                                  expected: Expected) -> None:
    assert system.dated, "OpenCaseRequest has no application_date: cases are assessed as of today"
    d = system.decided[household.hid]
    assert d.report is not None, f"{household.hid} ({household.what}) not decided: {d.error}"
    got, want = observed(d.report), wanted(expected)
    differ = {k: {"got": got[k], "by hand": want[k]} for k in want if got[k] != want[k]}
    if "rules" in differ:
        differ["rules"] = {r: f"{got['rules'].get(r)} (by hand {v})"
                           for r, v in want["rules"].items() if got["rules"].get(r) != v}
        differ["explanations"] = [r.explanation_en for r in d.report.rules
                                  if r.rule_id in differ["rules"]]
    assert not differ, f"{household.hid} ({household.what}): {differ}"


def test_every_report_is_assessed_as_of_the_application_date(system: NativeSystem) -> None:
    assert system.dated, "OpenCaseRequest has no application_date"
    for hid, d in system.decided.items():
        assert d.report is not None, f"{hid} not decided: {d.error}"
        r = d.report
        assert (r.application_date.year, r.application_date.month, r.application_date.day) \
            == (2026, 11, 15), hid
        w = r.income_window
        assert ((w.start.year, w.start.month, w.start.day), (w.end.year, w.end.month, w.end.day)) \
            == ((2025, 11, 1), (2026, 10, 31)), hid
        assert r.standard.standard_id == STANDARD_ID, hid
        assert len(r.answers) == 8, hid


def test_excluded_income_is_listed_as_excluded(system: NativeSystem) -> None:
    """H07's subsidy and assistance appear in the profile, marked excluded."""
    report = system.decided["H07"].report
    assert report is not None, system.decided["H07"].error
    lines = {i.kind: (i.amount_fen, i.excluded) for i in report.profile.income}
    # rent subsidy 1,500.00 x 12 W months / 12 = 150,000 per person per month;
    # dibao 530.00 x 10 W months (2026-01..10) = 530,000 / 12 = 44,166.67 -> 44,167
    assert lines["housing-subsidies"] == (150000, True)
    assert lines["assistance"] == (44167, True)
    assert lines["pensions"] == (80000, False)


def test_a_report_verifies_offline_against_the_test_standard(system: NativeSystem) -> None:
    d = system.decided["H02"]
    assert d.report is not None, d.error
    path = system.sb.root / "H02.report.dsse"
    path.write_bytes(d.envelope)
    result = subprocess.run(
        [*sandbox.hedui_command(), "report", "verify", str(path),
         "--bundle", str(system.sb.bundle), "--root-pub", str(system.sb.root_public_key),
         "--standards", str(system.standards)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "genuine" in result.stdout


# ------------------------------------------------------------------ without the system


def test_the_households_are_invented_and_well_formed() -> None:
    ids = [m.id_number for h in HOUSEHOLDS for m in h.members]
    assert len(HOUSEHOLDS) >= 20
    assert len(set(ids)) == len(ids)
    assert len({h.hid for h in HOUSEHOLDS}) == len(HOUSEHOLDS)
    for i in ids:
        assert i.startswith(("3101", "3102")) and ric.is_valid(i), i


def test_the_native_mappings_check_out_against_the_native_databases(tmp_path: Path) -> None:
    paths = native.build_databases(tmp_path, HOUSEHOLDS)
    for department, db in paths.items():
        source = MappingSource(native.mapping_file(department), f"sqlite:///{db}")
        problems = source.check()
        assert not problems, f"{department}: " + "; ".join(str(p) for p in problems)


def test_marriage_register_is_read_from_both_columns(tmp_path: Path) -> None:
    """The UNION ALL over the husband's and the wife's column, ``:ids`` used twice."""
    paths = native.build_databases(tmp_path, HOUSEHOLDS)
    source = MappingSource(native.mapping_file("civil-affairs"),
                           f"sqlite:///{paths['civil-affairs']}")
    h12 = next(h for h in HOUSEHOLDS if h.hid == "H12")
    husband, wife = h12.members
    records = source.fetch([husband.id_number, wife.id_number],
                           frozenset({"marriage.status", "marriage.spouse_id_number",
                                      "marriage.since"}))
    married = records_pb2.Marriage.STATUS_MARRIED
    assert records[husband.id_number].marriage.status == married
    assert records[husband.id_number].marriage.spouse_id_number == wife.id_number
    assert records[wife.id_number].marriage.status == married
    assert records[wife.id_number].marriage.spouse_id_number == husband.id_number
    assert records[wife.id_number].marriage.since.year == 1985


def test_ledgers_are_grouped_into_monthly_amounts(tmp_path: Path) -> None:
    """One pension row per month paid becomes one pension since the first month."""
    paths = native.build_databases(tmp_path, HOUSEHOLDS)
    source = MappingSource(native.mapping_file("human-resources"),
                           f"sqlite:///{paths['human-resources']}")
    h21 = next(h for h in HOUSEHOLDS if h.hid == "H21").members[0]
    h22 = next(h for h in HOUSEHOLDS if h.hid == "H22").members[1]
    records = source.fetch([h21.id_number, h22.id_number],
                           frozenset({"pensions", "unemployment_benefits"}))
    (p,) = records[h21.id_number].pensions
    assert (p.monthly_amount_fen, p.since.year, p.since.month) == (160000, 2026, 5)
    (u,) = records[h22.id_number].unemployment_benefits
    assert (u.monthly_amount_fen, u.period.start.month, u.period.end.year,
            u.period.end.month) == (200000, 9, 2026, 2)

"""``hedui standards check``: a standards file read on its own, before it decides anyone.

An administrator publishing a new year's standard wants three answers before the file
goes into the gateway's directory: is it well-formed (each error with its line), what
does it say in words (every limit with 低于 or 不超过, which income counts), and what
would it decide for a household near its limits. The last is the real test of a
standard — a limit typed in yuan instead of fen, or a strict limit meant inclusive,
shows at once in "exactly at the standard: eligible". Sample households are built as
profiles (no answers behind them) and go through the very rules a case goes through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hedui import china_time, textfiles
from hedui.gateway.assessment import INCOME_KIND_TITLES, Assessment, assess_profile
from hedui.gateway.profile import (
    ASSET_KINDS,
    Figure,
    format_area,
    format_yuan,
    income_window,
    make_profile,
)
from hedui.gateway.standards import INCOME_KINDS, InvalidStandard, Standard
from hedui.v1 import case_pb2

__all__ = ["Sample", "decide_sample", "describe", "load_sample", "sample_households"]

_OUTCOME_WORDS = {
    case_pb2.OUTCOME_ELIGIBLE: "符合 / eligible",
    case_pb2.OUTCOME_INELIGIBLE: "不符合 / ineligible",
    case_pb2.OUTCOME_INCOMPLETE: "无法核定 / incomplete",
    case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW: "需人工复核 / needs manual review",
}


@dataclass(frozen=True)
class Sample:
    """A household as figures: monthly amounts (fen, whole household), assets and counts."""

    label: str
    persons: int
    monthly_income_fen: Mapping[str, int]
    assets_fen: Mapping[str, int]
    vehicles: int = 0
    residential: int = 0
    non_residential: int = 0
    residential_area_cm2: int = 0


def _words(strict: bool) -> str:
    return "低于 / less than" if strict else "不超过 / at most"


def describe(standard: Standard) -> Iterator[str]:
    """The standard in words, one line each: what an administrator reviews."""
    s = standard
    until = s.effective_until.isoformat() if s.effective_until else "no end date"
    yield f"{s.standard_id}: {s.title}"
    yield f"  programme {s.programme}, region {s.region}, in force {s.effective_from} .. {until}"
    yield f"  source: {s.source}"
    if s.example:
        yield "  EXAMPLE: marked example = true; never use it for a real decision"
    counted = ", ".join(s.income_counted)
    excluded = ", ".join(s.income_excluded) or "nothing"
    yield (f"  income: per person per month {_words(s.income_strictly_below)} "
           f"{format_yuan(s.monthly_income_limit_fen)} yuan over the {s.income_window_months} "
           f"whole months before the application month")
    yield f"    counted: {counted}; not counted: {excluded}; wage fallback: {s.wage_fallback}"
    strict = _words(s.assets_strictly_below)
    if s.money_assets_multiple is not None:
        yield (f"  money assets: per person {strict} {format_yuan(s.asset_limit_per_person_fen)}"
               f" yuan ({s.money_assets_multiple} x the annual standard)")
    if s.household_assets_limit_fen is not None:
        yield f"  money assets: household {strict} {format_yuan(s.household_assets_limit_fen)} yuan"
    yield f"    provident-fund balance {'counted' if s.count_provident_fund else 'not counted'}"
    if s.vehicle_max_count is not None:
        yield (f"  vehicles ({', '.join(s.vehicle_counted_kinds)}): at most "
               f"{s.vehicle_max_count}")
    if s.vehicle_max_value_fen is not None:
        yield (f"  vehicle value: {_words(s.vehicle_value_strictly_below)} "
               f"{format_yuan(s.vehicle_max_value_fen)} yuan")
    yield ("  non-residential property: " + ("allowed" if s.allow_non_residential else "none"))
    if s.residential_max_count is not None:
        yield f"  homes: at most {s.residential_max_count}"
    if s.residential_max_area_per_person_cm2 is not None:
        yield (f"  floor area per person: {_words(s.area_strictly_below)} "
               f"{format_area(s.residential_max_area_per_person_cm2)} m²")
    if s.business_max_capital_fen is not None:
        yield (f"  subscribed business capital: {_words(s.capital_strictly_below)} "
               f"{format_yuan(s.business_max_capital_fen)} yuan")
    yield f"  manual review within {s.review_margin_percent}% of a limit"


def sample_households(standard: Standard, persons: int = 3) -> list[Sample]:
    """Households at each limit's edge: exactly at it, one fen below and above."""
    s = standard
    limit = s.monthly_income_limit_fen * persons
    out = [
        Sample("no income, no assets", persons, {}, {}),
        Sample("income one fen below the limit", persons, {"wages": limit - persons}, {}),
        Sample("income exactly at the limit", persons, {"wages": limit}, {}),
        Sample("income one fen above the limit", persons, {"wages": limit + persons}, {}),
    ]
    money = None
    if s.money_assets_multiple is not None:
        money = s.asset_limit_per_person_fen * persons
    if s.household_assets_limit_fen is not None:
        money = min(money or s.household_assets_limit_fen, s.household_assets_limit_fen)
    if money is not None:
        out += [
            Sample("money assets exactly at the limit", persons, {}, {"deposits": money}),
            Sample("money assets one fen above", persons, {}, {"deposits": money + 1}),
        ]
    if s.vehicle_max_count is not None:
        n = s.vehicle_max_count + 1
        out.append(Sample(f"{n} counted vehicle(s)", persons, {}, {}, vehicles=n))
    if not s.allow_non_residential:
        out.append(Sample("a shop (non-residential)", persons, {}, {}, non_residential=1))
    if s.residential_max_count is not None:
        n = s.residential_max_count + 1
        out.append(Sample(f"{n} homes", persons, {}, {}, residential=n))
    if s.business_max_capital_fen is not None:
        cap = s.business_max_capital_fen
        out.append(Sample("business capital exactly at the limit", persons, {},
                          {"business-capital": cap}))
    return out


def decide_sample(standard: Standard, sample: Sample, as_of: date | None = None,
                  *, margin: bool = True) -> Assessment:
    """What ``standard`` decides for ``sample`` (income figures spread over the window)."""
    today = china_time.today()
    on = as_of or max(standard.effective_from, min(today, standard.effective_until or today))
    window = income_window(on, standard.income_window_months)
    income = {k: Figure(k, sample.monthly_income_fen.get(k, 0) * window.months)
              for k in INCOME_KINDS}
    assets = {k: Figure(k, sample.assets_fen.get(k, 0)) for k in ASSET_KINDS}
    profile = make_profile(
        standard, persons=sample.persons, window=window, income=income, assets=assets,
        vehicle_count=sample.vehicles, residential_count=sample.residential,
        non_residential_count=sample.non_residential,
        residential_area_cm2=sample.residential_area_cm2,
    )
    if not margin:
        standard = dataclasses.replace(standard, review_margin_percent=0)
    return assess_profile(profile, standard, as_of=on)


def verdict_line(sample: Sample, result: Assessment) -> str:
    """One line: the sample, the outcome, the rules that decided it."""
    return f"  {sample.label} [{sample.persons} persons, " \
        f"{format_yuan(result.profile.monthly_income_per_person_fen)} yuan/person/month]: " \
        f"{outcome_words(result)}"


def outcome_words(result: Assessment) -> str:
    """The outcome in words with the rules that decided it."""
    wanted = {
        case_pb2.OUTCOME_INELIGIBLE: case_pb2.RuleResult.VERDICT_FAIL,
        case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW: case_pb2.RuleResult.VERDICT_REVIEW,
        case_pb2.OUTCOME_INCOMPLETE: case_pb2.RuleResult.VERDICT_UNKNOWN,
    }.get(result.outcome)
    deciding = [r.rule_id for r in result.rules if r.verdict == wanted]
    because = f" ({', '.join(deciding)})" if deciding else ""
    return f"{_OUTCOME_WORDS[result.outcome]}{because}"


# ------------------------------------------------------------------ sample files

_COUNTS = {"vehicles": "vehicles", "residential": "residential",
           "non_residential": "non_residential"}


def load_sample(path: Path) -> Sample:
    """A sample household file (TOML)::

        persons = 3
        [income]      # yuan per month, whole household: any kind of INCOME_KINDS
        wages = "3,000.00"
        pensions = 1200
        [assets]      # yuan: deposits, securities, provident-fund, business-capital
        deposits = "50000"
        [counts]
        vehicles = 0
        residential = 1
        non_residential = 0
        residential_area_m2 = 60
    """
    try:
        data, _ = textfiles.read_toml(path)
    except textfiles.FileProblem as exc:
        raise InvalidStandard(str(path), "", f"cannot be read as a sample household ({exc})"
                              ) from None
    src = str(path)
    persons = data.get("persons")
    if isinstance(persons, bool) or not isinstance(persons, int) or not 1 <= persons <= 20:
        raise InvalidStandard(src, "persons", "must be a whole number from 1 to 20")
    unknown = set(data) - {"persons", "income", "assets", "counts", "label"}
    if unknown:
        raise InvalidStandard(src, sorted(unknown)[0], "is not a known key")
    income = {k: _yuan(src, f"income.{k}", v) for k, v in _table(src, data, "income").items()}
    bad = [k for k in income if k not in INCOME_KINDS]
    if bad:
        raise InvalidStandard(src, f"income.{bad[0]}",
                              f"is not an income kind; expected one of {', '.join(INCOME_KINDS)}")
    assets = {k: _yuan(src, f"assets.{k}", v) for k, v in _table(src, data, "assets").items()}
    allowed = ("deposits", "securities", "provident-fund", "business-capital")
    bad = [k for k in assets if k not in allowed]
    if bad:
        raise InvalidStandard(src, f"assets.{bad[0]}",
                              f"is not an asset kind; expected one of {', '.join(allowed)}")
    counts = _table(src, data, "counts")
    area = counts.pop("residential_area_m2", 0)
    kwargs: dict[str, int] = {}
    for key, value in counts.items():
        if key not in _COUNTS or isinstance(value, bool) or not isinstance(value, int) \
                or value < 0:
            raise InvalidStandard(src, f"counts.{key}", "is not a known count (vehicles, "
                                  "residential, non_residential, residential_area_m2)")
        kwargs[_COUNTS[key]] = value
    try:
        area_cm2 = int(Decimal(str(area)) * 100)
    except InvalidOperation:
        raise InvalidStandard(src, "counts.residential_area_m2", "must be a number") from None
    return Sample(str(data.get("label", path.name)), persons, income, assets,
                  residential_area_cm2=area_cm2, **kwargs)


def _table(src: str, data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InvalidStandard(src, name, "must be a table")
    return dict(value)


def _yuan(src: str, key: str, value: object) -> int:
    """Yuan as written (number or text with thousands separators) → whole fen."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidStandard(src, key, "must be an amount in yuan")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise InvalidStandard(src, key, "must be an amount in yuan") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidStandard(src, key, "must be a positive amount in yuan")
    return int((amount * 100).to_integral_value())


def income_kind_words() -> str:
    """The income kinds with their Chinese names (for --help)."""
    return ", ".join(f"{k} ({INCOME_KIND_TITLES[k][0]})" for k in INCOME_KINDS)

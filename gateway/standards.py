"""Assistance standards: versioned TOML data files, one standard per file.

A standard is law-like data the center's administrator publishes (DESIGN.md,
"Assessment"): which income counts over which window, the per-capita limit, asset,
vehicle, property and business limits and the manual-review margin. Keeping it data
means a new year's amount is a new file with a new ``effective_from``, reviewed like a
policy change, never a code change. Money is integer fen; areas are decimals read
without binary floating point (``Decimal``) and held as integer hundredths of a m².

A file that breaks a rule is refused whole with :class:`InvalidStandard`, whose message
names the file and the key, so the administrator can fix it from the error alone; an
unknown key is refused too (a misspelt limit must not silently switch a rule off).

File format (``deploy/standards/*.toml``; defaults in brackets, "-" = rule not applied)::

    id, region (6 digits), programme, title, source   strings, required
    effective_from, effective_until                    TOML dates (until: inclusive, [-])
    example                                            bool [false]
    monthly_standard_fen                               int, required
    income_window_months                               6 or 12, required
    reverify_every_months                              6 or 12 [12]: beneficiaries'
                                                       re-verification (动态监测) interval
    [income]  limit_percent_of_standard [100], strictly_below [true],
              counted [wages, net-business, net-property, pensions, unemployment-benefits],
              excluded [housing-subsidies, assistance] (together: every kind, once),
              wage_fallback ["contribution-base" | "none"]
    [assets]  money_assets_multiple [-], household_limit_fen [-] (one of them required),
              count_provident_fund [false], strictly_below [false]
    [vehicle] counted_kinds [passenger-car], max_count [-], max_value_fen [-],
              strictly_below [false] (the value limit)
    [property] allow_non_residential [false], max_residential_count [-],
              max_residential_area_per_person_m2 [-], strictly_below [false] (the area)
    [business] max_subscribed_capital_fen [-], strictly_below [false]
    [review]  margin_percent [0]

Published rules say both 低于 (strictly below: ``strictly_below = true``) and 不超过
(at most: ``false``), so every limit says which; counts ("no car", "at most one home")
are always "at most". Income kinds are the ones published rules tell apart: a county
that does not count housing-security subsidies lists ``housing-subsidies`` as excluded.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hedui import textfiles
from hedui.errors import HeduiError
from hedui.toml_lines import TomlLines
from hedui.v1 import case_pb2, common_pb2

__all__ = [
    "INCOME_KINDS",
    "VEHICLE_KINDS",
    "InvalidStandard",
    "NoStandard",
    "Standard",
    "StandardError",
    "StandardsLibrary",
    "load_standard",
    "parse_standard",
    "parse_standard_text",
    "region_chain",
]

#: income kinds a standard can count or exclude (the profile computes each of them)
INCOME_KINDS = (
    "wages",
    "net-business",
    "net-property",
    "pensions",
    "unemployment-benefits",
    "housing-subsidies",
    "assistance",
)
DEFAULT_COUNTED = ("wages", "net-business", "net-property", "pensions", "unemployment-benefits")
#: kinds of earlier releases, with what replaced them (so an old file gets a useful error)
_RETIRED_KINDS = {
    "net-transfers": "pensions, unemployment-benefits and housing-subsidies (list each one)",
}
#: vehicle kinds (records.proto Vehicle.Kind) a standard can count
VEHICLE_KINDS = ("passenger-car", "motorcycle", "truck", "low-speed", "other")
_WAGE_FALLBACKS = ("contribution-base", "none")
_PROGRAMMES_HINT = "e.g. dibao, low-income, low-rent-housing"


class StandardError(HeduiError):
    """Base of the errors about standards files."""


class InvalidStandard(StandardError):
    """A standards file is malformed; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str, line: int | None = None) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        self.line = line
        where = f"key {key!r}" if key else "the file"
        at = f", line {line}" if line else ""
        super().__init__(f"standards file {source}{at}: {where} {problem}")

    def at_line(self, line: int | None) -> InvalidStandard:
        """The same error, naming the line of the file it is about."""
        return InvalidStandard(self.source, self.key, self.problem, line)


class NoStandard(StandardError):
    """No standard in the library is in force for a region, programme and date."""


@dataclass(frozen=True, slots=True)
class Standard:
    """One published standard. Built only through :func:`parse_standard` (validated)."""

    standard_id: str
    region: str
    programme: str
    title: str
    effective_from: date
    #: inclusive last day; None while it has not been superseded by a hard end date
    effective_until: date | None
    source: str
    #: True for illustrative standards shipped with hedui, never for a real decision
    example: bool
    monthly_standard_fen: int
    income_window_months: int
    #: per-capita monthly income limit as a percentage of the monthly standard
    income_limit_percent: int
    #: True: income must be strictly below the limit (dibao); False: at most the limit
    income_strictly_below: bool
    income_counted: tuple[str, ...]
    income_excluded: tuple[str, ...]
    #: "contribution-base": a member without wage records but with an active insurance
    #: enrolment is taken to earn its contribution base; "none": no fallback
    wage_fallback: str
    #: money assets per person <= multiple x annual standard; None: no per-person limit
    money_assets_multiple: int | None
    #: absolute household money-asset limit in fen; None: none
    household_assets_limit_fen: int | None
    count_provident_fund: bool
    #: vehicle rule: None in each field means that check is not made
    vehicle_counted_kinds: tuple[str, ...]
    vehicle_max_count: int | None
    vehicle_max_value_fen: int | None
    allow_non_residential: bool
    residential_max_count: int | None
    #: per-capita owned residential floor area limit, in hundredths of a m²
    residential_max_area_per_person_cm2: int | None
    business_max_capital_fen: int | None
    #: figures within this percentage of a limit (either side) go to manual review
    review_margin_percent: int
    #: strictness of the other limits (True: 低于, figure < limit; False: 不超过, <=)
    assets_strictly_below: bool = False
    vehicle_value_strictly_below: bool = False
    area_strictly_below: bool = False
    capital_strictly_below: bool = False
    #: months between re-verification runs of the programme's roster (half-yearly where
    #: the published rule says so, e.g. for irregular incomes)
    reverify_every_months: int = 12
    path: str = field(default="", compare=False)

    @property
    def monthly_income_limit_fen(self) -> int:
        """Standard x percent / 100, rounded half up to a whole fen."""
        return (2 * self.monthly_standard_fen * self.income_limit_percent + 100) // 200

    @property
    def asset_limit_per_person_fen(self) -> int:
        """Monthly standard x 12 x multiple (0 when the standard sets no such limit)."""
        if self.money_assets_multiple is None:
            return 0
        return self.monthly_standard_fen * 12 * self.money_assets_multiple

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (
            self.effective_until is None or on <= self.effective_until
        )

    def applied(self) -> case_pb2.StandardApplied:
        """The copy of this standard a determination report carries."""
        return case_pb2.StandardApplied(
            standard_id=self.standard_id,
            title=self.title,
            region=self.region,
            programme=self.programme,
            effective_from=common_pb2.Date(
                year=self.effective_from.year,
                month=self.effective_from.month,
                day=self.effective_from.day,
            ),
            monthly_income_limit_fen=self.monthly_income_limit_fen,
            income_window_months=self.income_window_months,
            asset_limit_per_person_fen=self.asset_limit_per_person_fen,
            asset_limit_household_fen=self.household_assets_limit_fen or 0,
            source=self.source,
        )


# ------------------------------------------------------------------ parsing


class _Reader:
    """Typed access to one TOML table that names the file and dotted key on error."""

    def __init__(self, source: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.source = source
        self.table = table
        self.prefix = prefix
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, problem: str) -> InvalidStandard:
        return InvalidStandard(self.source, self.key(name), problem)

    def sub(self, name: str) -> _Reader:
        self.used.add(name)
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table ([" + self.key(name) + "])")
        return _Reader(self.source, value, f"{self.key(name)}.")

    def _get(self, name: str, required: bool) -> Any:
        self.used.add(name)
        if name not in self.table:
            if required:
                raise self.fail(name, "is missing")
            return None
        return self.table[name]

    def string(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self._get(name, required)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "must be a non-empty string")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self._get(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(name, "must be true or false")
        return value

    def integer(
        self, name: str, *, required: bool = False, low: int = 0, high: int = 10**15
    ) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"must be a whole number (got {type(value).__name__})")
        if not low <= value <= high:
            raise self.fail(name, f"must be between {low} and {high} (got {value})")
        return value

    def day(self, name: str, *, required: bool) -> date | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise self.fail(name, "must be a TOML date such as 2021-07-01 (no quotes, no time)")
        return value

    def words(self, name: str, allowed: Iterable[str], default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(name, False)
        if value is None:
            return default
        allowed = tuple(allowed)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "must be a list of strings")
        for v in value:
            if v in _RETIRED_KINDS:
                raise self.fail(name, f"names {v!r}, which is now {_RETIRED_KINDS[v]}")
            if v not in allowed:
                raise self.fail(name, f"names {v!r}; expected some of {', '.join(allowed)}")
        if len(set(value)) != len(value):
            raise self.fail(name, "lists an item twice")
        return tuple(value)

    def area_cm2(self, name: str) -> int | None:
        """A decimal area in m² as integer hundredths, read via str() to avoid float error."""
        value = self._get(name, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "must be a number of square metres")
        try:
            hundredths = (Decimal(str(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP)
        except InvalidOperation:
            raise self.fail(name, "must be a finite number of square metres") from None
        if not 0 < hundredths <= 10**8:
            raise self.fail(name, "must be a positive number of square metres")
        return int(hundredths)

    def check_unknown(self) -> None:
        for name in self.table:
            if name not in self.used:
                close = difflib.get_close_matches(name, sorted(self.used), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.fail(
                    name, f"is not a known key (a typo would silently drop a rule){hint}")


def parse_standard(data: Mapping[str, Any], source: str = "<memory>") -> Standard:
    """Build a :class:`Standard` from parsed TOML; raise InvalidStandard naming the key."""
    top = _Reader(source, data)
    standard_id = top.string("id")
    region = top.string("region")
    if not (len(region) == 6 and region.isdigit() and region.isascii()):
        raise top.fail("region", f"must be a six-digit region code such as 310000 (got {region!r})")
    programme = top.string("programme")
    if not all(part.isalnum() and part.islower() for part in programme.split("-")):
        raise top.fail("programme", f"must be a programme id, {_PROGRAMMES_HINT}")
    title = top.string("title")
    effective_from = top.day("effective_from", required=True)
    effective_until = top.day("effective_until", required=False)
    assert effective_from is not None
    if effective_until is not None and effective_until < effective_from:
        raise top.fail("effective_until", "is before effective_from")
    src = top.string("source")
    example = top.boolean("example", False)
    monthly = top.integer("monthly_standard_fen", required=True, low=1, high=10**9)
    window = top.integer("income_window_months", required=True, low=1, high=24)
    if window not in (6, 12):
        raise top.fail("income_window_months", f"must be 6 or 12 (got {window})")
    reverify = top.integer("reverify_every_months", low=1, high=24)
    if reverify is not None and reverify not in (6, 12):
        raise top.fail("reverify_every_months", f"must be 6 or 12 (got {reverify})")

    income = top.sub("income")
    percent = income.integer("limit_percent_of_standard", low=1, high=1000)
    strictly_below = income.boolean("strictly_below", True)
    counted = income.words("counted", INCOME_KINDS, DEFAULT_COUNTED)
    rest = tuple(k for k in INCOME_KINDS if k not in counted)
    excluded = income.words("excluded", INCOME_KINDS, rest)
    both = set(counted) & set(excluded)
    if both:
        raise income.fail("excluded", f"also lists counted income {', '.join(sorted(both))}")
    neither = [k for k in INCOME_KINDS if k not in counted and k not in excluded]
    if neither:
        raise income.fail(
            "excluded",
            f"must name every income kind that is not counted; say whether "
            f"{', '.join(neither)} count (add each to counted or to excluded)",
        )
    fallback = income.string("wage_fallback", required=False, default="contribution-base")
    if fallback not in _WAGE_FALLBACKS:
        raise income.fail("wage_fallback", f"must be one of {', '.join(_WAGE_FALLBACKS)}")
    income.check_unknown()

    assets = top.sub("assets")
    multiple = assets.integer("money_assets_multiple", low=1, high=100)
    household = assets.integer("household_limit_fen", low=1)
    provident = assets.boolean("count_provident_fund", False)
    assets_strict = assets.boolean("strictly_below", False)
    assets.check_unknown()

    vehicle = top.sub("vehicle")
    kinds = vehicle.words("counted_kinds", VEHICLE_KINDS, ("passenger-car",))
    max_count = vehicle.integer("max_count", low=0, high=100)
    max_value = vehicle.integer("max_value_fen", low=1)
    vehicle_strict = vehicle.boolean("strictly_below", False)
    vehicle.check_unknown()

    prop = top.sub("property")
    allow_non_residential = prop.boolean("allow_non_residential", False)
    max_homes = prop.integer("max_residential_count", low=0, high=100)
    max_area = prop.area_cm2("max_residential_area_per_person_m2")
    area_strict = prop.boolean("strictly_below", False)
    prop.check_unknown()

    business = top.sub("business")
    max_capital = business.integer("max_subscribed_capital_fen", low=0)
    capital_strict = business.boolean("strictly_below", False)
    business.check_unknown()

    review = top.sub("review")
    margin = review.integer("margin_percent", low=0, high=50)
    review.check_unknown()
    top.check_unknown()

    if multiple is None and household is None:
        raise InvalidStandard(
            source,
            "assets.money_assets_multiple",
            "or assets.household_limit_fen must be set: every standard limits money assets",
        )
    return Standard(
        standard_id=standard_id,
        region=region,
        programme=programme,
        title=title,
        effective_from=effective_from,
        effective_until=effective_until,
        source=src,
        example=example,
        monthly_standard_fen=monthly or 0,
        income_window_months=window or 0,
        income_limit_percent=percent if percent is not None else 100,
        income_strictly_below=strictly_below,
        income_counted=counted,
        income_excluded=excluded,
        wage_fallback=fallback,
        money_assets_multiple=multiple,
        household_assets_limit_fen=household,
        count_provident_fund=provident,
        vehicle_counted_kinds=kinds,
        vehicle_max_count=max_count,
        vehicle_max_value_fen=max_value,
        allow_non_residential=allow_non_residential,
        residential_max_count=max_homes,
        residential_max_area_per_person_cm2=max_area,
        business_max_capital_fen=max_capital,
        review_margin_percent=margin or 0,
        assets_strictly_below=assets_strict,
        vehicle_value_strictly_below=vehicle_strict,
        area_strictly_below=area_strict,
        capital_strictly_below=capital_strict,
        reverify_every_months=reverify or 12,
        path=source,
    )


def load_standard(path: str | Path) -> Standard:
    """Read and validate one standards TOML file."""
    path = Path(path)
    try:
        text = textfiles.read_text(path)  # UTF-8 (with or without BOM) or GB18030
    except textfiles.FileProblem as exc:
        raise InvalidStandard(str(path), "", str(exc).removeprefix(f"{path}: ")) from None
    return parse_standard_text(text, str(path))


def parse_standard_text(text: str, source: str) -> Standard:
    """Parse a standards file's text; an error names the line of the key it is about."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidStandard(source, "", f"is not valid TOML ({exc})") from None
    try:
        return parse_standard(data, source)
    except InvalidStandard as exc:
        if not exc.key:
            raise
        path = tuple(exc.key.split("."))
        raise exc.at_line(TomlLines(text).line(path)) from None


# ------------------------------------------------------------------ the library


class StandardsLibrary:
    """Every standard in a directory (``*.toml``), checked together when loaded.

    Selection rule: among the standards for the region (falling back from a county code
    to its city, ``xxxx00``, then its province, ``xx0000``, as districts use their
    city's standard) and programme that are in force on the date, the one with the
    latest ``effective_from`` applies: a new year's file supersedes the old one without
    editing it. Two candidates with the same ``effective_from`` are refused when loaded.
    """

    def __init__(self, directory: str | Path | None = None, *, standards: Iterable[Standard] = ()):
        found: list[Standard] = list(standards)
        if directory is not None:
            directory = Path(directory)
            if not directory.is_dir():
                raise StandardError(f"standards directory {directory} does not exist")
            found += [load_standard(p) for p in sorted(directory.glob("*.toml"))]
        by_id: dict[str, Standard] = {}
        starts: dict[tuple[str, str, date], Standard] = {}
        for s in found:
            if s.standard_id in by_id:
                raise InvalidStandard(
                    s.path, "id", f"{s.standard_id!r} is also used by {by_id[s.standard_id].path}"
                )
            by_id[s.standard_id] = s
            slot = (s.region, s.programme, s.effective_from)
            if slot in starts:
                raise InvalidStandard(
                    s.path,
                    "effective_from",
                    f"{s.effective_from} is also when {starts[slot].path} takes effect for the "
                    "same region and programme; give one of them another date",
                )
            starts[slot] = s
        self._by_id = by_id

    def __iter__(self) -> Iterator[Standard]:
        return iter(sorted(self._by_id.values(), key=lambda s: s.standard_id))

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, standard_id: str) -> Standard:
        try:
            return self._by_id[standard_id]
        except KeyError:
            raise NoStandard(f"there is no standard with id {standard_id!r}") from None

    def select(self, region: str, programme: str, on: date) -> Standard:
        """The standard in force for ``region`` and ``programme`` on ``on``.

        Raises :class:`NoStandard` naming the region, programme and date when none is.
        """
        for code in region_chain(region):
            candidates = [
                s
                for s in self._by_id.values()
                if s.region == code and s.programme == programme and s.in_force(on)
            ]
            if candidates:
                return max(candidates, key=lambda s: s.effective_from)
        raise NoStandard(
            f"no {programme} standard is in force for region {region} on {on.isoformat()}; "
            "the administrator must publish one in the standards directory"
        )


def region_chain(region: str) -> list[str]:
    """The region, then its city and province codes (GB/T 2260 levels), without repeats."""
    chain = [region]
    if len(region) == 6 and region.isdigit():
        for code in (region[:4] + "00", region[:2] + "0000"):
            if code not in chain:
                chain.append(code)
    return chain

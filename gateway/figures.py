"""Figures of a household profile: integer money, whole months, income windows, gaps.

The small exact types every part of the decision shares — the profile that computes
them, the assessment that compares them, the report and ``hedui standards check`` that
print them — kept apart from the walk over department records (:mod:`.profile`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from hedui.v1 import case_pb2, common_pb2

# ------------------------------------------------------------------ integer money


def div_round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (x.5 → x+1, -x.5 → -x), integers only.

    Precondition: ``denominator > 0``.
    """
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    return (2 * numerator + denominator) // (2 * denominator)


def format_yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators, exactly: 133000 → 1,330.00."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def format_area(hundredths: int) -> str:
    """Hundredths of a m² as a decimal: 1234 → 12.34."""
    whole, cents = divmod(int(hundredths), 100)
    return f"{whole:,}.{cents:02d}"


def hundredths(value: float) -> int:
    """A record's double (area, share percent) as integer hundredths, via its repr."""
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        return 0
    return int((Decimal(repr(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


# ------------------------------------------------------------------ months


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_of(d: common_pb2.Date) -> int | None:
    if d.year <= 0 or not 1 <= d.month <= 12:
        return None
    return _month_index(d.year, d.month)


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class IncomeWindow:
    """Whole calendar months ``first..last`` (month indexes year*12+month-1), inclusive."""

    first: int
    last: int

    @property
    def months(self) -> int:
        return self.last - self.first + 1

    def label(self) -> str:
        return f"{_month_label(self.first)}..{_month_label(self.last)}"

    def overlap(self, start: int | None, end: int | None) -> int:
        """Months of ``start..end`` (None: open on that side) inside the window."""
        lo = self.first if start is None else max(start, self.first)
        hi = self.last if end is None else min(end, self.last)
        return max(0, hi - lo + 1)


def income_window(as_of: date, months: int) -> IncomeWindow:
    """The ``months`` whole months before the month of ``as_of``. Precondition: months >= 1."""
    if months < 1:
        raise ValueError("an income window has at least one month")
    last = _month_index(as_of.year, as_of.month) - 1
    return IncomeWindow(first=last - months + 1, last=last)


# ------------------------------------------------------------------ figures and gaps


@dataclass(frozen=True, slots=True)
class Gap:
    """Data a rule may need that the assessment does not have, and why.

    ``path`` empty means the whole department; ``subject`` empty means every member.
    """

    department: str
    path: str
    reason_zh: str
    reason_en: str
    subject: str = ""


@dataclass(slots=True)
class Figure:
    """One profile figure: an amount (fen, count or area), its evidence, review notes."""

    kind: str
    amount: int = 0
    evidence: list[case_pb2.Evidence] = field(default_factory=list)
    #: (zh, en) reasons why a person must look at this figure
    review_notes: list[tuple[str, str]] = field(default_factory=list)

    def add(self, amount: int, evidence: case_pb2.Evidence) -> None:
        self.amount += amount
        self.evidence.append(evidence)


@lru_cache(maxsize=4096)  # a few dozen policy and rule paths, asked per household
def paths_overlap(a: str, b: str) -> bool:
    """True when one AIP-161 path covers (part of) the other; ``*`` and indexes match."""
    for x, y in zip(a.split("."), b.split("."), strict=False):
        if x == y or "*" in (x, y):
            continue
        return False
    return True


@dataclass(frozen=True)
class Profile:
    """The household's figures; :meth:`to_proto` is what the report carries."""

    persons: int
    window: IncomeWindow
    #: window totals (fen) by income kind, every kind of INCOME_KINDS
    income: Mapping[str, Figure]
    counted_income: tuple[str, ...]
    #: sum of the counted kinds over the window (fen)
    income_total_fen: int
    monthly_income_per_person_fen: int
    assets: Mapping[str, Figure]
    counted_money_assets: tuple[str, ...]
    money_assets_fen: int
    vehicle_count: int
    residential_count: int
    non_residential_count: int
    #: owned residential floor area, hundredths of a m² (whole household)
    residential_area_cm2: int
    gaps: tuple[Gap, ...]
    #: department → SHA-256 of its signed answer, for the departments that answered
    answer_digests: Mapping[str, bytes]

    def to_proto(self) -> case_pb2.HouseholdProfile:
        """Income lines are per person per month (each rounded on its own)."""
        per = self.window.months * self.persons
        return case_pb2.HouseholdProfile(
            persons=self.persons,
            income=[
                case_pb2.ProfileItem(
                    kind=kind,
                    amount_fen=div_round_half_up(fig.amount, per),
                    excluded=kind not in self.counted_income,
                    evidence=fig.evidence,
                )
                for kind, fig in self.income.items()
            ],
            monthly_income_per_person_fen=self.monthly_income_per_person_fen,
            assets=[
                case_pb2.ProfileItem(
                    kind=kind,
                    amount_fen=fig.amount,
                    excluded=kind not in self.counted_money_assets,
                    evidence=fig.evidence,
                )
                for kind, fig in self.assets.items()
            ],
            money_assets_fen=self.money_assets_fen,
            vehicles=self.vehicle_count,
            residential_properties=self.residential_count,
            non_residential_properties=self.non_residential_count,
            business_capital_fen=self.assets["business-capital"].amount,
        )

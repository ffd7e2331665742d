"""Turning a department's column values into record field values.

Department databases write money in yuan (as text, DECIMAL or REAL), in fen, or in
10,000 yuan; engine displacement in millilitres (cc) or litres ("1.6"); dates as
``YYYYMMDD``, ``YYYY-MM-DD`` or ``YYYYMM`` text, or as real dates; statuses as their
own codes. These converters are the only place such values are interpreted, so the
rules are in one file: money and volumes go through ``Decimal`` (never a binary
float) and are rounded half-up to a whole fen or millilitre; a date format without a
day gives a whole-month ``Date`` (day 0); a code the mapping does not list is left
unset.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

#: fen per unit; the names a mapping file may use in ``unit = "..."``
UNITS: dict[str, int] = {
    "fen": 1,
    "jiao": 10,
    "yuan": 100,
    "wan-yuan": 1_000_000,
    # the same units written in Chinese, as department staff may prefer
    "分": 1,
    "角": 10,
    "元": 100,
    "万元": 1_000_000,
}

#: millilitres per unit; for fields ending in ``_ml`` (``Vehicle.displacement_ml``)
VOLUME_UNITS: dict[str, int] = {
    "ml": 1,
    "millilitre": 1,
    "cc": 1,
    "litre": 1000,
    "liter": 1000,
    "L": 1000,
    "l": 1000,
    # in Chinese
    "毫升": 1,
    "升": 1000,
}

_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP,
                           traps=[decimal.InvalidOperation])
_INT64_MAX = 2**63 - 1
_INT32_MAX = 2**31 - 1


class ValueProblem(ValueError):
    """A database value that cannot become the field's value (kept out of the record)."""


def to_fen(value: object, unit: str) -> int:
    """The amount ``value`` (in ``unit``) as whole fen, exactly, rounded half-up.

    Accepts int, Decimal, float (via its shortest repr, so 12.34 stays 12.34) and
    text such as ``"1,234.50"``. Preconditions: ``unit`` is a key of UNITS; the
    result fits int64. Raises ValueProblem otherwise or for non-numbers.
    """
    result = _scaled(value, UNITS[unit], "an amount")
    if abs(result) > _INT64_MAX:
        raise ValueProblem("amount does not fit in int64 fen")
    return result


def to_ml(value: object, unit: str) -> int:
    """The volume ``value`` (in ``unit``, e.g. litres "1.6") as whole millilitres.

    The same exact arithmetic as ``to_fen``: "1.6" litres is 1600 ml, never 1599.
    Preconditions: ``unit`` is a key of VOLUME_UNITS. Raises ValueProblem for
    non-numbers, negative volumes and results beyond int32.
    """
    result = _scaled(value, VOLUME_UNITS[unit], "a volume")
    if result < 0:
        raise ValueProblem("a volume cannot be negative")
    if result > _INT32_MAX:
        raise ValueProblem("volume does not fit in int32 millilitres")
    return result


def _scaled(value: object, factor: int, what: str) -> int:
    """``value`` times ``factor``, exactly in Decimal, rounded half-up to an integer."""
    if isinstance(value, bool):
        raise ValueProblem(f"a true/false value is not {what}")
    try:
        if isinstance(value, int):
            amount = Decimal(value)
        elif isinstance(value, float):
            amount = Decimal(repr(value))
        elif isinstance(value, Decimal):
            amount = value
        else:
            text = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
            amount = Decimal(text)
        if not amount.is_finite():
            raise ValueProblem(f"{what} is not a finite number")
        scaled = _CONTEXT.multiply(amount, Decimal(factor)).to_integral_value(
            rounding=decimal.ROUND_HALF_UP, context=_CONTEXT)
    except (decimal.InvalidOperation, ValueError) as err:
        if isinstance(err, ValueProblem):
            raise
        raise ValueProblem("not a number") from None
    return int(scaled)


def _fast_date(fmt: str) -> object:
    """A parser for the common formats, ~10x quicker than strptime."""
    if fmt == "%Y%m%d":
        return lambda s: (int(s[0:4]), int(s[4:6]), int(s[6:8])) if len(s) == 8 else None
    if fmt == "%Y-%m-%d":
        return lambda s: (int(s[0:4]), int(s[5:7]), int(s[8:10])) \
            if len(s) == 10 and s[4] == "-" and s[7] == "-" else None
    if fmt == "%Y%m":
        return lambda s: (int(s[0:4]), int(s[4:6]), 0) if len(s) == 6 else None
    if fmt == "%Y-%m":
        return lambda s: (int(s[0:4]), int(s[5:7]), 0) if len(s) == 7 and s[4] == "-" else None
    return None


def has_day(fmt: str) -> bool:
    """Whether a strptime format names the day; without one a date is a whole month."""
    return "%d" in fmt or "%j" in fmt or "%c" in fmt or "%x" in fmt


def check_date_format(fmt: str) -> str | None:
    """A sentence saying what is wrong with a date format, or None when usable."""
    if "%Y" not in fmt and "%y" not in fmt and "%c" not in fmt and "%x" not in fmt:
        return f"date_format {fmt!r} has no year (%Y)"
    if "%m" not in fmt and "%b" not in fmt and "%B" not in fmt and not has_day(fmt):
        return f"date_format {fmt!r} has no month (%m)"
    try:
        sample = dt.datetime(2024, 2, 29, 13, 5, 9).strftime(fmt)
        dt.datetime.strptime(sample, fmt)
    except ValueError as err:
        return f"date_format {fmt!r} cannot be used: {err}"
    return None


class DateParser:
    """Parses one column's dates into (year, month, day); day 0 means a whole month."""

    def __init__(self, fmt: str | None) -> None:
        self.fmt = fmt or "%Y-%m-%d"
        self.month_only = fmt is not None and not has_day(fmt)
        self._fast = _fast_date(self.fmt)

    def __call__(self, value: object) -> tuple[int, int, int] | None:
        """None for NULL or empty text; raises ValueProblem when the text does not parse."""
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return (value.year, value.month, 0 if self.month_only else value.day)
        text = str(value).strip()
        if not text:
            return None
        parsed = None
        if self._fast is not None:
            try:
                parsed = self._fast(text)  # type: ignore[operator]
            except ValueError:
                parsed = None
            if parsed is not None:
                y, m, d = parsed
                try:
                    dt.date(y, m, d or 1)
                except ValueError:
                    raise ValueProblem(f"not a date in format {self.fmt!r}") from None
                return parsed
        try:
            when = dt.datetime.strptime(text, self.fmt)
        except ValueError:
            raise ValueProblem(f"not a date in format {self.fmt!r}") from None
        return (when.year, when.month, 0 if self.month_only else when.day)


def code_key(value: object) -> str | None:
    """The text a code value is looked up by: ``1``, ``1.0`` and ``" 1 "`` all give "1"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value).strip()


_TRUE = frozenset({"1", "y", "yes", "t", "true", "是"})
_FALSE = frozenset({"0", "n", "no", "f", "false", "否"})


def to_bool(value: object) -> bool | None:
    """Common true/false spellings; raises ValueProblem for anything else."""
    key = code_key(value)
    if key is None or key == "":
        return None
    low = key.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueProblem("not a true/false value; map it with codes = { ... }")

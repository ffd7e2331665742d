"""How one mapped column becomes one field value: the converter a field spec gets.

``FieldConverters.build`` reads a field's settings (``unit``, ``codes``, ``other``,
``date_format``) against the field's protobuf type and returns the function that
turns a database value into the field's value — or reports, through the compiler's
``problem`` callback, why the settings cannot work. Kept apart from the mapping
file's structure (``mapping_config``) so each file holds one concept: this one is
"what a setting means for a value".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor

from hedui.agents.mapping_values import (
    UNITS,
    VOLUME_UNITS,
    DateParser,
    ValueProblem,
    check_date_format,
    code_key,
    to_bool,
    to_fen,
    to_ml,
)

Converter = Callable[[Any], Any]
KeyPath = tuple[str, ...]
Report = Callable[[KeyPath, str], None]

_INTEGERS = (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32)


def is_money(fd: FieldDescriptor) -> bool:
    """Amounts are the integer fields named ``*_fen``; they must say their unit."""
    return fd.name.endswith("_fen") and fd.type in _INTEGERS


def is_volume(fd: FieldDescriptor) -> bool:
    """Volumes are the integer fields named ``*_ml`` (engine displacement)."""
    return fd.name.endswith("_ml") and fd.type in _INTEGERS


class FieldConverters:
    """Builds converters for one mapping file; problems go to ``report``."""

    def __init__(self, report: Report, shared_codes: dict[str, Any]) -> None:
        self.problem = report
        self.shared_codes = shared_codes

    def build(self, spec: dict[str, Any], fd: FieldDescriptor, at: KeyPath) -> Converter | None:
        """The converter for ``spec`` (a field's settings), or None after reporting why."""
        t = fd.type
        is_date = t == FieldDescriptor.TYPE_MESSAGE
        money, volume = is_money(fd), is_volume(fd)
        for k, allowed, why in (
            ("unit", money or volume, "only amounts (fields ending in _fen) and volumes "
             "(fields ending in _ml) take a unit"),
            ("date_format", is_date, "only dates take a date_format"),
            ("codes", not is_date and not money and not volume,
             f"{fd.name} is not a coded value"),
        ):
            if k in spec and not allowed:
                self.problem((*at, k), f"{fd.name}: {why}")
                return None
        if "other" in spec and "codes" not in spec:
            self.problem((*at, "other"), f"{fd.name}: other = ... needs codes = ...")
            return None
        if is_date:
            fmt = spec.get("date_format")
            if fmt is not None:
                problem = check_date_format(fmt) if isinstance(fmt, str) else "must be text"
                if problem:
                    self.problem((*at, "date_format"), problem)
                    return None
            return DateParser(fmt)
        if money:
            unit = spec.get("unit")
            if unit is None:
                self.problem(at, f"{fd.name} is an amount: say its unit in the database, "
                             f"e.g. {{ column = \"...\", unit = \"yuan\" }}; units: "
                             f"{', '.join(UNITS)}")
                return None
            if unit not in UNITS:
                self.problem((*at, "unit"), f"{fd.name}: unknown unit {unit!r}; units: "
                             f"{', '.join(UNITS)}")
                return None
            return lambda v, _u=unit: None if v is None else to_fen(v, _u)
        if volume:
            unit = spec.get("unit", "ml")  # an integer column of cc/ml needs no unit
            if unit not in VOLUME_UNITS:
                self.problem((*at, "unit"), f"{fd.name}: unknown unit {unit!r}; units: "
                             f"{', '.join(VOLUME_UNITS)}")
                return None
            return lambda v, _u=unit: None if v is None or v == "" else to_ml(v, _u)
        if "codes" in spec:
            return self._coded(spec, fd, at)
        if t == FieldDescriptor.TYPE_ENUM:
            names = enum_names(fd.enum_type)

            def by_name(v: Any, _n: dict[str, int] = names) -> int | None:
                k = code_key(v)
                if not k:
                    return None
                if k.upper() in _n:
                    return _n[k.upper()]
                raise ValueProblem("not a value name; map department codes with codes = {...}")
            return by_name
        if t == FieldDescriptor.TYPE_BOOL:
            return to_bool
        if t == FieldDescriptor.TYPE_STRING:
            return lambda v: None if v is None else str(v).strip()
        if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return _to_float
        return _to_int

    def _coded(self, spec: dict[str, Any], fd: FieldDescriptor, at: KeyPath) -> Converter | None:
        codes = spec["codes"]
        where = (*at, "codes")
        if isinstance(codes, str):
            name = codes
            codes = self.shared_codes.get(name)
            if not isinstance(codes, dict):
                known = ", ".join(self.shared_codes) or "none defined"
                self.problem(where, f"no code list [codes.{name}] (known: {known})")
                return None
            where = ("codes", name)
        if not isinstance(codes, dict) or not codes:
            self.problem(where, f"{fd.name}: codes must list department code = value pairs")
            return None
        table: dict[str, Any] = {}
        ok = True
        for code, target in codes.items():
            v = self._target(target, fd, (*where, code))
            if v is _BAD:
                ok = False
            table[code] = v
        other = _BAD
        if "other" in spec:
            other = self._target(spec["other"], fd, (*at, "other"))
            ok = ok and other is not _BAD
        if not ok:
            return None
        fallback = None if other is _BAD else other

        def lookup(v: Any, _t: dict[str, Any] = table, _o: Any = fallback) -> Any:
            k = code_key(v)
            if k is None:
                return None
            return _t.get(k, _o)
        return lookup

    def _target(self, target: Any, fd: FieldDescriptor, at: KeyPath) -> Any:
        t = fd.type
        if t == FieldDescriptor.TYPE_ENUM:
            names = enum_names(fd.enum_type)
            if isinstance(target, str) and target.upper() in names:
                return names[target.upper()]
            valid = ", ".join(v.name for v in fd.enum_type.values if v.number != 0)
            self.problem(at, f"{fd.name}: unknown value {target!r}; the values are: {valid}")
            return _BAD
        if t == FieldDescriptor.TYPE_BOOL:
            if isinstance(target, bool):
                return target
            self.problem(at, f"{fd.name}: codes of a yes/no field map to true or false")
            return _BAD
        if t == FieldDescriptor.TYPE_STRING:
            if isinstance(target, str):
                return target
            self.problem(at, f"{fd.name}: codes of a text field map to text in quotes")
            return _BAD
        if isinstance(target, int | float) and not isinstance(target, bool):
            return target
        self.problem(at, f"{fd.name}: codes of a number field map to numbers")
        return _BAD


_BAD = object()


def enum_names(enum: EnumDescriptor) -> dict[str, int]:
    """Full value names and the same without the enum's prefix: RELATION_SELF and SELF."""
    prefix = ""
    for v in enum.values:
        if v.number == 0 and v.name.endswith("UNSPECIFIED"):
            prefix = v.name[: -len("UNSPECIFIED")]
    out: dict[str, int] = {}
    for v in enum.values:
        if v.number == 0:
            continue
        out[v.name] = v.number
        if prefix and v.name.startswith(prefix):
            out.setdefault(v.name[len(prefix):], v.number)
    return out


def _to_int(v: Any) -> int | None:
    if v is None or v == "":
        return None
    try:
        return int(v) if isinstance(v, int) else int(str(v).strip())
    except ValueError:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ValueProblem("not a whole number") from None
        if not f.is_integer():
            raise ValueProblem("not a whole number") from None
        return int(f)


def _to_float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueProblem("not a number") from None

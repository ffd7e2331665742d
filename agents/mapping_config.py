"""Reading a mapping file into blocks of SQL and field converters, and checking it.

A mapping file (TOML) says, for one department, which SQL fills which part of the
department's record message and how each column becomes a field. This module turns
it into ``Mapping``: compiled ``Block``s plus every problem found without touching
the database, each with its TOML key path so the caller can name the line. Problems
are collected, never raised one at a time, so ``check`` can list them all at once.
See ``deploy/agents/*.toml`` for annotated examples.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.exc import ArgumentError

from hedui.agents.departments import DEPARTMENTS
from hedui.agents.mapping_fields import Converter, FieldConverters
from hedui.agents.mapping_values import DateParser, ValueProblem, check_date_format
from hedui.config_schema import did_you_mean
from hedui.errors import HeduiError
from hedui.toml_lines import TomlLines

#: message types a single column fills as a whole
DATE_TYPE = "hedui.v1.Date"
TOP_KEYS = ("department", "description", "database", "database_env", "data_as_of",
            "subjects", "codes", "record")
BLOCK_KEYS = ("sql", "key", "fields")
SPEC_KEYS = ("column", "value", "codes", "other", "unit", "date_format")
ID_PARAMETER = "ids"

KeyPath = tuple[str, ...]


class MappingError(HeduiError):
    """The mapping file cannot be read at all (missing, not TOML, no known department)."""


@dataclass
class Issue:
    """A problem before it is given a file and line: the TOML key path it is about."""

    at: KeyPath
    message: str


@dataclass
class FieldSpec:
    """One leaf of the record filled from one column (or a constant)."""

    leaf: str  # canonical leaf path, e.g. "vehicles.*.purchase_date"
    steps: KeyPath  # field names inside the block's message, e.g. ("period", "start")
    column: str | None
    constant: Any
    convert: Converter  # database value -> field value (None: leave unset)
    is_date: bool
    at: KeyPath


@dataclass
class Block:
    """One SQL statement filling one part of the record for many subjects at once."""

    name: str  # the record part, e.g. "vehicles" or "household_registration.members"
    at: KeyPath
    steps: tuple[tuple[str, bool], ...]  # (field name, repeated) from the record root
    sql: str
    key: str
    statement: TextClause | None
    fields: list[FieldSpec] = field(default_factory=list)
    usable: bool = True

    @property
    def leaves(self) -> frozenset[str]:
        return frozenset(f.leaf for f in self.fields)


@dataclass
class AsOfQuery:
    sql: str
    statement: TextClause
    parse: DateParser
    at: KeyPath


@dataclass
class CompiledMapping:
    """A mapping file, compiled."""

    source: str  # the file name problems are reported against
    here: Path
    department: str
    record_type: Any
    database: str | None
    database_env: str | None
    data_as_of: dt.date | AsOfQuery | None
    subjects: Block | None
    blocks: list[Block]
    issues: list[Issue]
    lines: TomlLines | None

    def where(self, at: KeyPath) -> str:
        """``file:line`` for a key path (the file alone when the line is unknown)."""
        line = self.lines.line(at) if self.lines is not None else None
        return f"{self.source}:{line}" if line is not None else self.source


def _is_repeated(fd: FieldDescriptor) -> bool:
    flag = getattr(fd, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return fd.label == FieldDescriptor.LABEL_REPEATED


def _is_leaf(fd: FieldDescriptor) -> bool:
    return fd.type != FieldDescriptor.TYPE_MESSAGE or fd.message_type.full_name == DATE_TYPE


def _names(desc: Descriptor) -> str:
    return ", ".join(f.name for f in desc.fields)


def _dotted(at: KeyPath) -> str:
    return ".".join(at)


def load(config: Path | str | Mapping[str, Any]) -> CompiledMapping:
    """Read and compile a mapping file or an already-parsed dict.

    Raises MappingError when there is nothing to check: the file is unreadable or not
    TOML, or ``department`` is missing or unknown. Every other problem is collected
    in ``issues``.
    """
    lines: TomlLines | None = None
    if isinstance(config, Mapping):
        data = dict(config)
        source, here = "<mapping>", Path.cwd()
    else:
        path = Path(config)
        source, here = str(path), path.resolve().parent
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as err:
            raise MappingError(f"cannot read mapping file {path}: {err.strerror}") from None
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as err:
            raise MappingError(f"{path}: not valid TOML: {err}") from None
        lines = TomlLines(raw)
    dept = data.get("department")
    if dept not in DEPARTMENTS:
        where = source
        if lines is not None and lines.line(("department",)) is not None:
            where = f"{source}:{lines.line(('department',))}"
        raise MappingError(f"{where}: department = {dept!r} is not one of "
                           f"{', '.join(DEPARTMENTS)}")
    return _Compiler(data, source, here, dept, lines).compile()


class _Compiler:
    def __init__(self, data: dict[str, Any], source: str, here: Path, dept: str,
                 lines: TomlLines | None) -> None:
        self.data = data
        self.source = source
        self.here = here
        self.dept = dept
        self.lines = lines
        self.record_type = DEPARTMENTS[dept].record_type
        self.issues: list[Issue] = []
        shared = data.get("codes", {})
        self.converters = FieldConverters(self.problem,
                                          shared if isinstance(shared, dict) else {})

    def problem(self, at: KeyPath, message: str) -> None:
        self.issues.append(Issue(at, message))

    def compile(self) -> CompiledMapping:
        d = self.data
        for key in d:
            if key not in TOP_KEYS:
                self.problem((key,), f"unknown setting {key!r}{did_you_mean(key, TOP_KEYS)} "
                             f"(the settings are: {', '.join(TOP_KEYS)})")
        database = d.get("database")
        database_env = d.get("database_env")
        if database is not None and not isinstance(database, str):
            self.problem(("database",), "database must be a URL in quotes")
            database = None
        if database_env is not None and not isinstance(database_env, str):
            self.problem(("database_env",), "database_env must be the name of an "
                         "environment variable in quotes")
            database_env = None
        if database is None and database_env is None:
            self.problem(("department",), "no database: add database = \"sqlite:///...\" "
                         "or database_env = \"NAME_OF_VARIABLE\"")
        if "codes" in d and not isinstance(d["codes"], dict):
            self.problem(("codes",), "codes must be a table of named code lists")
        subjects = None
        if "subjects" in d:
            subjects = self._subjects(d["subjects"])
        blocks: list[Block] = []
        record = d.get("record")
        if not isinstance(record, dict) or not record:
            self.problem(("record",) if "record" in d else ("department",),
                         "nothing is mapped: add [record.<part>] blocks; the parts of "
                         f"{self.record_type.DESCRIPTOR.name} are: "
                         f"{_names(self.record_type.DESCRIPTOR)}")
        else:
            self._container(record, self.record_type.DESCRIPTOR, ("record",), (), blocks)
        seen: dict[str, KeyPath] = {}
        for b in blocks:
            for f in b.fields:
                if f.leaf in seen:
                    self.problem(f.at, f"{f.leaf} is mapped twice (also at "
                                 f"{_dotted(seen[f.leaf])})")
                    b.usable = False
                seen[f.leaf] = f.at
        return CompiledMapping(self.source, self.here, self.dept, self.record_type, database,
                        database_env, self._as_of(d.get("data_as_of")), subjects, blocks,
                        self.issues, self.lines)

    # -- data_as_of and subjects ------------------------------------------------

    def _as_of(self, value: Any) -> dt.date | AsOfQuery | None:
        at = ("data_as_of",)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                self.problem(at, f"data_as_of = {value!r} is not a date like 2026-10-31; "
                             "or use [data_as_of] with sql = ...")
                return None
        if isinstance(value, dict):
            for k in value:
                if k not in ("sql", "date_format"):
                    self.problem((*at, k), f"unknown setting {k!r} in data_as_of; use sql "
                                 "and date_format")
            sql = value.get("sql")
            fmt = value.get("date_format")
            if not isinstance(sql, str):
                self.problem(at, "data_as_of needs sql = \"SELECT max(...) FROM ...\"")
                return None
            if fmt is not None:
                bad = check_date_format(fmt) if isinstance(fmt, str) else "must be text"
                if bad:
                    self.problem((*at, "date_format"), bad)
                    fmt = None
            return AsOfQuery(sql, text(_clean_sql(sql)), DateParser(fmt), (*at, "sql"))
        self.problem(at, "data_as_of must be a date or a table with sql = ...")
        return None

    def _subjects(self, value: Any) -> Block | None:
        at = ("subjects",)
        if not isinstance(value, dict):
            self.problem(at, "subjects must be a table with sql and key")
            return None
        for k in value:
            if k not in ("sql", "key"):
                self.problem((*at, k), f"unknown setting {k!r} in subjects; use sql and key")
        block = self._block_head(value, at, "subjects", ())
        return block

    # -- record blocks ------------------------------------------------------------

    def _container(self, table: dict[str, Any], desc: Descriptor, at: KeyPath,
                   steps: tuple[tuple[str, bool], ...], out: list[Block]) -> None:
        """A table under [record]: maybe a block itself, maybe holding sub-blocks."""
        is_block = any(k in table for k in BLOCK_KEYS)
        if is_block:
            if not steps:
                self.problem(at, "put sql, key and fields in a block such as "
                             f"[record.{desc.fields[0].name}], not directly in [record]")
            else:
                name = ".".join(s for s, _ in steps)
                block = self._block_head(table, at, name, steps)
                if block is not None:
                    block.fields = self._fields(table.get("fields"), desc, (*at, "fields"),
                                                name, steps[-1][1], block)
                    out.append(block)
        for key, value in table.items():
            if key in BLOCK_KEYS:
                continue
            fd = desc.fields_by_name.get(key)
            where = (*at, key)
            if fd is None:
                self.problem(where, f"{desc.name} has no part {key!r}"
                             f"{did_you_mean(key, list(desc.fields_by_name))} (its parts are: "
                             f"{_names(desc)})")
                continue
            if _is_leaf(fd):
                self.problem(where, f"{key} is a single value of {desc.name}: map it under "
                             f"[{_dotted(at)}.fields], with sql and key in [{_dotted(at)}]")
                continue
            if not isinstance(value, dict):
                self.problem(where, f"{key} must be a table: [{_dotted(where)}]")
                continue
            if any(rep for _, rep in steps):
                self.problem(where, f"{key} is inside a repeated part ({_dotted(at)}); "
                             "nested repeated blocks are not supported")
                continue
            self._container(value, fd.message_type, where, (*steps, (key, _is_repeated(fd))),
                            out)

    def _block_head(self, table: dict[str, Any], at: KeyPath, name: str,
                    steps: tuple[tuple[str, bool], ...]) -> Block | None:
        sql, key = table.get("sql"), table.get("key")
        usable = True
        if not isinstance(sql, str) or not sql.strip():
            self.problem(at, f"[{_dotted(at)}] needs sql = \"SELECT ... WHERE <id column> "
                         "IN :ids\"")
            return None
        if not isinstance(key, str) or not key.strip():
            self.problem((*at, "sql"), f"[{_dotted(at)}] needs key = \"<the column with "
                         "the ID number>\"")
            usable = False
            key = ""
        statement = None
        try:
            statement = text(_clean_sql(sql)).bindparams(
                bindparam(ID_PARAMETER, expanding=True))
        except ArgumentError:
            self.problem((*at, "sql"), "the SQL must select by the subjects' ID numbers "
                         "with IN :ids (a bound parameter, never pasted text)")
            usable = False
        if statement is not None:
            others = sorted(n for n in statement._bindparams if n != ID_PARAMETER)
            if others:
                # serving fills :ids only; any other :name would fail every query
                self.problem((*at, "sql"), f"the SQL names :{', :'.join(others)}; only :ids "
                             "(the subjects' ID numbers) is filled in — write other values "
                             "into the SQL itself")
                usable = False
                statement = None
        return Block(name, at, steps, sql, key, statement, usable=usable)

    def _fields(self, table: Any, desc: Descriptor, at: KeyPath, block_name: str,
                repeated: bool, block: Block) -> list[FieldSpec]:
        if table is None:
            self.problem(at[:-1], f"[{_dotted(at[:-1])}] maps no fields: add "
                         f"[{_dotted(at)}]; the fields of {desc.name} are: {_names(desc)}")
            block.usable = False
            return []
        if not isinstance(table, dict):
            self.problem(at, "fields must be a table")
            block.usable = False
            return []
        prefix = block_name + (".*" if repeated else "")
        out: list[FieldSpec] = []
        self._field_table(table, desc, at, prefix, (), out, block)
        return out

    def _field_table(self, table: dict[str, Any], desc: Descriptor, at: KeyPath, prefix: str,
                     steps: KeyPath, out: list[FieldSpec], block: Block) -> None:
        for key, value in table.items():
            where = (*at, key)
            names = key.split(".")
            d: Descriptor = desc
            fd: FieldDescriptor | None = None
            inner = steps
            ok = True
            for i, name in enumerate(names):
                fd = d.fields_by_name.get(name)
                if fd is None:
                    hint = did_you_mean(name, list(d.fields_by_name))
                    self.problem(where, f"{d.name} has no field {name!r}{hint} (its fields "
                                 f"are: {_names(d)})")
                    ok = False
                    break
                inner = (*inner, name)
                if _is_repeated(fd):
                    self.problem(where, f"{'.'.join(inner)} is a list (repeated): give it "
                                 f"its own block [{'.'.join(at[:-1] + inner)}]")
                    ok = False
                    break
                if i < len(names) - 1:
                    if _is_leaf(fd):
                        self.problem(where, f"{name} is a single value, it has no "
                                     f"{names[i + 1]!r}")
                        ok = False
                        break
                    d = fd.message_type
            if not ok or fd is None:
                block.usable = False
                continue
            if not _is_leaf(fd):
                if isinstance(value, dict) and not any(k in value for k in SPEC_KEYS):
                    self._field_table(value, fd.message_type, where, prefix, inner, out, block)
                else:
                    subs = ", ".join(f"{key}.{f.name}" for f in fd.message_type.fields)
                    self.problem(where, f"{key} is a group of fields: map {subs}")
                    block.usable = False
                continue
            spec = self._spec(value, fd, where, f"{prefix}.{'.'.join(inner)}", inner)
            if spec is None:
                block.usable = False
            else:
                out.append(spec)

    # -- one field ----------------------------------------------------------------------

    def _spec(self, value: Any, fd: FieldDescriptor, at: KeyPath, leaf: str,
              steps: KeyPath) -> FieldSpec | None:
        if isinstance(value, str):
            value = {"column": value}
        if not isinstance(value, dict):
            self.problem(at, f"{fd.name} = ... must be a column name in quotes or "
                         "{ column = \"...\", ... }")
            return None
        bad = False
        for k in value:
            if k not in SPEC_KEYS:
                self.problem((*at, k), f"unknown setting {k!r} for {fd.name}"
                             f"{did_you_mean(k, SPEC_KEYS)} (the settings are: "
                             f"{', '.join(SPEC_KEYS)})")
                bad = True
        column, has_const = value.get("column"), "value" in value
        if (column is None) == (not has_const):
            self.problem(at, f"{fd.name}: give either column = \"...\" or value = ..."
                         if column is None else f"{fd.name}: column and value exclude each "
                         "other")
            return None
        if column is not None and not isinstance(column, str):
            self.problem((*at, "column"), "column must be a name in quotes")
            return None
        convert = self.converters.build(value, fd, at)
        if convert is None or bad:
            return None
        is_date = fd.type == FieldDescriptor.TYPE_MESSAGE
        constant = None
        if has_const:
            try:
                constant = convert(value["value"])
            except ValueProblem as err:
                self.problem((*at, "value"), f"{fd.name}: value {value['value']!r}: {err}")
                return None
        return FieldSpec(leaf, steps, column, constant, convert, is_date, at)


def _clean_sql(sql: str) -> str:
    """The SQL without surrounding blanks or a trailing semicolon (it gets wrapped)."""
    s = sql.strip()
    while s.endswith(";"):
        s = s[:-1].rstrip()
    return s

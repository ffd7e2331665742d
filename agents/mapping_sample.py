"""``hedui agent check --sample N`` / ``--subjects ID,ID``: each block on real persons.

A mapping can pass every static check and still be wrong about the data: a payment
ledger mapped one row per payment reports a pension six times over. So the check can
also run each block — through ``MappingSource.run_block``, the serving path — on a
few real ID numbers from the department's own database, and print for each block the
rows found, the first record and the sum of each amount, in words department IT staff
read. ID numbers and names are masked in everything printed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hedui.agents.mapping import MappingSource
from hedui.agents.mapping_config import Block, FieldSpec
from hedui.agents.mapping_fields import enum_names, is_money, is_volume
from hedui.agents.mapping_sql import reason_of
from hedui.agents.source import SourceUnavailable

#: an operand followed by ``IN :ids`` — replaced by a true condition to list key values
_IN_IDS = re.compile(
    r"(?:\w+\s*\([^()]*\)|\([^()]*\)|[\w.\"`\[\]]+)\s+(?:NOT\s+)?IN\s*:ids\b", re.I)
#: an ID number (15 or 18 characters) inside other text
_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{14}(?:[0-9]{3})?[0-9Xx](?![0-9])")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: the most sample persons a check reads
MAX_SAMPLE = 100


def mask_id(value: str) -> str:
    """``310101199003070012`` -> ``3101**********0012``: enough to tell persons apart."""
    v = value.strip()
    if len(v) <= 8:
        return v[:1] + "*" * (len(v) - 1)
    return v[:4] + "*" * (len(v) - 8) + v[-4:]


def mask_name(value: str) -> str:
    """``张三`` -> ``张*``: the family name only."""
    v = value.strip()
    return v[:1] + "*" * (len(v) - 1)


def _mask_text(name: str, value: str) -> str:
    if name == "id_number" or name.endswith("_id_number"):
        return mask_id(value)
    if name == "name" or name.endswith("_name"):
        return mask_name(value)
    return _ID_LIKE.sub(lambda m: mask_id(m.group(0)), value)


def pick_subjects(source: MappingSource, n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` ID numbers of each block (in order), and notes on what failed.

    Each block's own SQL is read with every ``x IN :ids`` made true and its distinct
    key values listed, so every block is tried on persons it really holds (the first
    persons of a [subjects] list may have no pension at all). The [subjects] query is
    the fallback when no block can be listed.
    """
    n = max(1, min(n, MAX_SAMPLE))
    m = source.mapping
    ids: list[str] = []
    notes: list[str] = []
    for block in source.blocks:
        ids.extend(i for i in _listed(source, block, n, notes) if i not in ids)
    if not ids and m.subjects is not None:
        ids = _listed(source, m.subjects, n, notes)
    return ids, notes


def _listed(source: MappingSource, block: Block, n: int, notes: list[str]) -> list[str]:
    sql = _IN_IDS.sub("1 = 1", block.sql.strip().rstrip(";"))
    if ":ids" in sql or not _PLAIN_NAME.match(block.key):
        notes.append(f"{block.name}: cannot list its ID numbers by itself; "
                     "name persons with --subjects")
        return []
    listing = text(f"SELECT DISTINCT {block.key} FROM (\n{sql}\n) hedui_sample "
                   f"WHERE {block.key} IS NOT NULL ORDER BY {block.key} LIMIT {n}")
    try:
        return [str(v).strip() for v in source.first_column(listing)]
    except SQLAlchemyError as err:
        notes.append(f"{block.name}: cannot list its ID numbers ({reason_of(err)}); "
                     "name persons with --subjects")
        return []


def report(source: MappingSource, ids: Sequence[str], notes: Iterable[str] = ()) -> list[str]:
    """The lines ``check --sample`` prints: per block, rows, first record, totals."""
    m = source.mapping
    lines = [f"sample: {len(ids)} person(s) from the {source.department} database"]
    lines += [f"  note: {note}" for note in notes]
    if not ids:
        lines.append("  no ID numbers to try: the mapped tables look empty")
        return lines
    for block in source.blocks:
        lines.append("")
        lines.append(f"[{'.'.join(block.at)}]  ({m.where(block.at)})")
        try:
            run = source.run_block(block, ids)
        except SourceUnavailable as err:
            lines.append(f"  this block FAILS, queries will too: {err.cause or err}")
            continue
        lines.extend(_block_lines(block, run.rows, run.records, ids))
    return lines


def _block_lines(block: Block, rows: int, records: dict[str, Message],
                 ids: Sequence[str]) -> list[str]:
    repeated = block.steps[-1][1]
    parts = {i: _parts(records[i], block) for i in ids if i in records}
    persons = sum(1 for p in parts.values() if p)
    per = f" ({rows / persons:.1f} a person)" if persons and repeated else ""
    out = [f"  rows found: {rows}, for {persons} of the {len(ids)} person(s){per}"]
    first = next(((i, p[0]) for i, p in parts.items() if p), None)
    if first is None:
        out.append("  no record: none of these persons has rows in this block")
        return out
    out.append(f"  first record (person {mask_id(first[0])}):")
    for spec in block.fields:
        value = _value(first[1], spec)
        if value is not None:
            out.append(f"    {'.'.join(spec.steps)}: {value}")
    totals = _totals(block, [item for p in parts.values() for item in p])
    if totals:
        out.append("  totals over the sample: " + "; ".join(totals))
    twins = sum(1 for p in parts.values() if _date_twins(p, block))
    if repeated and twins:
        out.append(f"  look again: {twins} person(s) have several entries that differ only "
                   "in their dates — one row per payment? Each entry counts in full "
                   "(see 'Recipes: payment ledgers' in the guide)")
    return out


def _parts(record: Message, block: Block) -> list[Message]:
    """The messages this block filled in one record (one per row for a list)."""
    msg: Any = record
    for name, _ in block.steps[:-1]:
        if not msg.HasField(name):
            return []
        msg = getattr(msg, name)
    name, repeated = block.steps[-1]
    if repeated:
        return list(getattr(msg, name))
    return [getattr(msg, name)] if msg.HasField(name) else []


def _leaf(msg: Message, spec: FieldSpec) -> tuple[Any, FieldDescriptor] | None:
    target: Any = msg
    for name in spec.steps[:-1]:
        if not target.HasField(name):
            return None
        target = getattr(target, name)
    fd = target.DESCRIPTOR.fields_by_name[spec.steps[-1]]
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        if not target.HasField(fd.name):
            return None
    elif fd.has_presence and not target.HasField(fd.name):
        return None
    return getattr(target, fd.name), fd


def _value(msg: Message, spec: FieldSpec) -> str | None:
    found = _leaf(msg, spec)
    if found is None:
        return None
    value, fd = found
    if fd.type == FieldDescriptor.TYPE_MESSAGE:  # a Date: day 0 is a whole month
        return f"{value.year:04d}-{value.month:02d}" + (f"-{value.day:02d}" if value.day else "")
    if is_money(fd):
        return yuan(value)
    if is_volume(fd):
        return f"{value} ml"
    if fd.type == FieldDescriptor.TYPE_ENUM:
        short = {v: k for k, v in enum_names(fd.enum_type).items()}  # shortest name last
        return short.get(value, str(value))
    if fd.type == FieldDescriptor.TYPE_BOOL:
        return "yes" if value else "no"
    if fd.type == FieldDescriptor.TYPE_STRING:
        return _mask_text(fd.name, value) if value else None
    return str(value)


def yuan(fen: int) -> str:
    """Whole fen as ``1,234.56 yuan`` (exact: Decimal, never a float)."""
    return f"{Decimal(fen).scaleb(-2):,.2f} yuan"


def _totals(block: Block, items: list[Message]) -> list[str]:
    out = []
    for spec in block.fields:
        total, seen = 0, False
        for item in items:
            found = _leaf(item, spec)
            if found is not None and is_money(found[1]):
                total += found[0]
                seen = True
        if seen:
            out.append(f"{'.'.join(spec.steps)} {yuan(total)}")
    return out


def _date_twins(items: list[Message], block: Block) -> bool:
    """Whether two entries of one person are equal once their dates are left out."""
    if len(items) < 2:
        return False
    kept = [s for s in block.fields if not s.is_date]
    if not kept:
        return False
    seen = set()
    for item in items:
        key = tuple(None if (f := _leaf(item, s)) is None else f[0] for s in kept)
        if key in seen:
            return True
        seen.add(key)
    return False

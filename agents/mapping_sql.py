"""How a mapping block's SQL is compiled and run on the database driver, and how its
failures are told without personal data.

The adapter runs every block — for a query, for ``check`` and for ``check --sample``
— through ``MappingSource._run``, which uses these helpers: ``compile_block`` turns the
block's text into the driver's SQL with one placeholder per ID (``:ids`` may appear
several times), and ``cause_of`` turns a driver exception into ``Class: message``
with digit runs scrubbed, never the SQL text or the bound ID numbers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hedui.agents.mapping_config import Block
from hedui.agents.source import SourceUnavailable, scrub_digits

#: modules whose exceptions are database errors (the drivers hedui supports)
_DRIVERS = ("sqlite3", "psycopg")


def compile_block(block: Block, dialect: Any, n: int) -> tuple[str, list[Any] | None, bool]:
    """A block's SQL for ``n`` IDs: the text, which ID each placeholder takes, and
    whether the driver's placeholders are positional.

    Compiled with marker values so each rendered parameter can be traced back to its
    ID's index: a second ``IN :ids`` renders the same parameter names again, so a
    positional driver needs the IDs twice, in placeholder order. ``picks`` is None
    when the placeholders are exactly the IDs in order (the common case).
    """
    assert block.statement is not None
    markers = [f"\x00hedui-id-{i}" for i in range(n)]
    c = block.statement.bindparams(ids=markers).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True})
    index = {m: i for i, m in enumerate(markers)}

    def pick(name: str) -> int:
        value = c.params.get(name)
        if value not in index:
            raise SourceUnavailable(f"mapping block {block.name}: the SQL names :{name}; "
                                    "only :ids is filled in", block=block.name,
                                    cause=f"UnknownParameter: :{name}")
        return index[value]

    if c.positional:
        order = [pick(name) for name in (c.positiontup or [])]
        return c.string, None if order == list(range(n)) else order, True
    return c.string, [(name, pick(name)) for name in c.params], False


def is_driver_error(err: BaseException) -> bool:
    return type(err).__module__.split(".")[0] in _DRIVERS


def cause_of(err: BaseException) -> str:
    """``Class: first line of the message``, scrubbed: for logs and check messages."""
    orig = getattr(err, "orig", None)
    base = orig if isinstance(orig, BaseException) else err
    lines = str(base).strip().splitlines()
    message = scrub_digits(lines[0][:200]) if lines else ""
    return f"{type(base).__name__}: {message}" if message else type(base).__name__


def detail_of(cause: str | None) -> str:
    """The message part of a cause, as department IT staff read it in ``check``."""
    if not cause:
        return "unknown error"
    return cause.split(": ", 1)[1] if ": " in cause else cause


class Rows(list):
    """Rows of a driver cursor with the column names, shaped like a SQLAlchemy result."""

    def __init__(self, columns: list[str], rows: list[tuple]) -> None:
        super().__init__(rows)
        self._columns = columns

    def keys(self) -> list[str]:
        return self._columns


def norm(value: Any) -> str:
    """An ID number as compared: trimmed, upper-case check letter."""
    return "" if value is None else str(value).strip().upper()


def column_index(columns: Any, name: str, block: Block) -> int:
    """Where ``name`` is among a result's columns, whatever the database's case."""
    wanted = name.lower()
    for i, c in enumerate(columns):
        if c.lower() == wanted:
            return i
    raise SourceUnavailable(f"mapping block {block.name}: the SQL returns no column "
                            f"{name!r}; run the mapping check", block=block.name,
                            cause=f"MissingColumn: the SQL returns no column {name!r}")


def reason_of(err: SQLAlchemyError) -> str:
    """The driver's message without SQL text or parameters (which hold ID numbers)."""
    orig = getattr(err, "orig", None)
    msg = str(orig) if orig is not None else type(err).__name__
    return scrub_digits(msg.strip().splitlines()[0]) if msg.strip() else type(err).__name__

"""Files as Chinese offices produce them: UTF-8 with or without BOM, GB18030/GBK, Excel.

A household file saved by Notepad on a Chinese Windows is GBK; a CSV from Excel is
UTF-8 with a byte-order mark, or GBK when "CSV (逗号分隔)" is chosen; a batch list is
as often an ``.xlsx`` workbook. Every reader of a file a person made goes through
here, so each accepts the same encodings and refuses anything else with one line that
names the file — never a ``UnicodeDecodeError`` traceback.

Decoding order: a BOM decides (UTF-8, UTF-16); else strict UTF-8; else GB18030 (a
superset of GBK and GB2312). Text that is neither is refused: guessing further would
turn a wrong file into wrong data.
"""

from __future__ import annotations

import codecs
import csv
import io
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hedui.errors import HeduiError

__all__ = ["FileProblem", "Table", "decode", "read_table", "read_text", "read_toml"]

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
#: the most rows a batch list may hold (a county's whole roster fits)
MAX_ROWS = 200_000


class FileProblem(HeduiError):
    """A file a person made cannot be read; the message names the file and what to do."""


def decode(raw: bytes, source: str) -> str:
    """Text of ``raw``: by its BOM, else UTF-8, else GB18030; refused otherwise."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                break
    else:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            pass
    raise FileProblem(
        f"{source}: not text in UTF-8 or GB18030/GBK; save it again as UTF-8 "
        "(in Excel: 另存为 → CSV UTF-8)"
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileProblem(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileProblem(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise FileProblem(f"{path}: cannot be read ({exc.strerror})") from None


def read_text(path: str | Path) -> str:
    """A text file a person made, decoded as :func:`decode` says."""
    path = Path(path)
    return decode(_read_bytes(path), str(path))


def read_toml(path: str | Path) -> tuple[dict[str, Any], str]:
    """A TOML file in any accepted encoding: ``(data, text)`` (the text for line numbers)."""
    path = Path(path)
    text = read_text(path)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise FileProblem(f"{path}: not valid TOML ({exc})") from None


@dataclass(frozen=True)
class Table:
    """A list of rows with a header, from CSV or Excel; ``line`` is what a person sees."""

    source: str
    header: tuple[str, ...]
    #: (line or row number as the office's program shows it, {column: text})
    rows: tuple[tuple[int, dict[str, str]], ...]

    def column(self, *names: str) -> str | None:
        """The first of ``names`` (e.g. "household", "户") the header has."""
        for name in names:
            if name in self.header:
                return name
        return None


def read_table(path: str | Path, *, required: Sequence[str] = ()) -> Table:
    """A CSV (any accepted encoding, comma or tab) or ``.xlsx`` list as a Table.

    Header cells are trimmed; cells become text (dates as YYYY-MM-DD, whole numbers
    without ".0"). ``required`` names columns that must be present.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(path)
    elif suffix == ".xls":
        raise FileProblem(f"{path}: an old Excel 97-2003 workbook; save it as .xlsx or CSV")
    else:
        table = _read_csv(path)
    missing = [c for c in required if c not in table.header]
    if missing:
        found = ", ".join(h for h in table.header if h) or "nothing"
        raise FileProblem(
            f"{path}: the header needs a {missing[0]!r} column (found: {found})"
        )
    return table


def _read_csv(path: Path) -> Table:
    text = decode(_read_bytes(path), str(path))
    first_line = text.split("\n", 1)[0]
    dialect: type[csv.Dialect] = csv.excel
    if "\t" in first_line and "," not in first_line:  # "Unicode text" saved by Excel
        dialect = csv.excel_tab
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise FileProblem(f"{path}: not a readable CSV list ({exc})") from None
    if not rows:
        raise FileProblem(f"{path}: the file is empty")
    header = tuple(h.strip() for h in rows[0])
    out = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        out.append((number, {h: (cells[i].strip() if i < len(cells) else "")
                             for i, h in enumerate(header) if h}))
        if len(out) > MAX_ROWS:
            raise FileProblem(f"{path}: more than {MAX_ROWS:,} rows; split the list")
    return Table(str(path), header, tuple(out))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    raw = _read_bytes(path)
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise FileProblem(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})"
                          ) from None
    except Exception:  # zipfile.BadZipFile and friends from a damaged file
        raise FileProblem(f"{path}: not a readable .xlsx workbook") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise FileProblem(f"{path}: the first sheet is empty")
        header = tuple(_cell(h) for h in first)
        out = []
        for number, values in enumerate(rows, start=2):
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            out.append((number, {h: (cells[i] if i < len(cells) else "")
                                 for i, h in enumerate(header) if h}))
            if len(out) > MAX_ROWS:
                raise FileProblem(f"{path}: more than {MAX_ROWS:,} rows; split the list")
    finally:
        book.close()
    return Table(str(path), header, tuple(out))

"""Plain-text tables that line up on a terminal when cells hold Chinese.

A Han character takes two terminal columns, so ``f"{name:<12}"`` pads 张** too far
and every column after it drifts. Widths here come from ``unicodedata`` (wide and
full-width characters count two, combining marks none) rather than ``wcwidth``,
which the project does not depend on. Cells are never cut: a long cell widens its
column, because a truncated case id or department name cannot be typed back.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["display_width", "pad", "render"]

#: columns between cells
GAP = "  "


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: two for wide/full-width, none for combining."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (never cut)."""
    return text + " " * max(width - display_width(text), 0)


def render(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The table's lines: the header, a rule, then the rows; trailing spaces dropped."""
    widths = [display_width(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    lines = [GAP.join(pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip(),
             GAP.join("-" * w for w in widths)]
    lines += [GAP.join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    return lines

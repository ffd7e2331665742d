"""Line numbers for keys of a TOML file, so every problem can say where to look.

``tomllib`` returns plain dicts without positions. Department IT staff fix mapping
files by line, so this scans the text once and records the line where each key (or
table header) first appears. It understands what mapping files use: table headers,
bare / quoted / dotted keys, single-line inline tables and multi-line strings; a
path it cannot place falls back to its nearest placed parent.
"""

from __future__ import annotations

import json


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            buf.append(ch)
        elif ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def parse_key(text: str) -> tuple[str, ...]:
    """``a."b.c".d`` -> ("a", "b.c", "d")."""
    out: list[str] = []
    for part in _split_outside_quotes(text, "."):
        p = part.strip()
        if len(p) >= 2 and p[0] == p[-1] == '"':
            try:
                p = json.loads(p)
            except ValueError:
                p = p[1:-1]
        elif len(p) >= 2 and p[0] == p[-1] == "'":
            p = p[1:-1]
        out.append(p)
    return tuple(out)


class TomlLines:
    """Where each key of a TOML text is: ``line(("record", "vehicles", "sql"))``."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        closing = ""
        for number, raw in enumerate(text.splitlines(), start=1):
            if closing:
                if closing in raw:
                    closing = ""
                continue
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("["):
                double = stripped.startswith("[[")
                inner = stripped[2:] if double else stripped[1:]
                header = _split_outside_quotes(inner, "]")[0]
                table = parse_key(header)
                self._record(table, number)
                continue
            pieces = _split_outside_quotes(stripped, "=")
            if len(pieces) < 2:
                continue
            key = parse_key(pieces[0])
            self._record(table + key, number)
            value = "=".join(pieces[1:]).strip()
            for delim in ('"""', "'''"):
                if value.startswith(delim) and value.count(delim) == 1:
                    closing = delim
                    break

    def _record(self, path: tuple[str, ...], number: int) -> None:
        for i in range(1, len(path) + 1):
            self._lines.setdefault(path[:i], number)

    def line(self, path: tuple[str, ...]) -> int | None:
        """The line of ``path`` or of its nearest recorded parent; None when unknown."""
        for i in range(len(path), 0, -1):
            found = self._lines.get(path[:i])
            if found is not None:
                return found
        return None

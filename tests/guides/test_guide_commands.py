"""Every ``hedui …`` command the guides show is one the real command line accepts.

Each ```sh block of docs/guide-*.md is read line by line (continuations joined, here-doc
bodies skipped); every ``hedui`` invocation is parsed by ``hedui.cli.build_parser()``
exactly as typed, shell variables standing as they are. The department IT walkthrough
also runs for real (test_guide_department_it.py).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

from hedui.cli import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = sorted(DOCS.glob("guide-*.md"))

#: commands the guides name that are being wired now (issue 7): the migrations' CLI
PENDING: set[tuple[str, ...]] = set()
_STOP = {"&", "&&", "|", "||", ";", ">", "2>", ">>", "<", ")"}


def sh_lines(text: str) -> list[str]:
    lines: list[str] = []
    for block in re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```$", text, flags=re.S | re.M):
        block = block.replace("\\\n", " ")
        heredoc_end = None
        for line in block.splitlines():
            if heredoc_end is not None:
                if line.strip() == heredoc_end:
                    heredoc_end = None
                continue
            line = line.strip()
            m = re.search(r"<<-?\s*'?(\w+)'?", line)
            if m:
                heredoc_end = m[1]
            lines.append(line)
    return lines


def invocations(line: str) -> list[list[str]]:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        return []
    out = []
    for i, tok in enumerate(tokens):
        at_command = (i == 0 or tokens[i - 1] in _STOP | {"(", "sudo", "then", "do", "exec"}
                      or (i >= 2 and tokens[i - 2] == "-u"))
        if Path(tok).name == "hedui" and at_command:
            args = []
            for t in tokens[i + 1:]:
                if t in _STOP or t.startswith(("2>", ">")):
                    break
                args.append(t.rstrip(")"))
            out.append(args)
    return out


_ASSIGN = re.compile(r"^([A-Z][A-Z0-9_]*)=(\S+)")


def all_invocations() -> list[tuple[str, list[str]]]:
    """Every invocation, with the guide's own shell variables (``OLD=40``) expanded as a
    reader's shell would; other variables stand as typed."""
    out = []
    for g in GUIDES:
        values: dict[str, str] = {}
        for line in sh_lines(g.read_text(encoding="utf-8")):
            m = _ASSIGN.match(line)
            if m:
                values[m[1]] = m[2].strip('"')
            for name, value in values.items():
                line = line.replace(f'"${name}"', value).replace(f"${name}", value)
            out += [(g.name, args) for args in invocations(line)]
    return out


def rejected(args: list[str]) -> str | None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(args)
        except SystemExit as exc:
            if exc.code not in (0, None):
                return err.getvalue().strip().splitlines()[-1]
    return None


def test_the_four_guides_exist_and_show_commands() -> None:
    names = {g.name for g in GUIDES}
    assert {"guide-verifier.md", "guide-department-it.md", "guide-privacy-officer.md",
            "guide-administrator.md"} <= names
    per_guide = {name for name, _ in all_invocations()}
    assert per_guide == names


def test_every_hedui_command_in_the_guides_parses() -> None:
    bad = []
    for guide, args in all_invocations():
        if tuple(args[:2]) in PENDING:
            continue
        problem = rejected(args)
        if problem:
            bad.append(f"{guide}: hedui {' '.join(args)}  ->  {problem}")
    assert not bad, "\n".join(bad)


def test_migrate_commands_are_in_the_guides_and_exist() -> None:
    wanted = {("gateway", "migrate"), ("audit", "migrate")}
    found = [args for _, args in all_invocations() if tuple(args[:2]) in wanted]
    assert {tuple(a[:2]) for a in found} == wanted
    assert [a for a in found if rejected(a)] == []

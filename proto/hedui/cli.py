"""The ``hedui`` console script: one sub-command group per component.

Each group lives beside its component (``hedui.keys.cli``, ``hedui.audit.cli``, ...)
and exposes ``register(subparsers)``. Groups are imported lazily by name so that
the root package depends on none of them and a broken optional group cannot stop
another from running. Every :class:`~hedui.errors.HeduiError` becomes one line on
stderr and a non-zero exit; nothing prints a traceback to a user — not even when a
listing is piped into ``head``, which closes the pipe early (handled once, here).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from hedui import __version__
from hedui.errors import HeduiError

#: (module, one-line help) of every command group, in the order ``--help`` lists them
GROUPS: tuple[str, ...] = (
    "hedui.keys.cli",
    "hedui.agents.cli",
    "hedui.gateway.cli",
    "hedui.gateway.offline_cli",
    "hedui.gateway.standards_cli",
    "hedui.gateway.staff_cli",
    "hedui.gateway.witness_cli",
    "hedui.gateway.reverify_cli",
    "hedui.audit.cli",
    "hedui.console.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hedui",
        description="Secure data exchange for household economic status verification.",
    )
    parser.add_argument("--version", action="version", version=f"hedui {__version__}")
    sub = parser.add_subparsers(dest="group", metavar="COMMAND")
    sub.required = True
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # component not built yet
            raise
        module.register(sub)
    #: the command groups' names, for :func:`group_first`
    parser.groups = tuple(sub.choices)  # type: ignore[attr-defined]
    return parser


#: exit status of a command whose reader closed the pipe (128 + SIGPIPE, as a shell says)
BROKEN_PIPE = 141


def group_first(argv: Sequence[str], groups: Sequence[str]) -> list[str]:
    """``hedui --client F case list`` as ``hedui case --client F list``: options written
    before the command group belong to the group (the root parser has none of its own
    but ``--help`` and ``--version``, which are left where they are)."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help", "--version") or not argv[0].startswith("-"):
        return argv
    at = next((i for i, a in enumerate(argv) if a in groups), None)
    if at is None or any(a in ("-h", "--help", "--version") for a in argv[:at]):
        return argv
    return [argv[at], *argv[:at], *argv[at + 1:]]


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's last flush
    cannot raise again on its way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = group_first(sys.argv[1:] if argv is None else argv, parser.groups)
    try:
        try:
            args = parser.parse_args(argv)
        finally:
            sys.stdout.flush()  # `hedui --help | head`: the same broken pipe
        result = args.func(args)
        sys.stdout.flush()  # a pipe closed early shows here, not in the exit's own flush
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE
    except HeduiError as exc:
        print(f"hedui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hedui: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

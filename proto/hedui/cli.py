"""The ``hedui`` console script: one sub-command group per component.

Each group lives beside its component (``hedui.keys.cli``, ``hedui.audit.cli``, ...)
and exposes ``register(subparsers)``. Groups are imported lazily by name so that
the root package depends on none of them and a broken optional group cannot stop
another from running. Every :class:`~hedui.errors.HeduiError` becomes one line on
stderr and a non-zero exit; nothing prints a traceback to a user.
"""

from __future__ import annotations

import argparse
import importlib
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
    "hedui.audit.cli",
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except HeduiError as exc:
        print(f"hedui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hedui: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

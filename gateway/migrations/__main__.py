"""``python -m hedui.gateway.migrations --config gateway.toml`` — until ``hedui gateway migrate``.

Brings the gateway's case database and its audit log to this release's schema (both URLs
from the configuration). Prints one line per database; exits 2 on a problem.
"""

from __future__ import annotations

import argparse
import sys

from hedui.errors import HeduiError
from hedui.gateway.migrations import migrate_gateway


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hedui.gateway.migrations")
    parser.add_argument("--config", required=True, help="the gateway's TOML configuration")
    args = parser.parse_args(argv)
    try:
        for line in migrate_gateway(args.config):
            print(line)
    except HeduiError as exc:
        print(f"hedui: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m hedui.audit.migrations --db URL`` — until ``hedui audit migrate``.

Brings one audit log (the gateway's, or an agent's ``state/audit.sqlite``) to this
release's schema. Prints the revision reached; exits 2 on a problem.
"""

from __future__ import annotations

import argparse
import sys

from hedui.audit.migrations import upgrade
from hedui.errors import HeduiError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hedui.audit.migrations")
    parser.add_argument("--db", required=True, help="database URL of the log")
    parser.add_argument("--prefix", default="", help="table prefix of the log")
    parser.add_argument("--schema", help="PostgreSQL schema of the log")
    parser.add_argument("--to", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    try:
        revision = upgrade(args.db, args.to, prefix=args.prefix, schema=args.schema)
        print(f"audit log at revision {revision}")
    except HeduiError as exc:
        print(f"hedui: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())

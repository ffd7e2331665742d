"""``python -m hedui.gateway.migrations --config gateway.toml`` — until ``hedui gateway migrate``.

Brings the gateway's case database and its audit log to this release's schema (both URLs
from the configuration). Prints one line per database; exits 2 on a problem.
"""

from __future__ import annotations

import argparse
import sys

from hedui.errors import HeduiError


def migrate_gateway(config_path: str, target: str = "head") -> list[str]:
    """Upgrade the case database and the audit log named by a gateway configuration."""
    from hedui.audit import migrations as audit_migrations
    from hedui.gateway import config as config_mod
    from hedui.gateway import migrations as case_migrations

    cfg = config_mod.load(config_path)
    cases = case_migrations.upgrade(cfg.cases_db, target)
    audit = audit_migrations.upgrade(cfg.audit_db, target)
    return [f"case database at revision {cases}", f"audit log at revision {audit}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hedui.gateway.migrations")
    parser.add_argument("--config", required=True, help="the gateway's TOML configuration")
    parser.add_argument("--to", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    try:
        for line in migrate_gateway(args.config, args.to):
            print(line)
    except HeduiError as exc:
        print(f"hedui: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`hedui bundle …` — the center's side of the offline exchange (the "encrypted USB drive").

    hedui bundle export --config gateway.toml --department banks --out FILE [--days 30]
    hedui bundle import --config gateway.toml FILE

Both run beside a serving gateway (the case and audit databases take concurrent
writers). A refused file is one line on stderr and exit code 1; nothing from it is used.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hedui.errors import HeduiError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bundle", help="exchange sealed bundle files with offline departments")
    cmds = parser.add_subparsers(dest="command", metavar="COMMAND")
    cmds.required = True

    export = cmds.add_parser(
        "export", help="seal the pending queries of an offline department into a bundle file"
    )
    export.add_argument("--config", required=True, help="the gateway's TOML configuration")
    export.add_argument("--department", required=True, help="the offline department, e.g. banks")
    export.add_argument("--out", required=True, help="the bundle file to write (must not exist)")
    export.add_argument("--days", type=int, default=30,
                        help="how long the bundle and its queries stay valid (default 30)")
    export.add_argument("--again", action="store_true",
                        help="also re-export queries already in an unanswered bundle (lost drive)")
    export.add_argument("--operator", default="", help="your staff id, for the audit log")
    export.set_defaults(func=_export)

    imp = cmds.add_parser("import", help="verify an answers bundle and move its cases on")
    imp.add_argument("--config", required=True, help="the gateway's TOML configuration")
    imp.add_argument("file", help="the answers bundle from the department")
    imp.add_argument("--operator", default="", help="your staff id, for the audit log")
    imp.set_defaults(func=_import)


def read_bundle_file(path: Path) -> bytes:
    """A bundle file's bytes, read up to one byte past the largest bundle allowed."""
    from hedui.keys.sealed_bundle import MAX_BUNDLE_BYTES

    try:
        with path.open("rb") as fh:
            return fh.read(MAX_BUNDLE_BYTES + 1)
    except OSError as exc:
        raise HeduiError(f"cannot read {path}: {exc.strerror or exc}") from None


def _with_desk(config_path: str, work):
    """Build the gateway's parts in this process (beside a serving gateway) and run ``work``.

    Logs go to stderr as JSON, warnings and up only: the operator reads the summary.
    """
    import logging

    from hedui.gateway import config, server
    from hedui.gateway.offline import OfflineDesk
    from hedui.logging import configure

    configure(level=logging.WARNING)

    gw = server.build(config.load(config_path))
    try:
        return work(OfflineDesk.for_gateway(gw))
    finally:
        asyncio.run(gw.close())


def _export(args: argparse.Namespace) -> int:
    from hedui.keys._files import write_atomic

    out = Path(args.out)
    if out.exists():
        raise HeduiError(f"{out} already exists; refusing to overwrite it")
    if not out.parent.is_dir():
        raise HeduiError(f"folder {out.parent} does not exist")
    result = _with_desk(args.config, lambda desk: desk.export(
        args.department, days=args.days, operator=args.operator, again=args.again))
    for case_id, why in result.skipped:
        print(f"  left out {case_id}: {why}")
    if result.data is None:
        print(f"no queries pending for {args.department}; no bundle written")
        return 0
    write_atomic(out, result.data, mode=0o600, overwrite=False)
    n = len(result.queries)
    print(f"bundle {result.bundle_id}: {n} {'query' if n == 1 else 'queries'} for "
          f"{args.department} sealed into {out} (valid until {result.expires_at:%Y-%m-%d})")
    return 0


def _import(args: argparse.Namespace) -> int:
    from hedui.gateway.offline import ImportRefused
    from hedui.gateway.verifying import state_word
    from hedui.keys.sealed_bundle import SealedBundleError

    data = read_bundle_file(Path(args.file))
    try:
        result = _with_desk(args.config, lambda desk: desk.import_bundle(
            data, operator=args.operator))
    except ImportRefused as exc:
        print(f"hedui: bundle refused, nothing imported: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except SealedBundleError as exc:
        print(f"hedui: bundle refused, nothing imported: {exc}", file=sys.stderr)
        return 1
    print(f"bundle {result.bundle_id} from {result.department} imported: "
          f"{len(result.answered)} answered, {len(result.refused)} refused")
    for case_id, why in result.refused:
        print(f"  {case_id}: {why}")
    for case in result.cases:
        print(f"  case {case.case_id}: {state_word(case.state)}")
    for case_id, why in result.unsettled:
        print(f"  case {case_id}: answer stored, not settled yet ({why}); run hedui case retry")
    return 0

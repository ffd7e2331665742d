"""``hedui standards check``: the administrator's look at a standards file before publishing.

    hedui standards check FILE.toml [FILE …|DIR] [--sample HOUSEHOLD.toml] [--persons N]
                                  [--as-of YYYY-MM-DD]

Prints each standard in words and what it decides for households at its limits (or for
the sample household given); a malformed file is one line naming the file, the line and
the key, and a non-zero exit.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from hedui.errors import HeduiError
from hedui.gateway.standards import StandardsLibrary, load_standard


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("standards", help="check assistance standards files")
    cmds = group.add_subparsers(dest="command", metavar="COMMAND")
    cmds.required = True
    check = cmds.add_parser(
        "check", help="validate standards files, show them in words and what they decide")
    check.add_argument("paths", nargs="+", metavar="PATH",
                       help="standards files (.toml) or a standards directory")
    check.add_argument("--sample", type=Path,
                       help="a sample household (TOML: persons, [income], [assets], [counts])")
    check.add_argument("--persons", type=int, default=3,
                       help="household size of the built-in samples (default 3)")
    check.add_argument("--as-of", type=date.fromisoformat, metavar="YYYY-MM-DD",
                       help="application date of the samples (default: today, within the "
                            "standard's validity)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from hedui.gateway import standards_check as sc

    if not 1 <= args.persons <= 20:
        raise HeduiError("--persons must be from 1 to 20")
    standards = []
    for raw in args.paths:
        path = Path(raw)
        if path.is_dir():
            standards += list(StandardsLibrary(path))  # also checks the files together
        elif path.exists():
            standards.append(load_standard(path))
        else:
            raise HeduiError(f"{path} does not exist")
    if not standards:
        raise HeduiError("no standards files (*.toml) found in " + ", ".join(args.paths))
    sample = sc.load_sample(args.sample) if args.sample else None
    for standard in standards:
        print(f"{standard.path}: OK")
        for line in sc.describe(standard):
            print(line)
        if args.as_of is not None and not standard.in_force(args.as_of):
            print(f"  (not in force on {args.as_of}; no samples decided)")
            continue
        samples = [sample] if sample else sc.sample_households(standard, args.persons)
        print("  what it decides:")
        for s in samples:
            result = sc.decide_sample(standard, s, args.as_of)
            line = sc.verdict_line(s, result)
            if result.outcome == sc.case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW:
                crisp = sc.decide_sample(standard, s, args.as_of, margin=False)
                line += f"; without the review margin: {sc.outcome_words(crisp)}"
            print(line)
    return 0

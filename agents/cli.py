"""`hedui agent …` — what a department's IT staff run.

    hedui agent serve --config agent.toml    run the agent until SIGTERM
    hedui agent check --config agent.toml    check config, keys, bundle and mapping
        [--sample N | --subjects ID,ID]      ... and run each block on real persons
    hedui agent health --config agent.toml   ask the running agent if it is serving (probes)
    hedui agent answer-bundle --config agent.toml --in QUERIES --out ANSWERS
                                             answer a sealed offline bundle, no network
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import TYPE_CHECKING

from hedui.errors import HeduiError

if TYPE_CHECKING:
    from hedui.agents.mapping import MappingSource


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("agent", help="run and check a department agent")
    cmds = parser.add_subparsers(dest="command", metavar="COMMAND")
    cmds.required = True

    serve = cmds.add_parser("serve", help="serve queries over mutual TLS until SIGTERM")
    serve.add_argument("--config", required=True, help="the agent's TOML configuration")
    serve.set_defaults(func=_serve)

    check = cmds.add_parser(
        "check", help="validate config, keys, trust bundle and mapping against the live database"
    )
    check.add_argument("--config", required=True, help="the agent's TOML configuration")
    trial = check.add_mutually_exclusive_group()
    trial.add_argument(
        "--sample", type=int, metavar="N",
        help="also run every mapping block on the first N ID numbers each block holds "
             "(or the [subjects] query lists) and print per block the rows found, the "
             "first record (masked) and the sum of each amount")
    trial.add_argument(
        "--subjects", metavar="ID,ID",
        help="the same as --sample, on these ID numbers (comma-separated)")
    check.set_defaults(func=_check)

    health = cmds.add_parser(
        "health", help="ask the running agent's health service over mutual TLS (probes)")
    health.add_argument("--config", required=True, help="the agent's TOML configuration")
    health.add_argument("--timeout", type=float, default=3.0,
                        help="seconds to wait for the answer (default 3)")
    health.set_defaults(func=_health)

    offline = cmds.add_parser(
        "answer-bundle",
        help="answer the center's sealed queries bundle into a sealed answers bundle (offline)",
    )
    offline.add_argument("--config", required=True, help="the agent's TOML configuration")
    offline.add_argument("--in", dest="input", required=True, help="the queries bundle file")
    offline.add_argument("--out", required=True, help="the answers bundle to write (new file)")
    offline.add_argument("--days", type=int, default=30,
                         help="how long the answers bundle stays valid (default 30)")
    offline.set_defaults(func=_answer_bundle)


def _serve(args: argparse.Namespace) -> int:
    from hedui.agents import config as config_mod
    from hedui.agents import server
    from hedui.logging import configure

    configure()
    asyncio.run(server.serve(config_mod.load(args.config)))
    return 0


def _check(args: argparse.Namespace) -> int:
    """Report every problem in one pass; exit 1 when there is any."""
    from hedui.agents import config as config_mod
    from hedui.agents.mapping import MappingSource
    from hedui.keys import keyfile, tls
    from hedui.keys.bundle import TrustStore
    from hedui.keys.signing import read_public_key

    subjects = _subjects_argument(args.subjects)
    if args.sample is not None and not 1 <= args.sample <= 100:
        raise HeduiError("--sample must be 1 to 100")
    cfg = config_mod.load(args.config)
    problems: list[str] = []
    notes: list[str] = []

    def attempt(what: str, fn) -> object:
        try:
            return fn()
        except HeduiError as exc:
            problems.append(f"{what}: {exc}")
        except OSError as exc:
            problems.append(f"{what}: {exc.strerror or exc}: {getattr(exc, 'filename', '')}")
        return None

    passphrase = attempt("key passphrase", lambda: keyfile.passphrase_from_env(
        cfg.passphrase_env)) if cfg.passphrase_env else None
    # the keys exactly as serving loads them: with the passphrase, TLS key included
    attempt("TLS certificate and key",
            lambda: tls.load_tls_material(cfg.tls_certificate, cfg.tls_key, cfg.tls_ca,
                                          passphrase))  # type: ignore[arg-type]
    attempt("signing key", lambda: keyfile.load_signing_key(
        cfg.signing_key, passphrase))  # type: ignore[arg-type]
    problems.extend(config_mod.serving_problems(cfg) if not cfg.offline_only else [])
    attempt("pseudonym key", lambda: keyfile.check_key_file_mode(cfg.pseudonym_key))
    root = attempt("root public key", lambda: read_public_key(cfg.root_public_key))
    if root is not None:
        # check only: do not move this agent's held serial forward
        store = TrustStore(root)
        bundle = attempt("trust bundle", lambda: store.load(cfg.bundle, dt.datetime.now(dt.UTC)))
        if bundle is not None:
            me = bundle.participant(cfg.agent_id)
            if me is None:
                problems.append(f"trust bundle: {cfg.agent_id} is not a participant")
            else:
                notes.append(f"trust bundle serial {bundle.serial}, {len(bundle.proto.policies)} "
                             "policies")
    source = attempt("mapping", lambda: MappingSource(cfg.mapping,
                                                      database_url_override=cfg.database))
    sample: list[str] = []
    if source is not None:
        for problem in source.check():
            problems.append(str(problem))
        if args.sample is not None or subjects:
            sample = _sample(source, args.sample, subjects)
        source.close()
    for note in notes:
        print(f"ok: {note}")
    for line in sample:
        print(line)
    if sample:
        print()
    if problems:
        for p in problems:
            print(f"problem: {p}", file=sys.stderr)
        print(f"{len(problems)} problem(s) in {args.config}", file=sys.stderr)
        return 1
    print(f"{args.config}: everything checks out")
    return 0


def _subjects_argument(value: str | None) -> list[str]:
    """``--subjects`` as ID numbers; a malformed one is refused without echoing it."""
    if value is None:
        return []
    ids = [v.strip().upper() for v in value.split(",") if v.strip()]
    for i, v in enumerate(ids, 1):
        if not (len(v) in (15, 18) and v[:-1].isdigit() and (v[-1].isdigit() or v[-1] == "X")):
            raise HeduiError(f"--subjects: ID number {i} is not 15 or 18 characters of digits "
                             "(the last may be X)")
    if not ids:
        raise HeduiError("--subjects needs ID numbers separated by commas")
    return ids


def _sample(source: MappingSource, n: int | None, subjects: list[str]) -> list[str]:
    """The ``--sample``/``--subjects`` report; the database failing is one line."""
    from hedui.agents import mapping_sample
    from hedui.agents.source import SourceUnavailable

    notes: list[str] = []
    try:
        if not subjects:
            subjects, notes = mapping_sample.pick_subjects(source, n or 1)
        return mapping_sample.report(source, subjects, notes)
    except SourceUnavailable as exc:
        return [f"sample: not run, the database cannot be read: {exc}"]


def _health(args: argparse.Namespace) -> int:
    """Exit 0 when the agent says SERVING, else one line and exit 1 (Kubernetes exec
    probes; see ``hedui.keys.health``)."""
    from hedui.agents import config as config_mod
    from hedui.keys import health, tls

    cfg = config_mod.load(args.config)
    try:
        material = tls.load_tls_material(cfg.tls_certificate, cfg.tls_key, cfg.tls_ca)
    except OSError as exc:
        raise HeduiError(f"cannot read the agent's TLS files: {exc.strerror or exc}: "
                         f"{getattr(exc, 'filename', '')}") from None
    target, status = health.probe(cfg.listen, cfg.agent_id, material, timeout=args.timeout)
    if status != health.SERVING:
        raise HeduiError(f"agent at {target} is not serving: {status}")
    print(f"agent at {target}: {status}")
    return 0


def _answer_bundle(args: argparse.Namespace) -> int:
    """Refusals of single queries are listed (and sealed back); a refused file is one line."""
    import logging
    from pathlib import Path

    from hedui.agents import config as config_mod
    from hedui.agents import offline, server
    from hedui.keys._files import write_atomic
    from hedui.keys.sealed_bundle import MAX_BUNDLE_BYTES, SealedBundleError
    from hedui.logging import configure

    configure(level=logging.WARNING)
    out = Path(args.out)
    if out.exists():
        raise HeduiError(f"{out} already exists; refusing to overwrite it")
    if not out.parent.is_dir():
        raise HeduiError(f"folder {out.parent} does not exist")
    if not 0 < args.days <= 366:
        raise HeduiError("--days must be 1 to 366")
    try:
        with open(args.input, "rb") as fh:
            data = fh.read(MAX_BUNDLE_BYTES + 1)
    except OSError as exc:
        raise HeduiError(f"cannot read {args.input}: {exc.strerror or exc}") from None
    cfg = config_mod.load(args.config)
    settings = offline.settings(cfg)
    box_key = offline.load_box_key(cfg, settings)
    agent = server.build(cfg)
    try:
        result = offline.answer_bundle(agent, data, box_key=box_key, offline=settings,
                                       days=args.days)
    except SealedBundleError as exc:
        print(f"hedui: bundle refused, no query answered: {exc}", file=sys.stderr)
        return 1
    finally:
        agent.close()
    write_atomic(out, result.data, mode=0o600, overwrite=False)
    for query_id, case_id, reason, detail in result.refused:
        print(f"  refused query {query_id} (case {case_id}): {reason}: {detail}")
    print(f"answers bundle {result.bundle_id} for {result.recipient}: "
          f"{len(result.answered)} answered, {len(result.refused)} refused, written to {out}")
    return 0

"""Command groups of the center: the gateway process, cases, verification, reports, demo.

    hedui gateway serve --config gateway.toml
    hedui verify --household FILE.toml [--program dibao] [--application-date D] [--out DIR]
                 [--again "why it is verified again"]
    hedui verify --batch FILE.csv|FILE.xlsx [--out DIR]
    hedui case get|list|retry|report|cancel …   (--client FILE before or after the command)
    hedui case report CASE_ID [--out DIR] [--pdf]
    hedui authorization revoke NUMBER --reason …
    hedui report verify REPORT.dsse --bundle bundle.dsse --root-pub root.pub
    hedui demo [--dir DIR]   /   hedui demo seed --persons N --dir DIR
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from hedui.errors import HeduiError

DEFAULT_CLIENT = os.environ.get("HEDUI_CLIENT", "hedui-client.toml")
_CLIENT_HELP = "client TOML (gateway, TLS); before or after the sub-command"


def _client_option(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--client`` on a group and on each of its sub-commands: ``hedui case --client F
    list`` and ``hedui case list --client F`` both work. Only the group's has a default,
    so a sub-command that is not given one keeps the group's value."""
    parser.add_argument("--client", default=DEFAULT_CLIENT if top else argparse.SUPPRESS,
                        metavar="FILE", help=_CLIENT_HELP)


def register(sub: argparse._SubParsersAction) -> None:
    gw = sub.add_parser("gateway", help="run the center's gateway")
    gcmds = gw.add_subparsers(dest="command", metavar="COMMAND")
    gcmds.required = True
    serve = gcmds.add_parser("serve", help="serve the case and audit services until SIGTERM")
    serve.add_argument("--config", required=True)
    serve.set_defaults(func=_serve)
    migrate = gcmds.add_parser("migrate", help="bring the case and audit databases up to date")
    migrate.add_argument("--config", required=True)
    migrate.set_defaults(func=_migrate)
    erase = gcmds.add_parser(
        "erase-expired", help="erase answers past their retention period now (the gateway "
        "also does it hourly)")
    erase.add_argument("--config", required=True)
    erase.add_argument("--as-of", help="ISO date-time to erase as of (default: now)")
    erase.set_defaults(func=_erase_expired)
    health = gcmds.add_parser(
        "health", help="ask the running gateway's health service over mutual TLS (probes)")
    health.add_argument("--config", required=True)
    health.add_argument("--timeout", type=float, default=3.0)
    health.set_defaults(func=_health)

    verify = sub.add_parser("verify", help="verify a household (or a batch) end to end")
    _client_option(verify, top=True)
    what = verify.add_mutually_exclusive_group(required=True)
    what.add_argument("--household", help="household TOML file (UTF-8 or GB18030/GBK)")
    what.add_argument("--batch", help="list of household files to re-verify (.csv or .xlsx; "
                      "writes reports and a results spreadsheet into --out)")
    verify.add_argument("--program", help="programme (overrides the household file)")
    verify.add_argument("--application-date", metavar="YYYY-MM-DD",
                        help="申请日期 (overrides the household file's; default today)")
    verify.add_argument("--again", metavar="REASON", default="",
                        help="verify the household although a case of the programme for it "
                        "is under way or was decided recently; the reason is audited")
    verify.add_argument("--out", default=".", help="where to write reports")
    verify.add_argument("--concurrency", type=int, default=32)
    verify.set_defaults(func=_verify)

    case = sub.add_parser("case", help="look at and retry cases")
    _client_option(case, top=True)
    ccmds = case.add_subparsers(dest="command", metavar="COMMAND")
    ccmds.required = True
    for name, helptext in (("get", "show a case"), ("retry", "ask missing departments again"),
                           ("report", "write a case's determination report")):
        p = ccmds.add_parser(name, help=helptext)
        _client_option(p, top=False)
        p.add_argument("case_id")
        if name == "report":
            p.add_argument("--out", default=".", help="folder for report .dsse/.json/.html")
            p.add_argument("--pdf", action="store_true",
                           help="also print the report to an A4 .pdf (headless Chromium)")
        p.set_defaults(func=_case)
    cancel = ccmds.add_parser("cancel", help="close a case that will not be completed, "
                              "without a decision (audit-logged with the reason)")
    _client_option(cancel, top=False)
    cancel.add_argument("case_id")
    cancel.add_argument("--reason", required=True,
                        help="why, in words (no ID numbers or names: it is audit-logged)")
    cancel.set_defaults(func=_case)
    lst = ccmds.add_parser("list", help="list cases: date, programme, applicant (masked), "
                           "state, waiting departments")
    _client_option(lst, top=False)
    lst.add_argument("--state", help="e.g. incomplete, decided")
    lst.add_argument("--program")
    lst.add_argument("--limit", type=_positive, default=200,
                     help="show at most this many cases (default 200)")
    lst.set_defaults(func=_case, case_id=None)

    auth = sub.add_parser("authorization", help="revoke a household's authorization")
    _client_option(auth, top=True)
    acmds = auth.add_subparsers(dest="command", metavar="COMMAND")
    acmds.required = True
    revoke = acmds.add_parser("revoke", help="revoke; new queries under it are refused at once")
    _client_option(revoke, top=False)
    revoke.add_argument("number")
    revoke.add_argument("--reason", required=True)
    revoke.set_defaults(func=_revoke)

    report = sub.add_parser("report", help="check a determination report offline")
    rcmds = report.add_subparsers(dest="command", metavar="COMMAND")
    rcmds.required = True
    rv = rcmds.add_parser("verify", help="verify signatures, answers and audit proofs")
    rv.add_argument("file", help="the signed report (.dsse)")
    rv.add_argument("--bundle", required=True, help="the trust bundle (.dsse)")
    rv.add_argument("--root-pub", required=True, help="the center's root public key")
    rv.add_argument("--standards", help="standards folder: also recompute every figure")
    rv.set_defaults(func=_report_verify)

    demo = sub.add_parser("demo", help="run the whole system on loopback with synthetic data")
    demo.add_argument("--dir", help="keep all state (keys, databases, logs) here")
    demo.add_argument("--persons", type=int, default=400)
    dcmds = demo.add_subparsers(dest="command", metavar="COMMAND")
    seed = dcmds.add_parser("seed", help="create the eight synthetic department databases")
    seed.add_argument("--persons", type=int, default=1000)
    seed.add_argument("--dir", required=True)
    seed.add_argument("--seed", type=int, default=1)
    seed.set_defaults(func=_seed)
    demo.set_defaults(func=_demo)


def _positive(value: str) -> int:
    """A whole number above zero, for argparse (its error is one usage line)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def _iso_date(value: str | None):
    """``--application-date`` as a date (None when not given); a bad one is one line."""
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise HeduiError(f"--application-date {value!r} is not a date like 2026-11-02") from None


def _serve(args: argparse.Namespace) -> int:
    from hedui.gateway import config, server
    from hedui.logging import configure

    configure()
    asyncio.run(server.serve(config.load(args.config)))
    return 0


def _erase_expired(args: argparse.Namespace) -> int:
    import datetime as dt

    from hedui.gateway import config as config_mod
    from hedui.gateway import server
    from hedui.gateway.cases import erase_expired

    when = None
    if args.as_of:
        try:
            when = dt.datetime.fromisoformat(args.as_of)
        except ValueError:
            raise HeduiError(f"--as-of {args.as_of!r} is not an ISO date or time") from None
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    gw = server.build(config_mod.load(args.config))
    try:
        count = erase_expired(gw.cases, when)
    finally:
        asyncio.run(gw.close())
    print(f"{count} answer(s) erased after their retention period")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from hedui.gateway.migrations import migrate_gateway

    for line in migrate_gateway(args.config):
        print(line)
    return 0


def _health(args: argparse.Namespace) -> int:
    """Exit 0 when the gateway says SERVING (Kubernetes exec probes; see
    ``hedui.keys.health``)."""
    from hedui.gateway import config as config_mod
    from hedui.keys import health, tls

    cfg = config_mod.load(args.config)
    material = tls.load_tls_material(cfg.tls_certificate, cfg.tls_key, cfg.tls_ca)
    target, status = health.probe(cfg.listen, cfg.gateway_id, material, timeout=args.timeout)
    if status != health.SERVING:
        raise HeduiError(f"gateway at {target} is not serving: {status}")
    print(f"gateway at {target}: {status}")
    return 0


def _client(args: argparse.Namespace):
    from hedui.gateway.client import ClientConfig, GatewayClient

    return GatewayClient(ClientConfig.load(args.client))


def _verify(args: argparse.Namespace) -> int:
    from hedui.gateway import batch, verifying

    applied = _iso_date(args.application_date)
    with _client(args) as client:
        if args.batch:
            if applied is not None:
                raise HeduiError("--application-date is for one household; a batch gives "
                                 "it per row (column application_date or 申请日期)")
            if args.again:
                raise HeduiError("--again is for one household; a batch gives the reason "
                                 "per row (column repeat_reason or 复核原因)")
            return batch.run_batch(client, Path(args.batch), Path(args.out),
                                   concurrency=args.concurrency)
        return verifying.verify_household(client, Path(args.household), Path(args.out),
                                          programme=args.program,
                                          application_date=applied, again=args.again)


def _case(args: argparse.Namespace) -> int:
    from hedui.gateway import verifying

    if getattr(args, "pdf", False):
        from hedui.gateway.report_pdf import chromium_path

        chromium_path()  # no Chromium: say so before fetching anything
    with _client(args) as client:
        code = verifying.case_command(client, args)
    if code == 0 and getattr(args, "pdf", False):
        from hedui.gateway.report_pdf import html_file_to_pdf

        pdf = html_file_to_pdf(Path(args.out) / f"{args.case_id}.report.html")
        print(f"PDF written to {pdf}")
    return code


def _revoke(args: argparse.Namespace) -> int:
    from hedui.v1 import case_pb2

    with _client(args) as client:
        auth = client.call(client.cases.RevokeAuthorization, case_pb2.RevokeAuthorizationRequest(
            number=args.number, reason=args.reason, operator=client.config.operator))
    print(f"authorization {auth.number} revoked: {auth.revocation_reason}")
    return 0


def _report_verify(args: argparse.Namespace) -> int:
    import datetime as dt

    from hedui.gateway.report import verify_report
    from hedui.gateway.standards import StandardsLibrary
    from hedui.keys.bundle import TrustStore
    from hedui.keys.signing import read_public_key
    from hedui.v1 import case_pb2

    store = TrustStore(read_public_key(args.root_pub))
    bundle = store.load(args.bundle, dt.datetime.now(dt.UTC))
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise HeduiError(f"cannot read report {args.file}: {exc.strerror}") from None
    standards = StandardsLibrary(Path(args.standards)) if args.standards else None
    report = verify_report(data, bundle, now=dt.datetime.now(dt.UTC), standards=standards)
    figures = (f"figures recomputed from the signed answers under {args.standards}: they match"
               if standards is not None else
               "figures not recomputed (add --standards DIR to recompute them)")
    print(f"report {report.report_id} for case {report.case_id} is genuine: signed by "
          f"{report.issuer}, {len(report.answers)} signed answers, "
          f"{len(report.audit_evidence)} audit entries proved; outcome "
          f"{case_pb2.Outcome.Name(report.outcome).removeprefix('OUTCOME_').lower()}; "
          f"{figures}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from hedui.agents.synthetic import seed

    summary = seed(Path(args.dir), args.persons, seed=args.seed)
    print(summary)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from hedui.gateway.demo import run_demo

    return run_demo(Path(args.dir) if args.dir else None, persons=args.persons)

"""``hedui staff``: the administrator manages the staff registry; ``hedui review``: a
reviewer approves or returns an assessed case.

``hedui staff`` works on the case database named by gateway.toml (run it where the
gateway's configuration is, as ``hedui gateway migrate``): every change names the
administrator making it (``--by``, an active administrator of the registry) and is an
AUDIT_KIND_STAFF_CHANGED entry in the gateway's audit log before it commits. Whoever
can read gateway.toml holds the case database already, so ``--by`` is an accountable
name, not a password; the gateway itself takes people from certificates.

``hedui review`` is a client of the case service like ``hedui case``: the reviewer's
personal certificate (``--client``) names them; the gateway refuses a reviewer who
opened or verified the case.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from hedui.audit.entries import AccessRecorder
from hedui.audit.pseudonym import Pseudonymizer
from hedui.audit.store import AuditLog
from hedui.errors import HeduiError
from hedui.gateway import config as config_mod
from hedui.gateway.access import ROLES
from hedui.gateway.staff import StaffRegistry
from hedui.gateway.store import CaseStore
from hedui.keys import keyfile
from hedui.keys.secrets import load_secret
from hedui.v1 import case_pb2


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = subparsers.add_parser("staff", help="manage the staff registry (administrator)",
                                  description="Add, list, disable staff and change roles.")
    group.set_defaults(func=lambda _args: group.print_help() or 2)
    sub = group.add_subparsers(dest="staff_command", metavar="COMMAND")
    roles = ", ".join(ROLES)

    p = sub.add_parser("add", help="add a staff member")
    p.add_argument("staff_id", help="e.g. op-1001 (lowercase; it goes into their certificate)")
    p.add_argument("--name", required=True)
    p.add_argument("--roles", required=True, help=f"comma-separated: {roles}")
    p.add_argument("--township", action="append", default=[],
                   help="nine-digit township code (repeat); none: the whole county")
    p.add_argument("--programme", action="append", default=[],
                   help="programme, e.g. dibao (repeat); none: every programme")
    p.add_argument("--phone", default="")
    _common(p, by_required=False)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("list", help="list the staff registry")
    p.add_argument("--config", required=True, type=Path, help="gateway.toml")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("disable", help="disable a member: refused from their next request")
    p.add_argument("staff_id")
    p.add_argument("--reason", default="")
    _common(p)
    p.set_defaults(func=cmd_disable)

    p = sub.add_parser("enable", help="enable a disabled member again")
    p.add_argument("staff_id")
    _common(p)
    p.set_defaults(func=cmd_enable)

    p = sub.add_parser("roles", help="set a member's roles (and scope, when given)")
    p.add_argument("staff_id")
    p.add_argument("--roles", required=True, help=f"comma-separated: {roles}")
    p.add_argument("--township", action="append", default=None)
    p.add_argument("--programme", action="append", default=None)
    _common(p)
    p.set_defaults(func=cmd_roles)

    rv = subparsers.add_parser("review", help="approve or return an assessed case (reviewer)")
    rv.add_argument("case_id")
    verdict = rv.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true", help="issue the report")
    verdict.add_argument("--return", dest="send_back", action="store_true",
                         help="send it back to the verifiers (needs --reason)")
    rv.add_argument("--reason", default="", help="why (never an ID number or a name)")
    rv.add_argument("--client", type=Path, default=Path("hedui-client.toml"),
                    help="your connection file with your personal certificate")
    rv.set_defaults(func=cmd_review)


def _common(p: argparse.ArgumentParser, *, by_required: bool = True) -> None:
    p.add_argument("--config", required=True, type=Path, help="gateway.toml")
    p.add_argument("--by", required=by_required, default="",
                   help="the administrator's staff id (omit only to add the first one)")


def _programmes(config: config_mod.GatewayConfig) -> frozenset[str]:
    """The programmes of the gateway's trust bundle: what a scope may name."""
    import datetime as dt

    from hedui.gateway.planner import programmes
    from hedui.keys.bundle import TrustStore
    from hedui.keys.signing import read_public_key

    store = TrustStore(read_public_key(config.root_public_key))
    return programmes(store.load(config.bundle, dt.datetime.now(dt.UTC)))


@contextlib.contextmanager
def open_registry(path: Path) -> Iterator[StaffRegistry]:
    """The registry of the case database in gateway.toml, changes logged to its audit
    log (migrated first, as the gateway does at start)."""
    from hedui.gateway.migrations import upgrade

    config = config_mod.load(path)
    upgrade(config.cases_db)
    key, key_id = keyfile.load_signing_key(config.signing_key), config.gateway_id
    if config.audit_key is not None:
        key, key_id = keyfile.load_signing_key(config.audit_key), config.audit_key_id
    pseudonym_key = load_secret(config.pseudonym_key)
    log = AuditLog.open(config.audit_db, origin=config.audit_origin, signing_key=key,
                        key_name=key_id.removeprefix("spiffe://"), create=True,
                        pseudonym_key=pseudonym_key)
    store = CaseStore(config.cases_db)
    try:
        recorder = AccessRecorder(log, actor=config.gateway_id,
                                  pseudonymizer=Pseudonymizer(pseudonym_key))
        yield StaffRegistry(store, recorder, programmes=lambda: _programmes(config))
    finally:
        store.close()
        log.close()


def _split(text: str) -> list[str]:
    return [r for r in text.split(",") if r.strip()]


def cmd_add(args: argparse.Namespace) -> int:
    with open_registry(args.config) as registry:
        p = registry.add(args.staff_id, name=args.name, roles=_split(args.roles), by=args.by,
                         townships=args.township, programmes=args.programme, phone=args.phone)
    print(f"added {p.staff_id}: {','.join(p.roles)}; scope {p.scope_words()}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_registry(args.config) as registry:
        people = registry.list()
    for p in people:
        state = "active" if p.active else "DISABLED"
        print(f"{p.staff_id}\t{p.name}\t{','.join(p.roles)}\t{p.scope_words()}\t{state}"
              f"\t{p.phone or '-'}")
    if not people:
        print("the staff registry is empty; add the first administrator: hedui staff add "
              "ID --name … --roles administrator --config gateway.toml")
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    with open_registry(args.config) as registry:
        registry.disable(args.staff_id, by=args.by, reason=args.reason)
    print(f"disabled {args.staff_id}: refused from their next request")
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    with open_registry(args.config) as registry:
        registry.enable(args.staff_id, by=args.by)
    print(f"enabled {args.staff_id}")
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    with open_registry(args.config) as registry:
        p = registry.set_roles(args.staff_id, roles=_split(args.roles), by=args.by,
                               townships=args.township, programmes=args.programme)
    print(f"{p.staff_id}: {','.join(p.roles)}; scope {p.scope_words()}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from hedui.gateway.client import ClientConfig, GatewayClient

    if args.send_back and not args.reason.strip():
        raise HeduiError("returning a case needs --reason")
    verdict = (case_pb2.ReviewCaseRequest.VERDICT_RETURN if args.send_back
               else case_pb2.ReviewCaseRequest.VERDICT_APPROVE)
    config = ClientConfig.load(args.client)
    with GatewayClient(config) as client:
        case = client.call(client.cases.ReviewCase, case_pb2.ReviewCaseRequest(
            case_id=args.case_id, verdict=verdict, reason=args.reason,
            operator=config.operator))
    state = case_pb2.CaseState.Name(case.state).removeprefix("CASE_STATE_")
    if case.state == case_pb2.CASE_STATE_DECIDED:
        print(f"{case.case_id}: approved by {case.reviewer}; {state}, outcome "
              f"{case_pb2.Outcome.Name(case.outcome).removeprefix('OUTCOME_')}; the report: "
              f"hedui case report {case.case_id} --out DIR")
    else:
        print(f"{case.case_id}: returned; {state} ({case.state_reason})")
    return 0

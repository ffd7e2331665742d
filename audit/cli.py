"""`hedui audit …` — the privacy officer's tools, straight on a log's database.

    hedui audit verify --db URL [--vkey VKEY]
    hedui audit search --db URL [--id NUMBER] [--operator ..] [--department ..]
                       [--purpose ..] [--case ..] [--kind ..] [--since ..] [--until ..] [--json]
    hedui audit subject-report --db URL --id NUMBER
    hedui audit proof --db URL (--leaf N | --from M) [--size S] [--out DIR]
    hedui audit verify-proof --proof FILE --checkpoint NOTE --vkey VKEY
                             (--entry FILE | --old-checkpoint NOTE)
    hedui audit checkpoint --db URL

Searches and subject reports need the pseudonym key (``--pseudonym-key``, a hex
file with mode 0600) to turn an ID number into its pseudonym, and are themselves
appended to the log. ``--vkey`` pins the log's checkpoint key (as printed by
``hedui audit checkpoint``); without it the key stored in the log is used and
``verify`` says so. Searches are refused when the pseudonym key is not the one the
log was written with (its check value is stored in the log). Proofs are made against
the latest *signed* checkpoint and checked offline by ``verify-proof`` (exit 0 OK,
1 does not verify, 2 cannot check).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import sys
from pathlib import Path

from hedui.errors import HeduiError
from hedui.keys.secrets import load_secret
from hedui.tables import render


class AuditCliError(HeduiError):
    exit_code = 2


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="verify and search an audit log (privacy officers)")
    cmds = parser.add_subparsers(dest="command", metavar="COMMAND")
    cmds.required = True

    def db(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", required=True, help="database URL of the log (sqlite:///… or "
                       "postgresql+psycopg://…)")
        p.add_argument("--prefix", default="", help="table prefix of the log (default none)")
        p.add_argument("--vkey", help="pin the log's checkpoint key (name+keyid+base64)")

    def officer(p: argparse.ArgumentParser) -> None:
        p.add_argument("--pseudonym-key", help="the audit pseudonym key file (hex, mode 0600)")
        p.add_argument("--officer", default="privacy-officer",
                       help="your staff id, recorded with the search")
        p.add_argument("--signing-key", help="the log's signing key, when this tool also "
                       "signs the next checkpoint (otherwise the gateway does)")

    verify = cmds.add_parser("verify", help="recompute the whole tree and check checkpoints")
    db(verify)
    verify.set_defaults(func=_verify)

    search = cmds.add_parser("search", help="search entries (the search itself is logged)")
    db(search)
    officer(search)
    search.add_argument("--id", dest="id_number", help="a subject's resident ID number")
    for name in ("operator", "department", "purpose", "case"):
        search.add_argument(f"--{name}")
    search.add_argument("--kind", action="append", default=[],
                        help="entry kind, e.g. query-refused (repeatable)")
    search.add_argument("--since", help="ISO date or time")
    search.add_argument("--until", help="ISO date or time")
    search.add_argument("--limit", type=int, default=100)
    search.add_argument("--json", action="store_true", help="JSON lines for machines")
    search.set_defaults(func=_search)

    report = cmds.add_parser("subject-report",
                             help="one person's access report: who read what, when, why")
    db(report)
    officer(report)
    report.add_argument("--id", dest="id_number", required=True)
    report.add_argument("--json", action="store_true")
    report.set_defaults(func=_subject_report)

    proof = cmds.add_parser("proof", help="an inclusion or consistency proof against a "
                            "signed checkpoint, for offline checking (verify-proof)")
    db(proof)
    which = proof.add_mutually_exclusive_group(required=True)
    which.add_argument("--leaf", type=int, help="prove that this entry is in the log")
    which.add_argument("--from", dest="old_size", type=int, metavar="SIZE",
                       help="prove that the log extends its checkpoint of SIZE entries")
    proof.add_argument("--size", type=int, help="against the signed checkpoint of this "
                       "size (default: the latest signed one)")
    proof.add_argument("--out", help="write the proof, the entry and the checkpoint "
                       "note(s) as files into this folder (default: print the proof)")
    proof.add_argument("--signing-key", help="the log's signing key: sign a checkpoint "
                       "over the whole log first")
    proof.set_defaults(func=_proof)

    vp = cmds.add_parser("verify-proof", help="check a proof file offline: one line, "
                         "exit 0 OK, 1 does not verify, 2 cannot check")
    vp.add_argument("--proof", required=True, help="the proof file hedui audit proof wrote")
    vp.add_argument("--checkpoint", required=True, help="the signed checkpoint note file")
    vp.add_argument("--vkey", required=True, help="the log's verifier key "
                    "(name+keyid+base64, as hedui audit checkpoint prints it)")
    given = vp.add_mutually_exclusive_group(required=True)
    given.add_argument("--entry", help="the entry file (inclusion proofs)")
    given.add_argument("--old-checkpoint", help="the earlier signed checkpoint note "
                       "(consistency proofs)")
    vp.set_defaults(func=_verify_proof)

    migrate = cmds.add_parser("migrate", help="bring a log's tables up to date (Alembic)")
    migrate.add_argument("--db", required=True)
    migrate.add_argument("--prefix", default="")
    migrate.add_argument("--schema", help="PostgreSQL schema of the log")
    migrate.set_defaults(func=_migrate)

    cp = cmds.add_parser("checkpoint", help="print the latest checkpoint as JSON")
    db(cp)
    cp.set_defaults(func=_checkpoint)


# ---------------------------------------------------------------- opening


def database_url(value: str) -> str:
    """``--db`` as people type it: a URL, or the path of a SQLite file (``state/audit.sqlite``)."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise AuditCliError(f"--db {value}: no such file; give the log's SQLite file or a "
                            "database URL (sqlite:///… or postgresql+psycopg://…)")
    return f"sqlite:///{path.resolve()}"


def _open(args: argparse.Namespace, *, writable: bool = False):
    from hedui.audit.checkpoint import parse_vkey
    from hedui.audit.store import AuditLog, read_meta
    from hedui.keys import keyfile

    args.db = database_url(args.db)
    if getattr(args, "vkey", None):
        try:
            parse_vkey(args.vkey)
        except HeduiError:
            raise AuditCliError(
                "--vkey is not a verifier key: it looks like name+keyid+base64, as "
                "`hedui audit checkpoint` prints it") from None
    try:
        origin, key_name, vkey = read_meta(args.db, prefix=args.prefix)
    except HeduiError:
        raise
    except Exception as exc:
        raise AuditCliError(f"cannot read an audit log at {args.db}: {exc}") from None
    if getattr(args, "vkey", None) and args.vkey != vkey:
        raise AuditCliError(
            "the log's stored checkpoint key differs from the pinned --vkey: the log was "
            "replaced or re-keyed; do not trust it"
        )
    _, verify_key = parse_vkey(vkey)
    pseudonym_key = None
    if getattr(args, "pseudonym_key", None):
        pseudonym_key = load_secret(args.pseudonym_key)
    signing_key = None
    if writable and getattr(args, "signing_key", None):
        signing_key = keyfile.load_signing_key(args.signing_key)
    from hedui.audit.meta import PseudonymKeyError

    try:
        log = AuditLog.open(args.db, origin=origin, key_name=key_name, prefix=args.prefix,
                            verify_key=None if signing_key else verify_key,
                            signing_key=signing_key, pseudonym_key=pseudonym_key,
                            writable=writable)
    except PseudonymKeyError as exc:
        raise AuditCliError(str(exc)) from None
    if log.key_check_recorded:
        print("hedui: this log had no pseudonym key check value yet: recorded the one of "
              "--pseudonym-key, so from now on searches and the log's writers must use "
              "this key", file=sys.stderr)
    return log, vkey


def _recorder(log, args: argparse.Namespace):
    from hedui.audit.entries import AccessRecorder
    from hedui.audit.pseudonym import Pseudonymizer

    if not args.pseudonym_key:
        raise AuditCliError("give --pseudonym-key FILE: searches by person need the audit "
                            "pseudonym key")
    return AccessRecorder(log, actor=f"audit-cli:{args.officer}",
                          pseudonymizer=Pseudonymizer(load_secret(args.pseudonym_key)))


# ---------------------------------------------------------------- commands


def _verify(args: argparse.Namespace) -> int:
    """Exit 0 intact, 1 damaged (one line naming where), 2 unreadable or another key."""
    from hedui.audit.errors import TamperError

    try:
        log, _ = _open(args)
    except TamperError as exc:  # the meta row itself
        return _damaged(exc)
    try:
        size = log.verify_all()
        latest = log.latest_checkpoint()
    except TamperError as exc:
        return _damaged(exc)
    finally:
        log.close()
    pinned = "pinned key" if args.vkey else "the key stored in the log (pin it with --vkey)"
    signed = log.open_note(latest).size if latest else 0
    print(f"audit log intact: {size} entries, every leaf and subtree hash recomputed; "
          f"checkpoints up to size {signed} verify against {pinned}")
    return 0


def _damaged(exc: Exception) -> int:
    message = " ".join(str(exc).split())  # one line, whatever a damaged value held
    print(f"AUDIT LOG DAMAGED: {message}", file=sys.stderr)
    return 1


def _parse_time(value: str | None, what: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise AuditCliError(f"--{what} {value!r} is not an ISO date or time") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _kinds(names: list[str]) -> frozenset[int]:
    from hedui.v1 import audit_pb2

    out = set()
    all_kinds = list(audit_pb2.AuditKind.keys())
    for n in names:
        key = "AUDIT_KIND_" + n.upper().replace("-", "_")
        if key not in all_kinds:
            known = ", ".join(k.removeprefix("AUDIT_KIND_").lower().replace("_", "-")
                              for k in all_kinds[1:])
            raise AuditCliError(f"unknown --kind {n!r}; one of: {known}")
        out.add(audit_pb2.AuditKind.Value(key))
    return frozenset(out)


def _row(hit) -> dict:
    from hedui.timestamps import from_timestamp
    from hedui.v1 import audit_pb2

    e = hit.entry
    return {
        "leaf": hit.leaf_index,
        "time": from_timestamp(e.time).isoformat(timespec="seconds"),
        "kind": audit_pb2.AuditKind.Name(e.kind).removeprefix("AUDIT_KIND_").lower(),
        "outcome": audit_pb2.AuditOutcome.Name(e.outcome).removeprefix("AUDIT_OUTCOME_").lower(),
        "actor": e.actor, "operator": e.operator, "case": e.case_id, "purpose": e.purpose,
        "department": e.department, "fields": list(e.field_paths),
        "subjects": list(e.subject_pseudonyms), "reason": e.reason,
        "query_digest": e.query_digest.hex(), "answer_digest": e.answer_digest.hex(),
        "reason_code": e.reason_code, "client": e.client, "what": _what(e),
        "role": e.role,
    }


#: what an access report says happened, for the kinds a person asks about most
_WHAT = {
    "CASE_VIEWED": "looked at the case / 查看案件",
    "CASES_LISTED": "saw the case in a list, masked / 案件列表（脱敏）",
    "REPORT_VIEWED": "read the report / 查看认定报告",
    "AUTHORIZATION_REGISTERED": "authorization registered / 登记授权书",
    "AUTHORIZATION_REVOKED": "authorization revoked / 撤销授权书",
}


def _what(entry) -> str:
    """The access in words (a refusal with its reason code); empty for the other kinds,
    which the kind column names."""
    from hedui.v1 import audit_pb2

    name = audit_pb2.AuditKind.Name(entry.kind).removeprefix("AUDIT_KIND_")
    if name == "REQUEST_REFUSED":
        return f"refused / 拒绝: {entry.reason_code or '?'}"
    return _WHAT.get(name, "")


def _table(rows: list[dict], columns: list[str]) -> str:
    """Aligned for Chinese text too, and never cut: a cut pseudonym or case id cannot be
    searched for again (``hedui.tables``)."""
    if not rows:
        return "(no entries)"
    cells = [[str(r[c]) if not isinstance(r[c], list) else ",".join(r[c]) for c in columns]
             for r in rows]
    return "\n".join(render(columns, cells))


def _search(args: argparse.Namespace) -> int:
    from hedui.audit.search import AuditQueries, Criteria

    log, _ = _open(args, writable=True)
    try:
        recorder = _recorder(log, args) if args.id_number or args.pseudonym_key else None
        pseudonym = None
        if args.id_number:
            try:
                pseudonym = recorder.pseudonymizer.pseudonym(args.id_number)
            except HeduiError as exc:
                raise AuditCliError(f"--id: {exc}") from None
        criteria = Criteria(
            subject_pseudonym=pseudonym, operator=args.operator,
            department=args.department, purpose=args.purpose, case_id=args.case,
            kinds=_kinds(args.kind), since=_parse_time(args.since, "since"),
            until=_parse_time(args.until, "until"),
        )
        if recorder is None:
            raise AuditCliError("give --pseudonym-key FILE: every search is itself logged "
                                "under your staff id (--officer)")
        hits, truncated = AuditQueries(log, recorder).search(
            criteria, searched_by=args.officer, limit=args.limit)
        _publish(log, args)
    finally:
        log.close()
    rows = [_row(h) for h in hits]
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        print(_table(rows, ["leaf", "time", "kind", "outcome", "operator", "department",
                            "purpose", "case", "reason"]))
        if truncated:
            print(f"(more than {args.limit} entries matched; narrow the search or raise --limit)")
    return 0


def _subject_report(args: argparse.Namespace) -> int:
    from hedui.audit.search import AuditQueries

    log, _ = _open(args, writable=True)
    try:
        recorder = _recorder(log, args)
        try:
            hits = AuditQueries(log, recorder).subject_report(args.id_number,
                                                              requested_by=args.officer)
        except HeduiError as exc:
            raise AuditCliError(f"--id: {exc}") from None
        _publish(log, args)
    finally:
        log.close()
    rows = [_row(h) for h in hits]
    if args.json:
        print(json.dumps({"accesses": rows}, ensure_ascii=False, indent=1))
        return 0
    print(f"Access report for one person ({len(rows)} recorded accesses to their data)")
    print("个人信息查询记录 — who read which of your records, when, for which programme and "
          "case, with what result")
    print(_table(rows, ["time", "actor", "operator", "role", "department", "purpose", "case",
                        "kind", "outcome", "what", "fields"]))
    return 0


def _publish(log, args: argparse.Namespace) -> None:
    """Sign a checkpoint covering the new entry when this tool holds the log's key."""
    if getattr(args, "signing_key", None):
        log.checkpoint()


def _proof(args: argparse.Namespace) -> int:
    """A proof against a signed checkpoint: the only root a third party can trust."""
    from hedui.audit import proof_file

    log, _ = _open(args, writable=bool(args.signing_key))
    try:
        if args.signing_key:
            log.checkpoint()
        found = log.signed_checkpoint(args.size)
        if found is None:
            raise AuditCliError(
                "the log has no signed checkpoint yet" if args.size is None else
                f"the log signed no checkpoint of {args.size} entries; give the size of "
                "one it signed, or leave --size out for the latest")
        note, cp = found
        files: dict[str, bytes] = {f"checkpoint-{cp.size}.txt": note.encode()}
        if args.leaf is not None:
            if not 0 <= args.leaf < cp.size:
                raise AuditCliError(
                    f"entry {args.leaf} is not covered by the signed checkpoint of {cp.size} "
                    "entries yet: the gateway signs a newer one when it next serves a query "
                    "or report; or give --signing-key (the log's key) to sign one now")
            entry = log.leaf(args.leaf)
            doc = proof_file.inclusion_document(
                cp, args.leaf, entry, log.inclusion_proof(args.leaf, cp.size))
            name = f"proof-entry-{args.leaf}-at-{cp.size}.json"
            files[f"entry-{args.leaf}.bin"] = entry
        else:
            old_found = log.signed_checkpoint(args.old_size)
            if old_found is None or not 0 < args.old_size <= cp.size:
                raise AuditCliError(f"--from {args.old_size}: the log signed no checkpoint "
                                    f"of that size at or below {cp.size} entries")
            old_note, old = old_found
            doc = proof_file.consistency_document(
                old, cp, log.consistency_proof(old.size, cp.size))
            name = f"proof-consistency-{old.size}-to-{cp.size}.json"
            files[f"checkpoint-{old.size}.txt"] = old_note.encode()
    except HeduiError as exc:
        raise AuditCliError(str(exc)) from None
    finally:
        log.close()
    text = json.dumps(doc, indent=1)
    if not args.out:
        print(text)
        return 0
    from pathlib import Path

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text + "\n", encoding="utf-8")
        for file_name, data in files.items():
            (out / file_name).write_bytes(data)
    except OSError as exc:
        raise AuditCliError(f"cannot write into {out}: {exc.strerror}") from None
    print(f"wrote {name} and {', '.join(files)} to {out}: check them with "
          "hedui audit verify-proof")
    return 0


def _verify_proof(args: argparse.Namespace) -> int:
    """Exit 0 OK, 1 the proof does not hold, 2 the inputs cannot be checked."""
    from hedui.audit import proof_file

    try:
        doc = proof_file.load_document(proof_file.read_input(args.proof, "proof file"),
                                       args.proof)
        note = proof_file.read_input(args.checkpoint, "checkpoint file")
        if args.entry is not None:
            line = proof_file.check_inclusion(
                doc, proof_file.read_input(args.entry, "entry file"), note, args.vkey)
        else:
            line = proof_file.check_consistency(
                doc, proof_file.read_input(args.old_checkpoint, "checkpoint file"), note,
                args.vkey)
    except proof_file.ProofFailed as exc:
        print(f"PROOF FAILED: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except proof_file.ProofInputError as exc:
        raise AuditCliError(str(exc)) from None
    print(line)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from hedui.audit.migrations import upgrade

    revision = upgrade(database_url(args.db), prefix=args.prefix, schema=args.schema)
    print(f"audit log at revision {revision}")
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    log, vkey = _open(args)
    try:
        note = log.latest_checkpoint()
        cp = log.open_note(note) if note else None
    finally:
        log.close()
    if cp is None:
        raise AuditCliError("the log has no signed checkpoint yet")
    print(json.dumps({
        "origin": cp.origin, "size": cp.size, "root": base64.b64encode(cp.root).decode(),
        "note": note, "vkey": vkey,
    }, indent=1, ensure_ascii=False))
    return 0

"""What `hedui verify` and `hedui case` do for a verifier, through the gateway's API.

The CLI is a client like any other: it registers the household's authorization,
opens the case, has it verified, fetches the signed report and writes it as
``.dsse`` (for `hedui report verify`), ``.json`` and a printable ``.html``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import grpc

from hedui.errors import HeduiError
from hedui.gateway import household as household_mod
from hedui.gateway.case_states import next_step
from hedui.gateway.client import GatewayClient, GatewayError
from hedui.v1 import case_pb2, common_pb2, envelope_pb2

#: the batch CSV's application-date column, in either language
APPLICATION_DATE_COLUMNS = ("application_date", "申请日期")

OUTCOME_WORDS = {
    case_pb2.OUTCOME_ELIGIBLE: "eligible / 符合条件",
    case_pb2.OUTCOME_INELIGIBLE: "ineligible / 不符合条件",
    case_pb2.OUTCOME_INCOMPLETE: "incomplete / 核对未完成",
    case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW: "needs manual review / 需人工复核",
}


def state_word(state: int) -> str:
    return case_pb2.CaseState.Name(state).removeprefix("CASE_STATE_").lower()


def register_authorization(client: GatewayClient, auth: case_pb2.Authorization) -> None:
    """Register the household's authorization unless it is registered already."""
    try:
        client.call(client.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=auth, operator=client.config.operator))
    except GatewayError as exc:
        if exc.reason != "AUTHORIZATION_ALREADY_REGISTERED":
            raise


def decide(client: GatewayClient, hh: household_mod.Household,
           batch_key: str | None = None) -> case_pb2.Case:
    """Open and verify one household's case; returns the case as it ends."""
    register_authorization(client, hh.authorization)
    request = case_pb2.OpenCaseRequest(
        programme=hh.programme, region=hh.region, members=hh.members,
        authorization_number=hh.authorization.number, operator=client.config.operator,
        request_id=batch_key or "")
    if hh.application_date is not None:
        d = hh.application_date
        request.application_date.CopyFrom(common_pb2.Date(year=d.year, month=d.month, day=d.day))
    case = client.call(client.cases.OpenCase, request)
    return client.call(client.cases.VerifyCase, case_pb2.VerifyCaseRequest(
        case_id=case.case_id, operator=client.config.operator), timeout=120)


def write_report(client: GatewayClient, case_id: str, out: Path) -> Path:
    from hedui.gateway.report import report_to_json
    from hedui.gateway.report_html import render_html

    envelope: envelope_pb2.Envelope = client.call(client.cases.GetReport, case_pb2.GetReportRequest(
        case_id=case_id, operator=client.config.operator))
    report = case_pb2.DeterminationReport()
    report.ParseFromString(envelope.payload)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{case_id}.report.dsse"
    path.write_bytes(envelope.SerializeToString())
    (out / f"{case_id}.report.json").write_text(report_to_json(report), encoding="utf-8")
    (out / f"{case_id}.report.html").write_text(render_html(report), encoding="utf-8")
    return path


def summary(case: case_pb2.Case, *, steps: bool = False) -> str:
    """The case in a few lines; ``steps`` adds the application date and what to do next
    (``hedui case get``)."""
    lines = [f"case {case.case_id}: {state_word(case.state)}"]
    if case.state == case_pb2.CASE_STATE_DECIDED:
        lines[0] += f" — {OUTCOME_WORDS.get(case.outcome, '?')}"
    if case.state_reason:
        lines.append(f"  reason: {case.state_reason}")
    if steps and case.HasField("application_date"):
        a = case.application_date
        lines.append(f"  申请日期 / application date: {a.year:04d}-{a.month:02d}-{a.day:02d}")
    for d in case.departments:
        state = case_pb2.DepartmentStatus.State.Name(d.state).removeprefix("STATE_").lower()
        extra = f" ({d.reason})" if d.reason else ""
        lines.append(f"  {d.department:<18} {state}{extra}")
    if steps:
        lines += next_step(case)
    return "\n".join(lines)


def verify_household(client: GatewayClient, path: Path, out: Path, *,
                     programme: str | None, application_date: dt.date | None = None) -> int:
    """``hedui verify --household``; ``application_date`` overrides the file's."""
    hh = household_mod.load(path, programme=programme).with_application_date(application_date)
    case = decide(client, hh)
    print(summary(case))
    if case.state == case_pb2.CASE_STATE_DECIDED:
        report = write_report(client, case.case_id, out)
        print(f"report written to {report} (and .json, .html)")
        return 0
    print(f"the case is {state_word(case.state)}; run `hedui case retry {case.case_id}` later")
    return 3


def case_command(client: GatewayClient, args: argparse.Namespace) -> int:
    op = client.config.operator
    if args.command == "get":
        print(summary(client.call(client.cases.GetCase,
                                  case_pb2.GetCaseRequest(case_id=args.case_id, operator=op)),
                      steps=True))
    elif args.command == "cancel":
        case = client.call(client.cases.CancelCase, case_pb2.CancelCaseRequest(
            case_id=args.case_id, reason=args.reason, operator=op))
        print(summary(case))
    elif args.command == "retry":
        case = client.call(client.cases.RetryCase,
                           case_pb2.RetryCaseRequest(case_id=args.case_id, operator=op),
                           timeout=120)
        print(summary(case))
        return 0 if case.state == case_pb2.CASE_STATE_DECIDED else 3
    elif args.command == "report":
        print(f"report written to {write_report(client, args.case_id, Path(args.out))}")
    elif args.command == "list":
        state = 0
        if args.state:
            name = "CASE_STATE_" + args.state.upper().replace("-", "_")
            if name not in list(case_pb2.CaseState.keys()):
                raise HeduiError(f"unknown state {args.state!r}")
            state = case_pb2.CaseState.Value(name)
        reply = client.call(client.cases.ListCases, case_pb2.ListCasesRequest(
            state=state, programme=args.program or "", operator=op, page_size=200))
        for c in reply.cases:
            outcome = OUTCOME_WORDS.get(c.outcome, "") if c.outcome else ""
            print(f"{c.case_id}  {c.programme:<12} {state_word(c.state):<12} {outcome}")
    return 0


# ---------------------------------------------------------------- batch


def run_batch(client: GatewayClient, csv_path: Path, out: Path, *, concurrency: int) -> int:
    """Re-verify many households; resumable: finished rows are kept in a progress file.

    The CSV has a header with ``household`` (path to a household TOML, relative to
    the CSV) and optionally ``previous_outcome`` and ``application_date`` (or
    ``申请日期``; overrides the household file's). Progress goes to
    ``<out>/<csv name>.progress.jsonl``; a re-run skips households already decided
    and resumes the others (opening is idempotent per batch row).
    """
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as f:  # spreadsheets add a BOM
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise HeduiError(f"cannot read batch file {csv_path}: {exc.strerror}") from None
    if rows and "household" not in rows[0]:
        raise HeduiError(f"{csv_path}: the header needs a 'household' column")
    # every row is read and checked before any case is opened: a typo stops the batch
    households = [_batch_household(csv_path, n, row) for n, row in enumerate(rows, 2)]
    out.mkdir(parents=True, exist_ok=True)
    progress_file = out / f"{csv_path.stem}.progress.jsonl"
    done: dict[str, dict] = {}
    if progress_file.exists():
        for line in progress_file.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            done[rec["row"]] = rec
    todo = [(i, r) for i, r in enumerate(rows) if done.get(str(i), {}).get("state") != "decided"]
    finished = len(rows) - len(todo)

    def one(i: int, row: dict) -> dict:
        hh = households[i]
        try:
            case = decide(client, hh, batch_key=f"{csv_path.name}#{i}")
        except GatewayError as exc:
            if exc.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                            grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL):
                # the gateway (or a replica) went away mid-case: the row is resumed by
                # running the batch again; its case, if opened, is found by request id
                return {"row": str(i), "state": "interrupted", "reason": str(exc)}
            return {"row": str(i), "state": "refused", "reason": str(exc)}
        return {"row": str(i), "case_id": case.case_id, "state": state_word(case.state),
                "outcome": OUTCOME_WORDS.get(case.outcome, "") if case.outcome else "",
                "previous_outcome": row.get("previous_outcome", "")}

    with progress_file.open("a", encoding="utf-8") as progress, \
            ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [pool.submit(one, i, r) for i, r in todo]
        for fut in as_completed(futures):
            rec = fut.result()  # results are taken here, in this thread only
            done[rec["row"]] = rec
            progress.write(json.dumps(rec, ensure_ascii=False) + "\n")
            progress.flush()
            finished += 1
            _bar(finished, len(rows))
    print(file=sys.stderr)
    return _batch_summary(rows, done)


def _batch_household(csv_path: Path, line: int, row: dict) -> household_mod.Household:
    """One batch row's household, with the row's application date when it has one."""
    where = f"{csv_path}, line {line}"
    if not (row.get("household") or "").strip():
        raise HeduiError(f"{where}: the household column is empty")
    hh = household_mod.load(csv_path.parent / row["household"].strip())
    value = next((row[c] for c in APPLICATION_DATE_COLUMNS if (row.get(c) or "").strip()), None)
    if value is None:
        return hh
    return hh.with_application_date(household_mod.parse_date(value, f"{where}: application_date"))


def _bar(n: int, total: int) -> None:
    width = 40
    filled = int(width * n / max(total, 1))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {n}/{total}", end="", file=sys.stderr,
          flush=True)


def _batch_summary(rows: list[dict], done: dict[str, dict]) -> int:
    states: dict[str, int] = {}
    changed = []
    for i, row in enumerate(rows):
        rec = done.get(str(i), {})
        states[rec.get("state", "not run")] = states.get(rec.get("state", "not run"), 0) + 1
        prev = row.get("previous_outcome", "").strip().lower()
        now = rec.get("outcome", "")
        if prev and now and not now.startswith(prev):
            changed.append((row["household"], prev, now))
    print("batch: " + ", ".join(f"{v} {k}" for k, v in sorted(states.items())))
    if changed:
        print(f"{len(changed)} outcome(s) changed since last verification:")
        for household, prev, now in changed:
            print(f"  {household}: {prev} -> {now}")
    incomplete = (states.get("incomplete", 0) + states.get("querying", 0)
                  + states.get("interrupted", 0))
    if incomplete:
        print(f"{incomplete} case(s) incomplete or interrupted; run the batch again to "
              "retry them")
    return 0 if not incomplete and not states.get("refused") else 3

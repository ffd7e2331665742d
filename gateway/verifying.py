"""What `hedui verify` and `hedui case` do for a verifier, through the gateway's API.

The CLI is a client like any other: it registers the household's authorization,
opens the case, has it verified, fetches the signed report and writes it as
``.dsse`` (for `hedui report verify`), ``.json`` and a printable ``.html``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from hedui.errors import HeduiError
from hedui.gateway import household as household_mod
from hedui.gateway.case_states import late_contacts, next_step
from hedui.gateway.client import GatewayClient, GatewayError
from hedui.gateway.masking import mask_name
from hedui.tables import render
from hedui.v1 import case_pb2, common_pb2, envelope_pb2, records_pb2

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
           batch_key: str | None = None, *, again: str = "") -> case_pb2.Case:
    """Open and verify one household's case; returns the case as it ends. ``again``:
    why the household is verified again although a case of the programme for it is under
    way or was decided recently (the gateway refuses SAME_HOUSEHOLD_RECENT without)."""
    register_authorization(client, hh.authorization)
    request = case_pb2.OpenCaseRequest(
        programme=hh.programme, region=hh.region, members=hh.members,
        authorization_number=hh.authorization.number, operator=client.config.operator,
        request_id=batch_key or "", repeat_reason=again)
    if hh.application_date is not None:
        d = hh.application_date
        request.application_date.CopyFrom(common_pb2.Date(year=d.year, month=d.month, day=d.day))
    case = client.call(client.cases.OpenCase, request)
    return client.call(client.cases.VerifyCase, case_pb2.VerifyCaseRequest(
        case_id=case.case_id, operator=client.config.operator), timeout=120)


def write_report(client: GatewayClient, case_id: str, out: Path) -> Path:
    """Fetch a decided case's signed report and write it as .dsse, .json and .html."""
    return fetch_report(client, case_id, out)[0]


def fetch_report(client: GatewayClient, case_id: str, out: Path
                 ) -> tuple[Path, case_pb2.DeterminationReport]:
    """:func:`write_report`, also returning the report (a batch lists its reasons)."""
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
    return path, report


#: where a verifier's command has done its part (exit 0): decided, or with the reviewer
DONE_FOR_THE_VERIFIER = (case_pb2.CASE_STATE_DECIDED, case_pb2.CASE_STATE_AWAITING_REVIEW)


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
        contacts = late_contacts(case)
        if contacts:
            lines.append("  联系 / who to call:")
            lines += contacts
        lines += next_step(case)
    return "\n".join(lines)


def same_household_hint(exc: GatewayError, how: str) -> str:
    """The one line for a household verified again without a reason: the gateway's
    (naming the case that stops it, its state and date) and ``how`` to go on anyway."""
    return f"{exc}; to verify it again anyway, {how}"


def verify_household(client: GatewayClient, path: Path, out: Path, *,
                     programme: str | None, application_date: dt.date | None = None,
                     again: str = "") -> int:
    """``hedui verify --household``; ``application_date`` overrides the file's, ``again``
    is the reason for verifying it again (``--again``)."""
    hh = household_mod.load(path, programme=programme).with_application_date(application_date)
    try:
        case = decide(client, hh, again=again)
    except GatewayError as exc:
        if exc.reason == "SAME_HOUSEHOLD_RECENT":
            raise HeduiError(same_household_hint(
                exc, 'add --again "why it is verified again"')) from None
        raise
    print(summary(case))
    if case.state == case_pb2.CASE_STATE_DECIDED:
        report = write_report(client, case.case_id, out)
        print(f"report written to {report} (and .json, .html)")
        return 0
    if case.state == case_pb2.CASE_STATE_AWAITING_REVIEW:
        # the verifier's part is done: a reviewer approves before the report is issued
        print("\n".join(next_step(case)))
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
        if case.state == case_pb2.CASE_STATE_AWAITING_REVIEW:  # the verifier's part is done
            print("\n".join(next_step(case)))
        return 0 if case.state in DONE_FOR_THE_VERIFIER else 3
    elif args.command == "report":
        print(f"report written to {write_report(client, args.case_id, Path(args.out))}")
    elif args.command == "list":
        return list_cases(client, state=args.state, programme=args.program, limit=args.limit)
    return 0


#: the listing's columns, Chinese first
LIST_HEADER = ("申请日期/date", "案件/case", "项目/programme", "申请人/applicant", "状态/state",
               "结果/outcome", "等待部门/waiting for")


def list_cases(client: GatewayClient, *, state: str | None, programme: str | None,
               limit: int = 200) -> int:
    """``hedui case list``: an aligned table, newest first, members masked; says so when
    nothing matches, and when more cases exist than ``limit`` shows."""
    code = 0
    if state:
        name = "CASE_STATE_" + state.strip().upper().replace("-", "_").replace(" ", "_")
        if name not in list(case_pb2.CaseState.keys()) or name == "CASE_STATE_UNSPECIFIED":
            known = ", ".join(n.removeprefix("CASE_STATE_").lower()
                              for n in case_pb2.CaseState.keys()[1:])
            raise HeduiError(f"unknown state {state!r}; known: {known}")
        code = case_pb2.CaseState.Value(name)
    cases: list[case_pb2.Case] = []
    token = ""
    while len(cases) < limit:
        reply = client.call(client.cases.ListCases, case_pb2.ListCasesRequest(
            state=code, programme=programme or "", operator=client.config.operator,
            page_size=min(limit - len(cases), 200), page_token=token))
        cases.extend(reply.cases)
        token = reply.next_page_token
        if not token or not reply.cases:
            break
    more = bool(token)
    which = ", ".join(x for x in (f"state {state}" if state else "",
                                  f"programme {programme}" if programme else "") if x)
    if not cases:
        print("no cases" + (f" ({which})" if which else "") + " / 没有案件")
        return 0
    for line in render(LIST_HEADER, [listing_row(c) for c in cases]):
        print(line)
    print(f"{len(cases)} case(s)" + (f" ({which})" if which else "")
          + (f"; more exist — narrow with --state/--program or raise --limit {limit}"
             if more else ""))
    return 0


def listing_row(case: case_pb2.Case) -> list[str]:
    """One listed case: date, id, programme, applicant (masked), state, outcome, waiting."""
    a = case.application_date
    date = f"{a.year:04d}-{a.month:02d}-{a.day:02d}" if case.HasField("application_date") \
        else ""
    applicant = next((m for m in case.members if m.relation == records_pb2.RELATION_SELF),
                     case.members[0] if case.members else None)
    outcome = OUTCOME_WORDS.get(case.outcome, "") \
        if case.state == case_pb2.CASE_STATE_DECIDED else ""
    waiting = [d.department for d in case.departments
               if d.state != case_pb2.DepartmentStatus.STATE_ANSWERED]
    return [date, case.case_id, case.programme,
            mask_name(applicant.name) if applicant is not None else "",
            state_word(case.state), outcome,
            ", ".join(waiting) if case.state != case_pb2.CASE_STATE_DECIDED else ""]

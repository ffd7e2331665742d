"""`hedui verify --batch`: re-verify a list of households, resumably, row by row.

The list is a CSV (UTF-8 with or without BOM, GB18030/GBK, UTF-16 as Excel saves
"Unicode text") or an ``.xlsx`` workbook, read by ``hedui.textfiles``. Its columns, in
English or Chinese (any order; others are ignored):

* ``household`` / ``家庭文件`` / ``户`` — the household TOML, relative to the list;
* ``application_date`` / ``申请日期`` — optional, overrides the file's;
* ``previous_outcome`` / ``原结果`` / ``上次结果`` — optional; the outcome last time;
* ``repeat_reason`` / ``复核原因`` — optional; why the household is verified again
  although a case of its programme is under way or was decided recently. Without it
  such a row is refused (SAME_HOUSEHOLD_RECENT, naming that case) and the others go on.

Every row is checked before any case is opened; a row that fails its check (no such
file, a wrong ID number or date) is recorded as failed with its reason and the others
go on — one typo does not hold up a county's re-verification. Each result is appended
to ``<out>/<list>.progress.jsonl`` as it arrives; a re-run skips decided rows and
resumes the others. Opening is idempotent per row (``OpenCaseRequest.request_id``): the
id is this batch's own (``<out>/<list>.batch-id``) and the row's household, so next
year's ``batch.csv`` is not answered with this year's cases, nor a row moved by an
edited list with another household's. At the end the results spreadsheet
(``batch_results``) is rewritten whole, also after an interruption.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import grpc

from hedui.errors import HeduiError
from hedui.gateway import household as household_mod
from hedui.gateway.batch_results import (
    OUTCOME_KEYS,
    ResultRow,
    changed,
    previous_key,
    write_results,
)
from hedui.gateway.client import GatewayClient, GatewayError
from hedui.gateway.masking import mask_name
from hedui.textfiles import Table, read_table
from hedui.v1 import case_pb2, records_pb2

#: a list's columns, each by any of its names (English first)
HOUSEHOLD_COLUMNS = ("household", "家庭文件", "户")
APPLICATION_DATE_COLUMNS = ("application_date", "申请日期")
PREVIOUS_OUTCOME_COLUMNS = ("previous_outcome", "原结果", "上次结果")
REPEAT_REASON_COLUMNS = ("repeat_reason", "复核原因")

#: gRPC codes after which the row is resumed by running the batch again
_RESUMABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL)


@dataclass(frozen=True)
class Row:
    """One row of the list, checked: ``problem`` says why it cannot be run."""

    index: int
    line: int
    household: str
    previous_text: str
    previous: str | None = None
    hh: household_mod.Household | None = None
    problem: str = ""
    #: why the household is verified again (``OpenCaseRequest.repeat_reason``)
    repeat_reason: str = ""

    @property
    def applicant(self) -> str:
        if self.hh is None:
            return ""
        self_ = next((m for m in self.hh.members if m.relation == records_pb2.RELATION_SELF),
                     self.hh.members[0])
        return mask_name(self_.name)


def column(table: Table, names: tuple[str, ...]) -> str | None:
    """The header cell naming one of ``names``: case, spaces and ``-`` do not matter, and
    a bilingual ``原结果 / previous outcome`` matches either half."""
    def norm(text: str) -> str:
        return "_".join(text.strip().lower().replace("-", " ").split())

    wanted = {norm(n) for n in names}
    for cell in table.header:
        parts = [cell, *cell.replace("／", "/").split("/")]
        if any(norm(p) in wanted for p in parts):
            return cell
    return None


def read_rows(path: Path) -> list[Row]:
    """The list's rows, each checked; a list that cannot be read at all is one line."""
    table = read_table(path)
    col = column(table, HOUSEHOLD_COLUMNS)
    if col is None:
        found = ", ".join(h for h in table.header if h) or "nothing"
        raise HeduiError(f"{path}: the header needs a household column (household, 家庭文件 "
                         f"or 户; found: {found})")
    date_col = column(table, APPLICATION_DATE_COLUMNS)
    prev_col = column(table, PREVIOUS_OUTCOME_COLUMNS)
    again_col = column(table, REPEAT_REASON_COLUMNS)
    rows = []
    for index, (line, cells) in enumerate(table.rows):
        where = f"line {line}"
        name = cells.get(col, "").strip().replace("\\", "/")  # Windows paths
        previous_text = cells.get(prev_col, "") if prev_col else ""
        try:
            if not name:
                raise HeduiError(f"{where}: the household column is empty")
            previous = previous_key(previous_text)
            hh = household_mod.load(path.parent / name)
            value = cells.get(date_col, "").strip() if date_col else ""
            if value:
                hh = hh.with_application_date(
                    household_mod.parse_date(value, f"{where}: application_date"))
        except HeduiError as exc:
            text = str(exc)
            rows.append(Row(index, line, name, previous_text,
                            problem=text if text.startswith(where) else f"{where}: {text}"))
            continue
        again = cells.get(again_col, "").strip() if again_col else ""
        rows.append(Row(index, line, name, previous_text, previous, hh, repeat_reason=again))
    if not rows:
        raise HeduiError(f"{path}: the list has a header but no households")
    return rows


class Progress:
    """The progress file (one JSON record per line, the last one per row wins) and the
    batch's own id for request ids."""

    def __init__(self, out: Path, list_path: Path) -> None:
        self.path = out / f"{list_path.stem}.progress.jsonl"
        self.done: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self.done[rec["row"]] = rec
        id_file = out / f"{list_path.stem}.batch-id"
        if id_file.exists():
            self.batch_id: str | None = id_file.read_text(encoding="ascii").strip()
        elif self.done:
            self.batch_id = None  # started by an older hedui: keep its request ids
        else:
            self.batch_id = secrets.token_hex(8)
            id_file.write_text(self.batch_id + "\n", encoding="ascii")
        self.list_name = list_path.name

    def request_id(self, row: Row) -> str:
        """The row's idempotency key: this batch and the row's household."""
        if self.batch_id is None:
            return f"{self.list_name}#{row.index}"
        assert row.hh is not None
        digest = hashlib.sha256(f"{row.household}\0{row.hh.authorization.number}\0"
                                f"{row.hh.programme}".encode()).hexdigest()[:20]
        return f"batch-{self.batch_id}-{digest}"

    def record_of(self, row: Row) -> dict:
        """The row's last record, unless it was another household's (an edited list)."""
        rec = self.done.get(str(row.index), {})
        return rec if rec.get("household", row.household) == row.household else {}


def run_batch(client: GatewayClient, list_path: Path, out: Path, *, concurrency: int) -> int:
    """Re-verify the list's households; exit 0 when every row is decided, else 3."""
    rows = read_rows(list_path)
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(out, list_path)
    todo = [r for r in rows if _needs_work(progress.record_of(r), out)]
    finished = len(rows) - len(todo)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        with progress.path.open("a", encoding="utf-8") as log:
            futures: list[Future] = [pool.submit(_one, client, progress, r, out) for r in todo]
            for fut in as_completed(futures):
                rec = fut.result()  # never raises: _one records every failure
                progress.done[rec["row"]] = rec
                log.write(json.dumps(rec, ensure_ascii=False) + "\n")
                log.flush()
                finished += 1
                _bar(finished, len(rows))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        print(file=sys.stderr)
        results = [ResultRow(r.line, r.household, r.applicant, progress.record_of(r))
                   for r in rows]
        sheet, sheet_csv = write_results(results, out / f"{list_path.stem}.results.xlsx")
    return _summary(results, sheet, sheet_csv)


def _needs_work(rec: dict, out: Path) -> bool:
    """A row is done once decided with its report on disk."""
    return rec.get("state") != "decided" or not (out / rec.get("report", "")).is_file()


def _one(client: GatewayClient, progress: Progress, row: Row, out: Path) -> dict:
    """Run one row; every failure becomes the row's record, never an exception."""
    from hedui.gateway import verifying

    rec: dict = {"row": str(row.index), "line": row.line, "household": row.household,
                 "previous_outcome": row.previous_text, "previous_key": row.previous}
    if row.problem:
        return {**rec, "state": "failed", "reason": row.problem}
    assert row.hh is not None
    try:
        case = verifying.decide(client, row.hh, batch_key=progress.request_id(row),
                                again=row.repeat_reason)
        rec |= {"case_id": case.case_id, "state": verifying.state_word(case.state),
                "outcome": verifying.OUTCOME_WORDS.get(case.outcome, "") if case.outcome
                else "", "outcome_key": OUTCOME_KEYS.get(case.outcome, "")
                if case.state == case_pb2.CASE_STATE_DECIDED else ""}
        if case.state != case_pb2.CASE_STATE_DECIDED:
            return rec | {"reasons": _waiting(case)}
        _path, report = verifying.fetch_report(client, case.case_id, out)
        return rec | {"report": f"{case.case_id}.report.html",
                      "reasons": [*report.reasons_zh, *report.reasons_en]}
    except GatewayError as exc:
        if exc.reason == "SAME_HOUSEHOLD_RECENT":
            return rec | {"state": "refused", "reason": f"line {row.line}: " + verifying.
                          same_household_hint(exc, "give the reason in its repeat_reason "
                                              "(复核原因) column")}
        # the gateway (or a replica) went away mid-case: running the batch again resumes
        # the row; its case, if opened, is found by its request id
        state = "interrupted" if exc.code in _RESUMABLE else "refused"
        if rec.get("state") == "decided":
            state = "decided"  # the report could not be fetched: the next run does
        return rec | {"state": state, "reason": f"line {row.line}: {exc}"}
    except (HeduiError, OSError) as exc:
        return rec | {"state": "failed", "reason": f"line {row.line}: {exc}"}
    except Exception as exc:  # a bug must not lose the rows that went well
        return rec | {"state": "failed",
                      "reason": f"line {row.line}: {type(exc).__name__}: {exc}"}


def _waiting(case: case_pb2.Case) -> list[str]:
    """Why an undecided case waits: its state reason and the departments not answered."""
    lines = [case.state_reason] if case.state_reason else []
    for d in case.departments:
        if d.state != case_pb2.DepartmentStatus.STATE_ANSWERED:
            state = case_pb2.DepartmentStatus.State.Name(d.state).removeprefix("STATE_").lower()
            lines.append(f"{d.department}: {state}" + (f" ({d.reason})" if d.reason else ""))
    return lines


def _bar(n: int, total: int) -> None:
    width = 40
    filled = int(width * n / max(total, 1))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {n}/{total}", end="", file=sys.stderr,
          flush=True)


def _summary(results: list[ResultRow], sheet: Path, sheet_csv: Path) -> int:
    from hedui.gateway.batch_results import OUTCOME_LABELS

    states: dict[str, int] = {}
    for r in results:
        state = r.record.get("state", "not run")
        states[state] = states.get(state, 0) + 1
    print("batch: " + ", ".join(f"{v} {k}" for k, v in sorted(states.items())))
    moved = changed(results)
    if moved:
        print(f"{len(moved)} outcome(s) changed since last verification:")
        for r in moved:
            print(f"  line {r.line} {r.household}: {OUTCOME_LABELS[r.record['previous_key']]}"
                  f" -> {OUTCOME_LABELS[r.record['outcome_key']]}")
    failed = [r for r in results if r.record.get("state") in ("failed", "refused")]
    if failed:
        print(f"{len(failed)} row(s) failed or refused (fix them and run the batch again):")
        for r in failed[:20]:
            print(f"  {r.record.get('reason', '')}")
        if len(failed) > 20:
            print(f"  … and {len(failed) - 20} more, in the results spreadsheet")
    waiting = sum(states.get(s, 0) for s in
                  ("incomplete", "querying", "interrupted", "open", "awaiting_offline_answer"))
    if waiting:
        print(f"{waiting} case(s) incomplete or interrupted; run the batch again to retry them")
    print(f"results: {sheet} (and {sheet_csv.name})")
    return 0 if states.get("decided", 0) == len(results) else 3

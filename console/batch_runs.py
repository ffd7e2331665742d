"""批量核对 in the console: an uploaded list read into households, run in the background,
its progress kept on disk so a reload (or a restart of the console) shows where it is.

**The list.** ``hedui verify --batch`` reads a list whose rows name household files on
the verifier's disk; a browser upload cannot bring those, so here each row is one
*member* and the rows of one household share its ``household`` / ``户`` cell. The file
is read by ``hedui.textfiles`` (xlsx; CSV in UTF-8 with or without BOM, GBK/GB18030),
headers match as ``hedui.gateway.batch`` matches them (any order, English or Chinese,
bilingual ``原结果 / previous outcome`` cells) and its optional columns are the CLI's
(``application_date``, ``previous_outcome``, ``repeat_reason``). Each member is checked
with the form's rules (``intake.py``); a household with a problem is shown with
it and not run, the others go on.

**The run.** A thread in the console process, a few households at a time, each as the
person who started it: RegisterAuthorization (when the list gives the authorization's
validity and document digest; an authorization already registered is fine), OpenCase
(idempotent per run and household, so resuming never opens a second case),
VerifyCase. Every result is appended to ``progress.jsonl`` as it comes; the results
sheet (``hedui.gateway.batch_results``) is built from it on download.

**At rest** (``state_dir/batches/<run>/``): ``run.json`` (who, when, how far), the list
sealed with a key derived from ``[keys] secrets`` (it holds ID numbers), and the
progress records, which hold no ID number and only masked names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.secret

from hedui import china_time
from hedui.console import reasons
from hedui.console.gateway import ConsoleGateway, Refused
from hedui.console.intake import (
    N_,
    PROGRAMME_CODE,
    digits,
    household_problem,
    id_problem,
    parse_day,
    pb_date,
    relation_of,
)
from hedui.errors import HeduiError
from hedui.gateway import batch as cli_batch
from hedui.gateway.batch_results import OUTCOME_KEYS, ResultRow, previous_key, write_results
from hedui.gateway.masking import mask_name
from hedui.resident_id import normalize
from hedui.textfiles import Table, read_table
from hedui.v1 import case_pb2, common_pb2, records_pb2

Gettext = Callable[[str], str]
MAX_UPLOAD = 20 * 1024 * 1024
CONCURRENCY = 4
VERIFY_TIMEOUT = 180.0

#: the member-per-row list's columns, each by any of its names (English first)
HOUSEHOLD = ("household", "户", "户号", "户编号", "家庭编号")
NAME = ("name", "姓名")
ID_NUMBER = ("id_number", "身份证号码", "身份证号", "公民身份号码")
RELATION = ("relation", "与申请人关系", "关系", "与户主关系")
PROGRAMME = ("programme", "program", "救助项目", "项目")
REGION = ("region", "行政区划代码", "区划代码")
TOWNSHIP = ("township", "乡镇代码", "乡镇（街道）代码")
AUTH_NUMBER = ("authorization_number", "authorization", "授权书编号")
SIGNED_ON = ("signed_on", "签署日期")
VALID_FROM = ("valid_from", "有效期自")
VALID_UNTIL = ("valid_until", "有效期至")
DOCUMENT = ("document_sha256", "授权书摘要", "扫描件摘要")
#: the columns the template sheet has, in order
TEMPLATE = ("户 / household", "姓名 / name", "身份证号码 / id_number", "关系 / relation",
            "救助项目 / programme", "行政区划代码 / region", "授权书编号 / authorization_number",
            "有效期自 / valid_from", "有效期至 / valid_until",
            "授权书摘要 / document_sha256", "申请日期 / application_date",
            "原结果 / previous_outcome", "复核原因 / repeat_reason")

#: states after which a resumed run leaves the household alone
SETTLED = ("decided", "awaiting_review", "cancelled", "refused", "failed")


class ListProblem(Exception):
    """The upload cannot be read as a list at all: ``message`` is the Chinese sentence."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def _same(message: str) -> str:
    return message


# ---------------------------------------------------------------- the list

@dataclass
class Household:
    """One household of the list, checked: ``problems`` say why it cannot be run."""

    index: int
    key: str
    lines: list[int]
    members: list[case_pb2.Member] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    programme: str = ""
    region: str = ""
    township: str = ""
    authorization: case_pb2.Authorization | None = None
    authorization_number: str = ""
    application_date: dt.date | None = None
    previous_text: str = ""
    previous: str | None = None
    repeat_reason: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def applicant(self) -> str:
        for m in self.members:
            if m.relation == records_pb2.RELATION_SELF:
                return mask_name(m.name)
        return mask_name(self.names[0]) if self.names else ""

    @property
    def line_span(self) -> str:
        first, last = min(self.lines), max(self.lines)
        return str(first) if first == last else f"{first}–{last}"

    def request_id(self, run_id: str) -> str:
        digest = hashlib.sha256(f"{self.key}\0{self.authorization_number}\0"
                                f"{self.programme}".encode()).hexdigest()[:20]
        return f"cb-{run_id}-{digest}"


def read_list(path: Path, name: str) -> Table:
    """The upload as a table; ListProblem in Chinese when it is no list at all."""
    try:
        table = read_table(path)
    except HeduiError as exc:
        detail = str(exc).replace(str(path), name)
        raise ListProblem(N_("无法读取该文件：请上传 .xlsx 工作簿，"
                             "或 UTF-8 / GBK 编码的 CSV 文件。"), detail) from None
    return table


def households(table: Table, *, programme: str = "", region: str = "",
               t: Gettext = _same) -> list[Household]:
    """The list's households, each checked; ListProblem when the header lacks a column
    every row needs."""
    col = {what: cli_batch.column(table, names) for what, names in (
        ("household", HOUSEHOLD), ("name", NAME), ("id", ID_NUMBER),
        ("relation", RELATION), ("programme", PROGRAMME), ("region", REGION),
        ("township", TOWNSHIP), ("auth", AUTH_NUMBER), ("signed", SIGNED_ON),
        ("from", VALID_FROM), ("until", VALID_UNTIL), ("document", DOCUMENT),
        ("date", cli_batch.APPLICATION_DATE_COLUMNS),
        ("previous", cli_batch.PREVIOUS_OUTCOME_COLUMNS),
        ("again", cli_batch.REPEAT_REASON_COLUMNS))}
    for what, needed in (("household", N_("户（household）")), ("name", N_("姓名（name）")),
                         ("id", N_("身份证号码（id_number）")),
                         ("auth", N_("授权书编号（authorization_number）"))):
        if col[what] is None:
            found = "、".join(h for h in table.header if h) or t(N_("（空）"))
            raise ListProblem(t(N_("表头缺少“{column}”列。")).format(column=t(needed)),
                              t(N_("表头现有：{found}")).format(found=found))
    grouped: dict[str, Household] = {}
    for line, cells in table.rows:
        def cell(what: str, cells: dict[str, str] = cells) -> str:
            name = col[what]
            return cells.get(name, "").strip() if name else ""

        key = cell("household")
        if not key:
            key = f"#{line}"
        if key.lower().endswith(".toml"):
            raise ListProblem(N_("这是命令行用的列表（每行一个家庭文件）。"
                                 "网页上传时请每位家庭成员一行，同一户的各行“户”列相同。"))
        hh = grouped.get(key)
        if hh is None:
            hh = grouped[key] = Household(len(grouped), key, [])
        hh.lines.append(line)
        _member(hh, line, cell, t)
        _household_fields(hh, line, cell, programme, region, t)
    out = list(grouped.values())
    if not out:
        raise ListProblem(N_("列表只有表头，没有任何家庭。"))
    for hh in out:
        _finish(hh, t)
    return out


def _member(hh: Household, line: int, cell: Callable[[str], str], t: Gettext) -> None:
    where = t(N_("第{line}行：")).format(line=line)
    name, number, relation_text = cell("name"), cell("id"), cell("relation") or "self"
    hh.names.append(name)
    problem = None
    if not name:
        problem = t(N_("没有填写姓名。"))
    elif not number:
        problem = t(N_("没有填写身份证号码。"))
    else:
        problem = id_problem(number, t)
    relation = relation_of(relation_text)
    if relation is None and problem is None:
        problem = t(N_("与申请人关系“{word}”不认识。")).format(word=relation_text[:20])
    if problem:
        hh.problems.append(where + problem)
        return
    assert relation is not None
    hh.members.append(case_pb2.Member(id_number=normalize(number), name=name,
                                      relation=relation))


def _household_fields(hh: Household, line: int, cell: Callable[[str], str],
                      programme: str, region: str, t: Gettext) -> None:
    """The household's own columns, from its first row that gives each."""
    where = t(N_("第{line}行：")).format(line=line)
    hh.programme = hh.programme or cell("programme") or programme
    hh.region = hh.region or digits(cell("region")) or region
    hh.township = hh.township or digits(cell("township"))
    hh.authorization_number = hh.authorization_number or cell("auth")
    hh.repeat_reason = hh.repeat_reason or cell("again")
    if not hh.previous_text and cell("previous"):
        hh.previous_text = cell("previous")
        try:
            hh.previous = previous_key(hh.previous_text)
        except HeduiError:
            hh.problems.append(where + t(N_("原结果“{word}”不认识。")).format(
                word=hh.previous_text[:30]))
    if hh.application_date is None and cell("date"):
        hh.application_date = parse_day(cell("date"))
        if hh.application_date is None:
            hh.problems.append(where + t(N_("申请日期应写成 2026-11-02 的样子。")))
    if hh.authorization is None and (cell("from") or cell("until")):
        hh.authorization = _authorization(hh, where, cell, t)


def _authorization(hh: Household, where: str, cell: Callable[[str], str], t: Gettext
                   ) -> case_pb2.Authorization:
    start, end = parse_day(cell("from")), parse_day(cell("until"))
    signed = parse_day(cell("signed")) if cell("signed") else start
    digest = cell("document").lower()
    if start is None or end is None or signed is None:
        hh.problems.append(where + t(N_("授权有效期（有效期自、有效期至）"
                                        "应写成 2026-11-02 的样子。")))
    elif end < start:
        hh.problems.append(where + t(N_("授权有效期的结束日期早于开始日期。")))
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        hh.problems.append(where + t(N_("要登记新的授权书，需填写扫描件的 SHA-256（授权书摘要列）；"
                                        "已登记的授权书只填编号即可。")))
    auth = case_pb2.Authorization(number=hh.authorization_number, document_sha256=digest)
    if start and end and signed:
        auth.signed_on.CopyFrom(pb_date(signed))
        auth.validity.CopyFrom(common_pb2.Period(start=pb_date(start), end=pb_date(end)))
    return auth


def _finish(hh: Household, t: Gettext) -> None:
    if not PROGRAMME_CODE.fullmatch(hh.programme):  # which ones: the gateway says
        hh.problems.append(t(N_("救助项目“{word}”不认识（例如 dibao）。")).format(
            word=hh.programme[:30]) if hh.programme else t(N_("没有填写救助项目。")))
    if not re.fullmatch(r"[1-9][0-9]{5}", hh.region):
        hh.problems.append(t(N_("行政区划代码应为6位数字，例如 310000。")))
    if hh.township and not re.fullmatch(r"[0-9]{9}", hh.township):
        hh.problems.append(t(N_("乡镇（街道）代码应为9位数字。")))
    if not re.fullmatch(r"[A-Za-z0-9._/-]{1,64}", hh.authorization_number):
        hh.problems.append(t(N_("授权书编号由字母、数字和 - . _ / 组成，最多64位。")))
    if hh.application_date and hh.application_date > china_time.today():
        hh.problems.append(t(N_("申请日期不能晚于今天。")))
    if len(hh.members) == len(hh.lines):
        whole = household_problem(hh.members, t)
        if whole:
            hh.problems.append(whole)
    if hh.authorization is not None:
        hh.authorization.programme = hh.programme
        hh.authorization.covered_id_numbers.extend(m.id_number for m in hh.members)


# ---------------------------------------------------------------- runs on disk

@dataclass
class Run:
    run_id: str
    owner: str
    filename: str
    suffix: str
    created_at: str
    programme: str = ""
    region: str = ""
    status: str = "preview"  # preview, running, done
    households: int = 0
    runnable: int = 0
    started_at: str = ""
    finished_at: str = ""

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


_RUN_ID = re.compile(r"[0-9a-f]{12}")


class BatchRuns:
    """Every run of this console: its files, and the threads of those running now."""

    def __init__(self, root: Path, secrets_key: bytes, gateway: ConsoleGateway) -> None:
        self.root = root
        self.gateway = gateway
        self.box = nacl.secret.SecretBox(
            hashlib.sha256(b"hedui console batch lists\x00" + secrets_key).digest())
        self.lock = threading.Lock()
        self.threads: dict[str, threading.Thread] = {}

    # ---------------------------------------------------------- files

    def folder(self, run_id: str) -> Path:
        if not _RUN_ID.fullmatch(run_id):
            raise KeyError(run_id)
        return self.root / run_id

    def create(self, owner: str, filename: str, data: bytes, *, programme: str,
               region: str) -> tuple[Run, list[Household]]:
        """Read the upload (ListProblem when it is no list) and keep it as a preview."""
        suffix = _suffix(filename, data)
        households_ = self.parse(data, suffix, filename, programme=programme, region=region)
        run = Run(secrets.token_hex(6), owner, filename[-120:], suffix,
                  dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), programme, region,
                  households=len(households_),
                  runnable=sum(not h.problems for h in households_))
        folder = self.folder(run.run_id)
        folder.mkdir(parents=True, mode=0o700)
        (folder / "list.sealed").write_bytes(self.box.encrypt(data))
        self._save(run)
        return run, households_

    def parse(self, data: bytes, suffix: str, filename: str, *, programme: str = "",
              region: str = "", t: Gettext = _same) -> list[Household]:
        with tempfile.TemporaryDirectory(prefix="hedui-batch-") as tmp:
            path = Path(tmp) / f"list{suffix}"
            path.write_bytes(data)
            return households(read_list(path, filename), programme=programme, region=region,
                              t=t)

    def households_of(self, run: Run, t: Gettext = _same) -> list[Household]:
        try:
            data = self.box.decrypt((self.folder(run.run_id) / "list.sealed").read_bytes())
        except (OSError, nacl.exceptions.CryptoError):
            raise ListProblem(N_("该批次的列表文件已无法读取。")) from None
        return self.parse(data, run.suffix, run.filename, programme=run.programme,
                          region=run.region, t=t)

    def get(self, run_id: str) -> Run | None:
        try:
            raw = json.loads((self.folder(run_id) / "run.json").read_text(encoding="utf-8"))
        except (KeyError, OSError, ValueError):
            return None
        return Run(**raw)

    def of(self, owner: str) -> list[Run]:
        runs = []
        for path in self.root.glob("*/run.json") if self.root.exists() else ():
            run = self.get(path.parent.name)
            if run is not None and run.owner == owner:
                runs.append(run)
        return sorted(runs, key=lambda r: r.created_at, reverse=True)

    def _save(self, run: Run) -> None:
        path = self.folder(run.run_id) / "run.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(run.to_json(), encoding="utf-8")
        tmp.replace(path)

    def records(self, run_id: str) -> dict[str, dict]:
        """The last record of each household (by its index), as the run wrote them."""
        out: dict[str, dict] = {}
        path = self.folder(run_id) / "progress.jsonl"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line cut by a crash
                out[rec["row"]] = rec
        return out

    def running(self, run_id: str) -> bool:
        thread = self.threads.get(run_id)
        return thread is not None and thread.is_alive()

    # ---------------------------------------------------------- running

    def start(self, run: Run) -> None:
        """Run (or resume) in a thread; households already settled are left alone."""
        with self.lock:
            if self.running(run.run_id):
                return
            run.status = "running"
            run.started_at = run.started_at or dt.datetime.now(dt.UTC).isoformat(
                timespec="seconds")
            run.finished_at = ""
            self._save(run)
            thread = threading.Thread(target=self._run, args=(run,), daemon=True,
                                      name=f"batch-{run.run_id}")
            self.threads[run.run_id] = thread
            thread.start()

    def _run(self, run: Run) -> None:
        done = self.records(run.run_id)
        log = (self.folder(run.run_id) / "progress.jsonl").open("a", encoding="utf-8")
        try:
            todo = [h for h in self.households_of(run)
                    if done.get(str(h.index), {}).get("state") not in SETTLED]
            with ThreadPoolExecutor(max_workers=CONCURRENCY,
                                    thread_name_prefix=f"batch-{run.run_id}") as pool:
                futures = [pool.submit(self.one, run, h) for h in todo]
                for future in as_completed(futures):  # the bar moves as each one ends
                    rec = future.result()  # never raises: one() records every failure
                    with self.lock:
                        log.write(json.dumps(rec, ensure_ascii=False) + "\n")
                        log.flush()
        except ListProblem:
            pass
        finally:
            log.close()
            run.status = "done"
            run.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            with self.lock:
                self._save(run)

    def one(self, run: Run, hh: Household) -> dict:
        """One household, start to end; every failure becomes its record."""
        rec: dict[str, Any] = {"row": str(hh.index), "line": min(hh.lines),
                               "household": hh.key, "applicant": hh.applicant,
                               "previous_outcome": hh.previous_text,
                               "previous_key": hh.previous}
        if hh.problems:
            return rec | {"state": "failed", "reason": "；".join(hh.problems)}
        gw = self.gateway
        try:
            if hh.authorization is not None:
                try:
                    gw.call(gw.cases.RegisterAuthorization,
                            case_pb2.RegisterAuthorizationRequest(authorization=hh.authorization),
                            staff_id=run.owner)
                except Refused as err:
                    if err.reason != "AUTHORIZATION_ALREADY_REGISTERED":
                        raise
            opening = case_pb2.OpenCaseRequest(
                programme=hh.programme, region=hh.region, members=hh.members,
                authorization_number=hh.authorization_number, township=hh.township,
                request_id=hh.request_id(run.run_id), repeat_reason=hh.repeat_reason)
            if hh.application_date is not None:
                opening.application_date.CopyFrom(pb_date(hh.application_date))
            case = gw.call(gw.cases.OpenCase, opening, staff_id=run.owner)
            rec["case_id"] = case.case_id
            if case.state in (case_pb2.CASE_STATE_OPEN, case_pb2.CASE_STATE_INCOMPLETE):
                method = (gw.cases.VerifyCase if case.state == case_pb2.CASE_STATE_OPEN
                          else gw.cases.RetryCase)
                request = (case_pb2.VerifyCaseRequest if case.state == case_pb2.CASE_STATE_OPEN
                           else case_pb2.RetryCaseRequest)(case_id=case.case_id)
                case = gw.call(method, request, staff_id=run.owner, timeout=VERIFY_TIMEOUT)
        except Refused as err:
            words = f"{reasons.words(err.reason)} / {reasons.words(err.reason, lang='en')}"
            state = "interrupted" if err.reason == "UNAVAILABLE" else "refused"
            return rec | {"state": state, "reason": words, "reason_code": err.reason}
        state = case_pb2.CaseState.Name(case.state).removeprefix("CASE_STATE_").lower()
        assessed = case.state in (case_pb2.CASE_STATE_DECIDED,
                                  case_pb2.CASE_STATE_AWAITING_REVIEW)
        rec |= {"state": state,
                "outcome_key": OUTCOME_KEYS.get(case.outcome, "") if assessed else "",
                "reasons": [case.state_reason] if case.state_reason else []}
        if case.state == case_pb2.CASE_STATE_DECIDED:
            rec["report"] = f"{case.case_id}.report.html"  # beside the sheet in the ZIP
        for d in case.departments:
            if d.state != case_pb2.DepartmentStatus.STATE_ANSWERED:
                word = case_pb2.DepartmentStatus.State.Name(d.state).removeprefix("STATE_")
                rec["reasons"].append(f"{d.department}: {word.lower()}"
                                      + (f" ({d.reason})" if d.reason else ""))
        return rec

    # ---------------------------------------------------------- results

    def results(self, run: Run) -> list[ResultRow]:
        """One row per household of the list, in its order, with what became of it."""
        done = self.records(run.run_id)
        rows = []
        for hh in self.households_of(run):
            rec = dict(done.get(str(hh.index), {}))
            if not rec and hh.problems:
                rec = {"state": "failed", "reason": "；".join(hh.problems)}
            rec.setdefault("previous_outcome", hh.previous_text)
            rec.setdefault("previous_key", hh.previous)
            rows.append(ResultRow(min(hh.lines), hh.key, hh.applicant, rec))
        return rows

    def sheet(self, run: Run) -> tuple[bytes, bytes]:
        """The results as .xlsx and CSV (UTF-8 with BOM) bytes."""
        with tempfile.TemporaryDirectory(prefix="hedui-results-") as tmp:
            xlsx, csv = write_results(self.results(run), Path(tmp) / "results.xlsx")
            return xlsx.read_bytes(), csv.read_bytes()


def _suffix(filename: str, data: bytes) -> str:
    """``.xlsx`` or ``.csv`` by name and content; ListProblem in Chinese otherwise."""
    if not data:
        raise ListProblem(N_("请选择要上传的列表文件（.xlsx 或 .csv）。"))
    if len(data) > MAX_UPLOAD:
        raise ListProblem(N_("文件太大，最大 20 MB；请把列表分成几个文件。"))
    name = filename.lower()
    if name.endswith(".xls"):
        raise ListProblem(N_("这是旧版 Excel 97-2003 (.xls) 文件，"
                             "请另存为 .xlsx 或 CSV 后再上传。"))
    if name.endswith((".xlsx", ".xlsm")):
        if not data.startswith(b"PK\x03\x04"):
            raise ListProblem(N_("该文件不是有效的 .xlsx 工作簿（可能已损坏或改了扩展名）。"))
        return ".xlsx"
    if name.endswith((".csv", ".txt")):
        return ".csv"
    raise ListProblem(N_("只能上传 .xlsx 工作簿或 .csv 文件。"))


"""What a batch re-verification hands the verifier: one results spreadsheet.

Each row of the batch list becomes a row here — its outcome, the reasons, the report
to open, and whether the outcome changed since the last verification — as an ``.xlsx``
workbook and, beside it, a CSV in UTF-8 with a byte-order mark (without one, Excel on a
Chinese Windows reads UTF-8 as GBK and shows mojibake). Headers are Chinese first: the
sheet is filed at the center. The spreadsheet is rebuilt from the progress file on every
run, so a resumed batch ends with one complete sheet, never a sheet per attempt.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hedui.errors import HeduiError
from hedui.v1 import case_pb2

#: outcome keys as the progress file keeps them, with their words (Chinese first)
OUTCOME_KEYS = {
    case_pb2.OUTCOME_ELIGIBLE: "eligible",
    case_pb2.OUTCOME_INELIGIBLE: "ineligible",
    case_pb2.OUTCOME_INCOMPLETE: "incomplete",
    case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW: "needs-manual-review",
}
OUTCOME_LABELS = {
    "eligible": "符合条件 / eligible",
    "ineligible": "不符合条件 / ineligible",
    "incomplete": "无法核定 / incomplete",
    "needs-manual-review": "需人工复核 / needs manual review",
}

#: what a batch list's previous_outcome cell may say, in either language
_PREVIOUS = {
    "eligible": ("eligible", "符合", "符合条件"),
    "ineligible": ("ineligible", "不符合", "不符合条件"),
    "incomplete": ("incomplete", "无法核定", "核对未完成"),
    "needs-manual-review": ("needs manual review", "需人工复核", "人工复核"),
}
PREVIOUS_WORDS: dict[str, str] = {
    word: key for key, words in _PREVIOUS.items() for word in words
}

#: a row's state, as the sheet says it
STATE_LABELS = {
    "decided": "已认定 / decided",
    "incomplete": "未完成 / incomplete",
    "awaiting_offline_answer": "待离线答复 / awaiting offline answer",
    "querying": "核对中 / querying",
    "awaiting_review": "待审核 / awaiting review",
    "returned": "已退回 / returned",
    "open": "已开启 / open",
    "cancelled": "已撤销 / cancelled",
    "refused": "被拒绝 / refused",
    "failed": "行有误 / failed",
    "interrupted": "中断 / interrupted",
    "not run": "未运行 / not run",
}

#: the results sheet's columns, Chinese first
COLUMNS = (
    "行号 / line",
    "家庭文件 / household",
    "申请人 / applicant",
    "案件编号 / case",
    "状态 / state",
    "核对结果 / outcome",
    "原结果 / previous outcome",
    "变化 / change",
    "原因 / reasons",
    "报告 / report",
)
_WIDTHS = (8, 34, 12, 30, 22, 30, 30, 40, 70, 40)


def previous_key(text: str) -> str | None:
    """The outcome a previous_outcome cell names (None for an empty cell); HeduiError
    when it names none. ``符合条件 / eligible`` — this sheet's own words — is accepted,
    so last year's results can be pasted into this year's list."""
    words = text.strip().lower().replace("_", " ").replace("-", " ").replace("／", "/")
    if not words.strip():
        return None
    keys = {PREVIOUS_WORDS.get(" ".join(part.split())) for part in words.split("/")}
    if len(keys) == 1 and None not in keys:
        return keys.pop()
    known = ", ".join(w for words in _PREVIOUS.values() for w in words)
    raise HeduiError(f"previous_outcome {text.strip()!r} is not one of {known}")


@dataclass(frozen=True)
class ResultRow:
    """One batch row as the verifier reads it back."""

    line: int
    household: str
    applicant: str
    record: dict

    def cells(self) -> list[str]:
        rec = self.record
        outcome = rec.get("outcome_key", "")
        previous = rec.get("previous_key") or ""
        return [
            str(self.line), self.household, self.applicant, rec.get("case_id", ""),
            STATE_LABELS.get(rec.get("state", "not run"), rec.get("state", "")),
            OUTCOME_LABELS.get(outcome, ""),
            OUTCOME_LABELS.get(previous, rec.get("previous_outcome", "")),
            change(previous, outcome, decided=rec.get("state") == "decided"),
            "; ".join(rec.get("reasons") or ([rec["reason"]] if rec.get("reason") else [])),
            rec.get("report", ""),
        ]


def change(previous: str, outcome: str, *, decided: bool) -> str:
    """What the sheet's 变化 / change column says."""
    if not previous:
        return ""
    if not decided or not outcome:
        return "尚无新结果 / no new outcome yet"
    if previous == outcome:
        return "无变化 / unchanged"
    return f"{OUTCOME_LABELS[previous]} → {OUTCOME_LABELS[outcome]}"


def changed(rows: Iterable[ResultRow]) -> list[ResultRow]:
    """Rows whose new outcome differs from the one the list gave."""
    return [r for r in rows if r.record.get("state") == "decided"
            and r.record.get("previous_key")
            and r.record.get("outcome_key") not in ("", r.record.get("previous_key"))]


def write_results(rows: Sequence[ResultRow], xlsx_path: Path) -> tuple[Path, Path]:
    """The sheet as ``xlsx_path`` and a UTF-8-with-BOM CSV beside it, each replaced whole
    (written aside, then renamed), so an interrupted run never leaves half a sheet."""
    csv_path = xlsx_path.with_suffix(".csv")
    table = [r.cells() for r in rows]
    _atomic(csv_path, lambda f: _write_csv(table, f))
    _atomic(xlsx_path, lambda f: _write_xlsx(table, f))
    return xlsx_path, csv_path


def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_csv(table: list[list[str]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows(table)


def _write_xlsx(table: list[list[str]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "核对结果"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    report_col = COLUMNS.index("报告 / report") + 1
    for n, cells in enumerate(table, start=2):
        sheet.append([int(cells[0]), *cells[1:]])
        link = sheet.cell(row=n, column=report_col)
        if link.value:
            link.hyperlink = str(link.value)  # relative: the reports sit beside the sheet
            link.style = "Hyperlink"
        sheet.cell(row=n, column=COLUMNS.index("原因 / reasons") + 1).alignment = \
            Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.save(path)

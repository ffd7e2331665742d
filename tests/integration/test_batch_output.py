"""`hedui verify --batch` for real — a gateway process and eight agent processes over
mutual TLS — as a verifier uses it: a list saved by a Chinese office (GBK CSV with
Chinese headers, an .xlsx workbook), each household's report written, a results
spreadsheet beside them, bad rows recorded and the batch going on, and a re-run after
an interruption resuming without a second case. Synthetic households only."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from hedui import china_time
from hedui.gateway import household as household_mod
from hedui.gateway import sandbox
from hedui.gateway.batch_results import COLUMNS
from hedui.gateway.demo import write_client_config

TODAY = china_time.today()  # the gateway's today (China's)
COL = {name.split(" / ")[1]: i for i, name in enumerate(COLUMNS)}


class System:
    def __init__(self, root: Path) -> None:
        self.sb = sandbox.provision(root, persons=300, seed=17)
        self.material = sandbox.gateway_material(self.sb)
        self.processes: dict[str, subprocess.Popen] = {}
        self.client_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                               "hedui-client.toml")
        data = json.loads((self.sb.data_dir / "households.json").read_text())["samples"]
        self.samples = [h for g in data.values() for h in g] if isinstance(data, dict) else data
        self._n = 0

    def start(self) -> None:
        sb = self.sb
        p = self.processes["gateway"] = sandbox.start_gateway(sb)
        sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material, process=p,
                             log_file=sb.logs / "gateway.log")
        for d in sb.agents:
            p = self.processes[d] = sandbox.start_agent(sb, d)
            sandbox.wait_healthy(sb.endpoints[d], sb.agents[d].id, self.material, process=p,
                                 log_file=sb.logs / f"agent-{d}.log")

    def household(self, folder: Path, label: str) -> str:
        """A fresh household file of the given expected outcome; its path from ``folder``."""
        self._n += 1
        pool = [s for s in self.samples if s["expected"].startswith(label)]
        h = pool[self._n % len(pool)]
        (folder / "家庭").mkdir(parents=True, exist_ok=True)
        path = household_mod.write(
            folder / "家庭" / f"户-{self._n}.toml", programme="dibao", region="310000",
            members=h["members"], authorization_number=f"SQ-BO-{self._n:05d}", today=TODAY)
        return f"家庭/{path.name}"

    def batch(self, listing: Path, out: Path) -> subprocess.CompletedProcess:
        return self.cli("verify", "--batch", str(listing), "--out", str(out),
                        "--client", str(self.client_file), "--concurrency", "4")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True,
                              text=True, timeout=300)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory):
    s = System(tmp_path_factory.mktemp("batchout"))
    try:
        s.start()
        yield s
    finally:
        for p in s.processes.values():
            sandbox.stop_process(p)


def sheet_rows(path: Path) -> list[list[str]]:
    """The results CSV, which must open in Excel: UTF-8 with a BOM."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == COLUMNS
    return rows[1:]


def progress_of(path: Path) -> dict[str, dict]:
    last: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        last[rec["row"]] = rec
    return last


def test_a_gbk_list_with_chinese_headers_gives_reports_and_a_results_sheet(
        system: System) -> None:
    folder = system.sb.root / "gbk"
    folder.mkdir()
    eligible, ineligible = system.household(folder, "eligible"), \
        system.household(folder, "ineligible")
    listing = folder / "2026年复核名单.csv"
    listing.write_bytes(
        ("家庭文件,申请日期,原结果\n"
         f"{eligible},,符合条件\n"        # unchanged, said in Chinese
         "家庭/没有这户.toml,,符合\n"      # a bad row: the batch goes on
         f"{ineligible},,符合\n"           # changed
         ).encode("gbk"))
    out = folder / "out"
    result = system.batch(listing, out)
    assert result.returncode == 3, result.stdout + result.stderr  # one row failed
    assert "Traceback" not in result.stderr
    assert "batch: 2 decided, 1 failed" in result.stdout
    assert "1 outcome(s) changed" in result.stdout and ineligible in result.stdout
    assert f"{eligible}: " not in result.stdout  # 符合条件 is eligible: no change
    assert "line 3: household file" in result.stdout

    rows = sheet_rows(out / "2026年复核名单.results.csv")
    assert [r[COL["line"]] for r in rows] == ["2", "3", "4"]
    first, bad, changed = rows
    assert first[COL["outcome"]] == "符合条件 / eligible"
    assert first[COL["change"]] == "无变化 / unchanged"
    assert bad[COL["state"]] == "行有误 / failed" and "does not exist" in bad[COL["reasons"]]
    assert changed[COL["change"]].startswith("符合条件 / eligible → 不符合条件")
    assert changed[COL["reasons"]]  # the report's reasons, for the verifier
    for row in (first, changed):
        assert row[COL["applicant"]].endswith("*")  # masked
        report = out / row[COL["report"]]
        assert report.name.endswith(".report.html") and report.is_file()
        assert report.with_suffix(".json").is_file()  # …report.json
    assert (out / "2026年复核名单.results.xlsx").is_file()
    # every row is in the progress file, the good ones with their cases
    progress = progress_of(out / "2026年复核名单.progress.jsonl")
    assert progress["0"]["case_id"] and progress["2"]["case_id"]
    assert progress["1"]["state"] == "failed"

    # the reviewer's check says whether the figures were recomputed
    dsse = out / first[COL["report"]].replace(".html", ".dsse")
    plain = system.cli("report", "verify", str(dsse), "--bundle", str(system.sb.bundle),
                       "--root-pub", str(system.sb.root_public_key))
    assert plain.returncode == 0, plain.stderr
    assert "figures not recomputed (add --standards DIR" in plain.stdout
    full = system.cli("report", "verify", str(dsse), "--bundle", str(system.sb.bundle),
                      "--root-pub", str(system.sb.root_public_key),
                      "--standards", str(sandbox.STANDARDS_DIR))
    assert full.returncode == 0, full.stderr
    assert "figures recomputed from the signed answers" in full.stdout


def test_an_xlsx_list_resumes_after_an_interruption_and_the_sheet_is_complete(
        system: System) -> None:
    from openpyxl import Workbook, load_workbook

    folder = system.sb.root / "xlsx"
    folder.mkdir()
    names = [system.household(folder, "eligible") for _ in range(3)]
    book = Workbook()
    book.active.append(["户", "申请日期", "上次结果"])
    for name in names:
        book.active.append([name, None, "eligible"])
    book.active.append(["家庭/后补.toml", None, "不符合条件"])  # not written yet
    listing = folder / "名单.xlsx"
    book.save(listing)
    out = folder / "out"
    first = system.batch(listing, out)
    assert first.returncode == 3, first.stdout + first.stderr
    progress_file = out / "名单.progress.jsonl"
    before = progress_of(progress_file)
    assert [before[str(i)]["state"] for i in range(4)] == ["decided"] * 3 + ["failed"]

    # interrupted after two cases were opened but before they were recorded
    lines = progress_file.read_text(encoding="utf-8").splitlines()
    kept = [x for x in lines if json.loads(x)["row"] not in ("0", "1")]
    progress_file.write_text("".join(x + "\n" for x in kept), encoding="utf-8")
    # …and the missing household file written since
    system.household(folder, "ineligible")
    (folder / f"家庭/户-{system._n}.toml").rename(folder / "家庭/后补.toml")

    again = system.batch(listing, out)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "batch: 4 decided" in again.stdout
    after = progress_of(progress_file)
    assert all(after[str(i)]["case_id"] == before[str(i)]["case_id"] for i in range(3))
    assert len({after[str(i)]["case_id"] for i in range(4)}) == 4
    sheet = load_workbook(out / "名单.results.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [v[0] for v in values] == [2, 3, 4, 5]
    assert all(v[COL["state"]] == "已认定 / decided" for v in values)
    assert values[3][COL["change"]] == "无变化 / unchanged"

    # the same list run into another folder (next year's) opens new cases
    other = system.batch(listing, folder / "next-year")
    assert other.returncode == 0, other.stdout + other.stderr
    fresh = progress_of(folder / "next-year" / "名单.progress.jsonl")
    assert not {r["case_id"] for r in fresh.values()} & {r["case_id"] for r in after.values()}

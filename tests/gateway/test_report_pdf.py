"""The determination report printed to A4 PDF by headless Chromium: several households,
each on at most two pages, with no field path or digest in what a reader sees and every
official name present. PDFs and screenshots go to ``test-artifacts/report/``
(gitignored) so a person can look at what was printed.

Skips (with the reason) when Debian's chromium is not installed.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_gateway_report_html import (
    FIELD_PATH,
    HEX_DIGEST,
    R,
    Records,
    _d,
    build,
    car,
    make_id,
    typical_household,
)

from hedui.gateway import report_pdf
from hedui.gateway.report_html import render_html
from hedui.gateway.report_pdf import ChromiumMissing, html_file_to_pdf, html_to_pdf, page_count
from hedui.gateway.report_words import programme_name, region_name
from hedui.v1 import case_pb2

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
CHROMIUM = report_pdf.DEFAULT_CHROMIUM

needs_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)),
    reason=f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")


# ---------------------------------------------------------------- households


def pensioner() -> tuple[list[case_pb2.Member], Records]:
    """One person living alone in 黄浦区 on a pension, with a small deposit."""
    from hedui.agents.departments import DEPARTMENTS

    m = case_pb2.Member(id_number=make_id("310101", "19520214", 41), name="赵桂芳",
                        relation=R.RELATION_SELF)
    records: Records = {d: {m.id_number: dep.record_type()} for d, dep in DEPARTMENTS.items()}
    records["human-resources"][m.id_number].pensions.add(  # type: ignore[attr-defined]
        scheme="urban-rural-resident", monthly_amount_fen=125000, since=_d(2012, 3, 1))
    records["banks"][m.id_number].deposits.add(  # type: ignore[attr-defined]
        institution="上海农商银行", kind=R.Deposit.KIND_DEMAND, balance_fen=865432,
        as_of=_d(2026, 10, 31))
    return [m], records


def four_generations() -> tuple[list[case_pb2.Member], Records]:
    """The typical family with the applicant's mother: her pension, securities and
    a second deposit each."""
    members, records = typical_household()
    from hedui.agents.departments import DEPARTMENTS

    mother = case_pb2.Member(id_number=make_id("310104", "19550120", 52), name="张淑珍",
                             relation=R.RELATION_PARENT)
    for d, dep in DEPARTMENTS.items():
        records[d][mother.id_number] = dep.record_type()
    members.append(mother)
    hr = records["human-resources"]
    hr[mother.id_number].pensions.add(  # type: ignore[attr-defined]
        scheme="urban-employee", monthly_amount_fen=310000, since=_d(2010, 1, 1))
    banks = records["banks"]
    banks[mother.id_number].deposits.add(  # type: ignore[attr-defined]
        institution="交通银行", kind=R.Deposit.KIND_TIME, balance_fen=5000000,
        as_of=_d(2026, 10, 31))
    banks[members[0].id_number].securities.add(  # type: ignore[attr-defined]
        institution="示范证券", kind=R.Security.KIND_FUND, market_value_fen=780000,
        as_of=_d(2026, 10, 31))
    banks[members[1].id_number].deposits.add(  # type: ignore[attr-defined]
        institution="招商银行", kind=R.Deposit.KIND_DEMAND, balance_fen=345600,
        as_of=_d(2026, 10, 31))
    return members, records


def households() -> dict[str, case_pb2.DeterminationReport]:
    return {
        "typical-dibao": build(*typical_household()),
        "car-tax-missing": build(*typical_household(), change=car,
                                 missing=(("tax", "超过协查反馈时限"),)),
        "pensioner-huangpu": build(*pensioner(), region="310101"),
        "four-persons-putuo": build(*four_generations(), region="310107"),
        "low-income": build(*typical_household(), programme="low-income"),
        "low-rent-housing": build(*typical_household(), programme="low-rent-housing",
                                  region="310000"),
    }


# ---------------------------------------------------------------- printing


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright's Chromium (Debian's) for screenshots and the text a reader sees."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        yield None
        return
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


def _look(browser: Any, html_file: Path, png: Path) -> str | None:
    """A full-page screenshot as printed (print media, A4 width); the visible text."""
    if browser is None:
        return None
    page = browser.new_page(viewport={"width": 794, "height": 1123})
    try:
        page.goto(html_file.as_uri())
        page.emulate_media(media="print")
        page.screenshot(path=str(png), full_page=True)
        return page.evaluate(
            "() => { const v = document.getElementById('verification');"
            " const t = document.body.innerText; return t.slice(0, t.indexOf(v.innerText)); }")
    finally:
        page.close()


@needs_chromium
@pytest.mark.slow
@pytest.mark.parametrize("name", list(households()))
def test_each_household_prints_on_at_most_two_a4_pages(name: str, browser: Any) -> None:
    report = households()[name]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for copy, applicant in (("public", False), ("applicant", True)):
        html = render_html(report, applicant_copy=applicant)
        html_file = ARTIFACTS / f"{name}.{copy}.html"
        html_file.write_text(html, encoding="utf-8")
        pdf = html_file_to_pdf(html_file)
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-")
        pages = page_count(data)
        assert 1 <= pages <= 2, f"{name} ({copy} copy) prints on {pages} pages"
        # A4 is 595 x 842 points (Chromium writes the MediaBox in points)
        assert re.search(rb"/MediaBox \[0 0 59[45](?:\.\d+)? 84[12](?:\.\d+)?\]", data)
        text = _look(browser, html_file, ARTIFACTS / f"{name}.{copy}.png")
        if text is not None:
            assert not FIELD_PATH.search(text) and not HEX_DIGEST.search(text)
            assert programme_name(report.programme)[0] in text
            assert region_name(report.region)[0] in text


_CM = re.compile(rb"([-\d.]+) 0 0 ([-\d.]+) ([-\d.]+) ([-\d.]+) cm")
_TM_Y = re.compile(rb"[-\d.]+ [-\d.]+ [-\d.]+ [-\d.]+ [-\d.]+ ([-\d.]+) Tm")


def footers(pdf: bytes) -> int:
    """Pages whose content stream draws text in the bottom page margin. Chromium draws
    the page's margin boxes first, in page coordinates (CSS px, A4 = 1122.5 px high, the
    bottom margin from 1077 px), then moves the origin to the page area for the body."""
    import zlib

    found = 0
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            continue
        body = next((m.start() for m in _CM.finditer(content)
                     if float(m.group(2)) > 0 and (float(m.group(3)), float(m.group(4))) != (0, 0)),
                    len(content))
        if any(1077 < float(y) < 1122.5 for y in _TM_Y.findall(content[:body])):
            found += 1
    return found


@needs_chromium
def test_page_numbers_are_printed_in_the_bottom_margin(tmp_path: Path) -> None:
    """The @bottom-center box (第 1 页 共 2 页) is drawn on every page, and only there."""
    html = render_html(build(*typical_household()))
    pdf = html_to_pdf(html, tmp_path / "r.pdf").read_bytes()
    assert footers(pdf) == page_count(pdf) == 2
    bare = re.sub(r"@bottom-center \{[^}]*\}", "", html)
    assert footers(html_to_pdf(bare, tmp_path / "bare.pdf").read_bytes()) == 0


def test_a_missing_chromium_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("HEDUI_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ChromiumMissing, match="apt-get install chromium"):
        html_to_pdf("<!DOCTYPE html><p>x</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_page_count_counts_pages_not_the_page_tree() -> None:
    pdf = b"%PDF-1.4\n1 0 obj<</Type /Pages /Count 2>>\n2 0 obj<</Type /Page>>\n" \
          b"3 0 obj<</Type/Page/Parent 1 0 R>>\n"
    assert page_count(pdf) == 2


def test_the_cli_offers_pdf_on_case_report() -> None:
    import argparse

    from hedui.gateway import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["case", "report", "case-1", "--pdf", "--out", "x"])
    assert args.pdf is True and args.case_id == "case-1" and args.out == "x"
    assert parser.parse_args(["case", "report", "case-1"]).pdf is False


def test_every_households_evidence_is_matched_to_its_members() -> None:
    """Each pseudonym in the evidence is pinned to one member, so every phrase has its
    values (a pseudonym left open would print without them)."""
    from hedui.gateway.report_words import all_evidence, match_subjects, read_answers

    for name, report in households().items():
        cited = {e.subject_pseudonym for group in all_evidence(report) for e in group
                 if e.subject_pseudonym}
        matched = match_subjects(report, read_answers(report))
        assert set(matched) == cited, name
        assert len(set(matched.values())) == len(matched), name
    page = render_html(households()["four-persons-putuo"])
    assert "父母 张**：</span>交通银行 存款余额 ¥50,000.00" in page
    assert "申请人 王**：</span>示范证券 有价证券市值 ¥7,800.00" in page
    assert "父母 张**：</span>养老金 ¥3,100.00/月" in page


@needs_chromium
def test_case_report_pdf_prints_the_written_page(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path, capsys: Any) -> None:
    """``hedui case report ID --pdf``: the page the command writes, printed beside it."""
    import argparse
    import contextlib

    from hedui.gateway import cli, verifying

    report = households()["typical-dibao"]

    def write(client: object, args: argparse.Namespace) -> int:  # GetReport, then files
        (Path(args.out) / f"{args.case_id}.report.html").write_text(render_html(report),
                                                                     encoding="utf-8")
        return 0

    monkeypatch.setattr(verifying, "case_command", write)
    monkeypatch.setattr(cli, "_client", lambda args: contextlib.nullcontext(object()))
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["case", "report", report.case_id, "--pdf", "--out", str(tmp_path)])
    assert args.func(args) == 0
    pdf = tmp_path / f"{report.case_id}.report.pdf"
    assert page_count(pdf.read_bytes()) == 2
    assert f"PDF written to {pdf}" in capsys.readouterr().out

"""``hedui standards check`` (issue 12, item 8): a standard read on its own, with each
error's line, and what it decides for households at its limits or for a sample."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hedui.cli import main

ROOT = Path(__file__).parents[2]
DIBAO = ROOT / "deploy" / "standards" / "shanghai-dibao-2021.toml"
LOW_RENT = ROOT / "deploy" / "standards" / "shanghai-low-rent-2009.toml"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hedui.cli", "standards", "check", *args],
                          capture_output=True, text=True, timeout=60)


def test_a_shipped_standard_is_described_and_decides_samples() -> None:
    done = _run(str(DIBAO), "--as-of", "2026-11-15")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "低于 / less than 1,330.00 yuan" in out
    assert "not counted: housing-subsidies, assistance" in out
    # a strict limit: exactly at it fails once the review margin is set aside
    at = next(line for line in out.splitlines() if "income exactly at the limit" in line)
    assert "without the review margin: 不符合 / ineligible (income)" in at
    below = next(line for line in out.splitlines() if "one fen below" in line)
    assert "without the review margin: 符合 / eligible" in below


def test_an_inclusive_limit_passes_exactly_at_it(tmp_path: Path) -> None:
    text = LOW_RENT.read_text(encoding="utf-8").replace("margin_percent = 5", "margin_percent = 0")
    crisp = tmp_path / "low-rent.toml"
    crisp.write_text(text, encoding="utf-8")
    out = _run(str(crisp), "--persons", "2").stdout
    lines = {line.split(" [")[0].strip(): line for line in out.splitlines() if " [" in line}
    assert "符合 / eligible" in lines["income exactly at the limit"]
    assert "不符合 / ineligible (income)" in lines["income one fen above the limit"]
    assert "不符合 / ineligible (household-assets)" in lines["money assets one fen above"]


def test_a_malformed_standard_is_one_line_with_its_line_number(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(DIBAO.read_text(encoding="utf-8").replace(
        "money_assets_multiple = 4", 'money_assets_multiple = "4"'), encoding="utf-8")
    done = _run(str(bad))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    number = next(i for i, line in enumerate(bad.read_text().splitlines(), 1)
                  if line.startswith("money_assets_multiple"))
    assert f"line {number}: key 'assets.money_assets_multiple' must be a whole number" in lines[0]


def test_a_misspelt_key_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "typo.toml"
    bad.write_text(DIBAO.read_text(encoding="utf-8").replace(
        "max_subscribed_capital_fen", "max_subscribed_captial_fen"), encoding="utf-8")
    assert main(["standards", "check", str(bad)]) == 1


def test_a_sample_household_is_decided(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    sample = tmp_path / "family.toml"
    sample.write_text(
        'label = "two pensioners with a car"\npersons = 2\n'
        '[income]\npensions = "2,400.00"\nhousing-subsidies = 500\n'
        '[assets]\ndeposits = "30000"\n[counts]\nvehicles = 1\n', encoding="utf-8-sig")
    assert main(["standards", "check", str(DIBAO), "--sample", str(sample)]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "two pensioners" in line)
    # 2,400 of pensions for two = 1,200 per person (subsidies not counted); the car fails
    assert "1,200.00 yuan/person/month" in line and "ineligible (vehicle)" in line


def test_a_bad_sample_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = tmp_path / "s.toml"
    sample.write_text("persons = 2\n[income]\nnet-transfers = 100\n", encoding="utf-8")
    assert main(["standards", "check", str(DIBAO), "--sample", str(sample)]) == 1
    assert "income.net-transfers" in capsys.readouterr().err


def test_a_directory_is_checked_whole(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["standards", "check", str(ROOT / "deploy" / "standards")]) == 0
    out = capsys.readouterr().out
    assert out.count(": OK") == len(list((ROOT / "deploy" / "standards").glob("*.toml")))


def test_a_gbk_standard_with_a_typo_gets_a_did_you_mean(tmp_path: Path) -> None:
    bad = tmp_path / "gbk.toml"
    bad.write_bytes(DIBAO.read_text(encoding="utf-8").replace(
        "count_provident_fund", "count_provident_funds").encode("gb18030"))
    done = _run(str(bad))
    assert done.returncode != 0
    assert "did you mean 'count_provident_fund'?" in done.stderr
    good = tmp_path / "gbk-good.toml"
    good.write_bytes(DIBAO.read_text(encoding="utf-8").encode("gb18030"))
    assert _run(str(good)).returncode == 0

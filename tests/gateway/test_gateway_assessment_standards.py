"""Standards files: the shipped ones load, selection by date and region, and every bad
file is refused with one sentence naming the file and the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hedui.errors import HeduiError
from hedui.gateway.standards import (
    InvalidStandard,
    NoStandard,
    StandardsLibrary,
    load_standard,
)

SHIPPED = Path(__file__).parents[2] / "deploy" / "standards"

BASE = """\
id = "{id}"
region = "{region}"
programme = "dibao"
title = "test"
effective_from = {start}
source = "test"
monthly_standard_fen = {amount}
income_window_months = 12
{extra}
[assets]
money_assets_multiple = 4
"""


def write(
    directory: Path,
    name: str,
    *,
    id: str | None = None,
    region: str = "310000",
    start: str = "2021-07-01",
    amount: int = 133000,
    extra: str = "",
) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(
        BASE.format(id=id or name, region=region, start=start, amount=amount, extra=extra),
        encoding="utf-8",
    )
    return path


def test_shipped_standards_load_and_match_the_published_figures() -> None:
    lib = StandardsLibrary(SHIPPED)
    ids = {s.standard_id for s in lib}
    assert {
        "shanghai-dibao-2021",
        "haiyan-dibao-example",
        "shanghai-low-rent-2009",
        "shanghai-low-income-example",
    } <= ids
    sh = lib.get("shanghai-dibao-2021")
    assert sh.monthly_standard_fen == 133000 and sh.effective_from == date(2021, 7, 1)
    assert sh.example and "EXAMPLE" in sh.source
    assert sh.asset_limit_per_person_fen == 133000 * 12 * 4
    hy = lib.get("haiyan-dibao-example")
    assert hy.region == "330424" and hy.business_max_capital_fen == 10000000
    assert hy.vehicle_max_count == 0 and not hy.allow_non_residential
    lr = lib.get("shanghai-low-rent-2009")
    assert lr.income_window_months == 6 and lr.monthly_income_limit_fen == 96000
    assert lr.household_assets_limit_fen == 12000000 and not lr.income_strictly_below
    li = lib.get("shanghai-low-income-example")
    assert li.monthly_income_limit_fen == 199500 and li.money_assets_multiple == 6
    applied = sh.applied()
    assert applied.monthly_income_limit_fen == 133000 and applied.income_window_months == 12


def test_selection_takes_the_newest_standard_in_force(tmp_path: Path) -> None:
    write(tmp_path, "old", start="2021-07-01", amount=133000)
    write(tmp_path, "new", start="2022-07-01", amount=142000)
    lib = StandardsLibrary(tmp_path)
    with pytest.raises(NoStandard):
        lib.select("310000", "dibao", date(2021, 6, 30))
    assert lib.select("310000", "dibao", date(2021, 7, 1)).standard_id == "old"
    assert lib.select("310000", "dibao", date(2022, 6, 30)).standard_id == "old"
    assert lib.select("310000", "dibao", date(2022, 7, 1)).standard_id == "new"


def test_effective_until_ends_a_standard(tmp_path: Path) -> None:
    write(tmp_path, "ended", extra="effective_until = 2021-12-31\n")
    lib = StandardsLibrary(tmp_path)
    assert lib.select("310000", "dibao", date(2021, 12, 31)).standard_id == "ended"
    with pytest.raises(NoStandard):
        lib.select("310000", "dibao", date(2022, 1, 1))


def test_district_falls_back_to_its_city_standard_but_not_to_another_province() -> None:
    lib = StandardsLibrary(SHIPPED)
    assert lib.select("310104", "dibao", date(2024, 1, 1)).standard_id == "shanghai-dibao-2021"
    assert lib.select("330424", "dibao", date(2024, 1, 1)).standard_id == "haiyan-dibao-example"
    with pytest.raises(NoStandard) as err:
        lib.select("330102", "dibao", date(2024, 1, 1))
    message = str(err.value)
    assert "330102" in message and "dibao" in message and "2024-01-01" in message
    assert isinstance(err.value, HeduiError)


def test_no_standard_for_a_programme_names_it() -> None:
    with pytest.raises(NoStandard, match=r"no-such-programme standard .* region 310000"):
        StandardsLibrary(SHIPPED).select("310000", "no-such-programme", date(2024, 1, 1))


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        (
            '[income]\nlimit_percent_of_standard = "150"\n',
            "income.limit_percent_of_standard",
            "whole number",
        ),
        ('[income]\ncounted = ["wages", "lottery"]\n', "income.counted", "lottery"),
        ('[income]\ncounted = ["wages"]\nexcluded = ["wages"]\n', "income.excluded", "also lists"),
        ("[vehicle]\nmax_cars = 0\n", "vehicle.max_cars", "not a known key"),
        ('colour = "red"\n', "colour", "not a known key"),
        ("effective_until = 2020-01-01\n", "effective_until", "before effective_from"),
        ("[review]\nmargin_percent = 90\n", "review.margin_percent", "between 0 and 50"),
        (
            "[property]\nmax_residential_area_per_person_m2 = -3\n",
            "property.max_residential_area_per_person_m2",
            "positive",
        ),
    ],
)
def test_bad_standard_file_names_file_and_key(
    tmp_path: Path, extra: str, key: str, words: str
) -> None:
    # tables must come after the top-level keys, so put "extra" tables at the end
    path = tmp_path / "bad.toml"
    body = BASE.format(id="bad", region="310000", start="2021-07-01", amount=1, extra="")
    if extra.startswith("["):
        body += extra
    else:
        body = extra + body
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InvalidStandard) as err:
        load_standard(path)
    message = str(err.value)
    assert str(path) in message and repr(key) in message and words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('region = "310000"', 'region = "31"', "region"),
        ("income_window_months = 12", "income_window_months = 7", "income_window_months"),
        ("monthly_standard_fen = 1\n", "monthly_standard_fen = 1.5\n", "monthly_standard_fen"),
        ("effective_from = 2021-07-01", 'effective_from = "2021-07-01"', "effective_from"),
        ('source = "test"\n', "", "source"),
        ("money_assets_multiple = 4", "", "assets.money_assets_multiple"),
    ],
)
def test_wrong_or_missing_top_level_key_is_named(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    path = tmp_path / "bad.toml"
    body = BASE.format(id="bad", region="310000", start="2021-07-01", amount=1, extra="")
    assert old in body
    path.write_text(body.replace(old, new), encoding="utf-8")
    with pytest.raises(InvalidStandard) as err:
        load_standard(path)
    assert str(path) in str(err.value) and repr(key) in str(err.value)


def test_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("id = \n", encoding="utf-8")
    with pytest.raises(InvalidStandard, match=r"broken.toml.*not valid TOML"):
        load_standard(path)


def test_two_standards_taking_effect_the_same_day_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b")
    with pytest.raises(InvalidStandard, match=r"b.toml: key 'effective_from'.*a.toml"):
        StandardsLibrary(tmp_path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a", id="same")
    write(tmp_path, "b", id="same", start="2022-01-01")
    with pytest.raises(InvalidStandard, match=r"key 'id'.*also used by"):
        StandardsLibrary(tmp_path)

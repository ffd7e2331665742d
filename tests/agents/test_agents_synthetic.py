"""The synthetic department databases: deterministic, valid, labelled, department-shaped."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from stdnum.cn import ric

from hedui.agents.departments import DEPARTMENTS
from hedui.agents.synthetic import DEPARTMENT_IDS, LABELS, SeedSummary, seed
from hedui.agents.synthetic_people import (
    ASSET_LIMIT_FEN,
    CAPITAL_LIMIT_FEN,
    STANDARD_FEN,
    Population,
)

TODAY = date(2026, 11, 1)


def content_hash(path: Path) -> str:
    """SHA-256 over every row of every table, in a stable order."""
    h = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for t in tables:
            h.update(t.encode())
            for row in sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{t}"')):
                h.update(row.encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeedSummary:
    return seed(tmp_path_factory.mktemp("synthetic"), 300, seed=7, today=TODAY)


def test_same_seed_gives_identical_databases(tmp_path: Path, seeded: SeedSummary) -> None:
    again = seed(tmp_path / "again", 300, seed=7, today=TODAY)
    for dept in DEPARTMENT_IDS:
        assert content_hash(again.databases[dept]) == content_hash(seeded.databases[dept]), dept
    assert again.households_file.read_bytes() == seeded.households_file.read_bytes()
    assert again.rows == seeded.rows


def test_another_seed_gives_other_people(tmp_path: Path, seeded: SeedSummary) -> None:
    other = seed(tmp_path / "other", 300, seed=8, today=TODAY)
    assert content_hash(other.databases["public-security"]) != \
        content_hash(seeded.databases["public-security"])


def test_eight_databases_and_row_counts(seeded: SeedSummary) -> None:
    assert set(seeded.databases) == set(DEPARTMENTS)
    for dept, path in seeded.databases.items():
        assert path.name == f"{dept}.sqlite" and path.is_file()
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            for key, n in seeded.rows.items():
                d, table = key.split(".", 1)
                if d == dept:
                    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n, key


def test_person_count_and_valid_unique_id_numbers(seeded: SeedSummary) -> None:
    with sqlite3.connect(seeded.databases["public-security"]) as conn:
        ids = [r[0] for r in conn.execute("SELECT sfzh FROM hj_person")]
        living = conn.execute("SELECT count(*) FROM hj_person WHERE swbz = '0'").fetchone()[0]
    assert living == 300
    assert len(ids) == len(set(ids))
    bad = [i for i in ids if not ric.is_valid(i) or len(i) != 18]
    assert not bad, bad[:5]


def test_every_department_uses_the_same_people(seeded: SeedSummary) -> None:
    with sqlite3.connect(seeded.databases["public-security"]) as conn:
        people = {r[0] for r in conn.execute("SELECT sfzh FROM hj_person WHERE swbz = '0'")}
    with sqlite3.connect(seeded.databases["human-resources"]) as conn:
        assert {r[0] for r in conn.execute("SELECT aac002 FROM ac01")} == people
    for dept, sql in (("banks", "SELECT CUST_CERT_NO FROM DEP_ACCT"),
                      ("tax", "SELECT nsrsbh FROM sb_sbxx"),
                      ("housing", "SELECT HOLDER_CERT_NO FROM RE_HOLDER"),
                      ("market-regulation", "SELECT cerno FROM e_inv_person")):
        with sqlite3.connect(seeded.databases[dept]) as conn:
            assert {r[0] for r in conn.execute(sql)} <= people, dept


def test_every_label_is_present_with_its_evidence(seeded: SeedSummary) -> None:
    data = json.loads(seeded.households_file.read_text(encoding="utf-8"))
    assert set(data["samples"]) == set(LABELS)
    for label in LABELS:
        assert len(data["samples"][label]) >= 2, label
        assert data["labels"][label] >= 2, label
    for h in data["samples"]["eligible"]:
        f = h["facts"]
        assert f["monthly_income_per_capita_fen"] < STANDARD_FEN
        assert f["money_assets_fen"] <= ASSET_LIMIT_FEN * f["members"]
        assert f["subscribed_capital_fen"] <= CAPITAL_LIMIT_FEN
    for h in data["samples"]["ineligible-income"]:
        assert h["facts"]["monthly_income_per_capita_fen"] > STANDARD_FEN
    for h in data["samples"]["ineligible-assets"]:
        f = h["facts"]
        assert f["money_assets_fen"] > f["money_assets_limit_fen"]
    for h in data["samples"]["ineligible-business"]:
        assert h["facts"]["subscribed_capital_fen"] > CAPITAL_LIMIT_FEN
    for label, households in data["samples"].items():
        for h in households:
            assert h["expected"] == label
            assert h["members"][0]["relation"] == "RELATION_SELF"
            assert len(h["members"]) == h["facts"]["members"]


def test_vehicle_label_matches_the_vehicle_register(seeded: SeedSummary) -> None:
    data = json.loads(seeded.households_file.read_text(encoding="utf-8"))
    with sqlite3.connect(seeded.databases["public-security"]) as conn:
        cars = {r[0] for r in conn.execute(
            "SELECT syr_sfzh FROM jdc_vehicle WHERE zt = 'A' AND cllx IN ('K31','K33','H31')")}
    for label, households in data["samples"].items():
        for h in households:
            has_car = any(m["id_number"] in cars for m in h["members"])
            assert has_car == (label == "ineligible-vehicle"), (label, h["hukou_number"])


def _field_names(desc: object, acc: set[str]) -> set[str]:
    acc.add(desc.name.lower())  # type: ignore[attr-defined]
    for f in desc.fields:  # type: ignore[attr-defined]
        acc.add(f.name)
        if f.message_type is not None:
            _field_names(f.message_type, acc)
    return acc


def test_department_schemas_are_not_hedui_records(seeded: SeedSummary) -> None:
    """The mapping must really translate: no table or column is named like a record field."""
    for dept, d in DEPARTMENTS.items():
        hedui_names = _field_names(d.record_type.DESCRIPTOR, set())
        with sqlite3.connect(seeded.databases[dept]) as conn:
            names: set[str] = set()
            for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                names.add(t.lower())
                names |= {r[1].lower() for r in conn.execute(f'PRAGMA table_info("{t}")')}
        assert not names & hedui_names, (dept, names & hedui_names)


def test_id_columns_are_indexed(seeded: SeedSummary) -> None:
    with sqlite3.connect(seeded.databases["banks"]) as conn:
        plan = " ".join(str(r) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM DEP_ACCT WHERE CUST_CERT_NO = ?", ("x",)))
    assert "USING INDEX" in plan


def test_population_is_exactly_the_persons_asked_for() -> None:
    for n in (1, 2, 7, 50):
        assert sum(len(h.members) for h in Population(n, 3, TODAY)) == n


def test_persons_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        seed(tmp_path, 0)

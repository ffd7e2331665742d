"""The SQLAlchemy mapping adapter against the eight example mappings and synthetic data."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st

from hedui.agents.departments import DEPARTMENTS
from hedui.agents.fieldmask import all_leaves
from hedui.agents.mapping import MappingError, MappingSource
from hedui.agents.mapping_values import ValueProblem, to_fen
from hedui.agents.source import SourceUnavailable
from hedui.agents.synthetic import SeedSummary, seed
from hedui.agents.synthetic_people import Household, Person, Population
from hedui.v1 import records_pb2

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "deploy" / "agents"
TODAY = dt.date(2026, 11, 1)
PERSONS, SEED = 300, 5


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeedSummary:
    return seed(tmp_path_factory.mktemp("departments"), PERSONS, seed=SEED, today=TODAY)


@pytest.fixture(scope="module")
def households() -> list[Household]:
    return list(Population(PERSONS, SEED, TODAY))


def source(seeded: SeedSummary, dept: str) -> MappingSource:
    return MappingSource(MAPPINGS / f"{dept}.toml", f"sqlite:///{seeded.databases[dept]}")


# ------------------------------------------------------------ expected records


def _fill(obj: Any, msg: Message) -> Message:
    """Copy a model object onto a message by field name (the model uses proto names)."""
    for fd in msg.DESCRIPTOR.fields:
        value = getattr(obj, fd.name, None)
        if value is None:
            continue
        repeated = fd.is_repeated
        if fd.message_type is not None and fd.message_type.full_name == "hedui.v1.Date":
            target = getattr(msg, fd.name)
            if isinstance(value, tuple):
                target.year, target.month, target.day = value[0], value[1], 0
            else:
                target.year, target.month, target.day = value.year, value.month, value.day
        elif fd.message_type is not None and fd.message_type.name == "Period":
            start, end = (value.start, value.end) if hasattr(value, "start") else value
            _fill(type("P", (), {"start": start, "end": end})(), getattr(msg, fd.name))
        elif fd.message_type is not None and repeated:
            for item in value:
                _fill(item, getattr(msg, fd.name).add())
        elif fd.message_type is not None:
            getattr(msg, fd.name).SetInParent()
            _fill(value, getattr(msg, fd.name))
        elif fd.enum_type is not None:
            setattr(msg, fd.name, fd.enum_type.values_by_name[value].number)
        else:
            setattr(msg, fd.name, value)
    return msg


def expected(h: Household, p: Person, dept: str) -> Message:
    rec = DEPARTMENTS[dept].record_type()
    if dept == "public-security":
        reg = rec.household_registration
        reg.hukou_number, reg.region_code = h.hukou_number, h.region_code
        reg.relation_to_head = records_pb2.Relation.Value(p.relation)
        for m in h.registered:
            reg.members.add(id_number=m.id_number, name=m.name,
                            relation_to_head=records_pb2.Relation.Value(m.relation))
        _fill(type("R", (), {"moves": p.moves, "deceased": p.deceased_on is not None,
                             "death_date": p.deceased_on})(), reg)
        _fill(p, rec)
    elif dept == "housing":
        for prop in h.properties:
            for holder, share in prop.holders:
                if holder is p:
                    _fill(prop, rec.properties.add()).share_percent = share
        _fill(p, rec)
    elif dept == "provident-fund":
        _fill(type("A", (), {"account": p.pf_account, "withdrawals": p.withdrawals,
                             "loans": p.loans})(), rec)
    elif dept == "market-regulation":
        for b in h.businesses:
            for person, role, capital in b.roles:
                if person is p:
                    item = _fill(b, rec.businesses.add())
                    item.role = records_pb2.BusinessRegistration.Role.Value(role)
                    if capital is not None:
                        item.subscribed_capital_fen = capital
    else:
        _fill(p, rec)
    return rec


def canonical(msg: Message) -> Message:
    """Repeated fields sorted, so row order does not matter for equality."""
    for fd, value in msg.ListFields():
        if fd.message_type is None:
            continue
        if fd.is_repeated:
            items = [canonical(x) for x in value]
            items.sort(key=lambda m: m.SerializeToString(deterministic=True))
            del value[:]
            value.extend(items)
        else:
            canonical(value)
    return msg


# ------------------------------------------------------------ the eight mappings


@pytest.mark.parametrize("dept", list(DEPARTMENTS))
def test_example_mapping_is_clean_and_complete(seeded: SeedSummary, dept: str) -> None:
    src = source(seeded, dept)
    try:
        assert src.check() == []
        assert src.department == dept
        assert src.held_paths() == all_leaves(DEPARTMENTS[dept].record_type.DESCRIPTOR)
        assert src.data_as_of() == dt.date(2026, 10, 31)
    finally:
        src.close()


@pytest.mark.parametrize("dept", list(DEPARTMENTS))
def test_fetch_returns_exactly_what_was_seeded(seeded: SeedSummary,
                                               households: list[Household], dept: str) -> None:
    src = source(seeded, dept)
    people = [(h, p) for h in households for p in h.registered]
    try:
        got = src.fetch([p.id_number for _, p in people], src.held_paths())
    finally:
        src.close()
    knows_everybody = {"public-security": lambda p: True,
                       "human-resources": lambda p: p.deceased_on is None}
    compared = 0
    for h, p in people:
        want = canonical(expected(h, p, dept))
        if p.id_number not in got:
            assert want == type(want)(), (dept, p.id_number)
            assert dept not in knows_everybody or not knows_everybody[dept](p)
            continue
        assert canonical(got[p.id_number]) == want, (dept, p.id_number)
        compared += want.ByteSize() > 0
    assert compared > 0 and set(got) <= {p.id_number for _, p in people}


def test_amounts_dates_and_codes_are_translated(seeded: SeedSummary) -> None:
    with sqlite3.connect(seeded.databases["public-security"]) as conn:
        plate, owner, price, bought, zt = conn.execute(
            "SELECT hphm, syr_sfzh, gmjg_yuan, gmrq, zt FROM jdc_vehicle LIMIT 1").fetchone()
    src = source(seeded, "public-security")
    rec = src.fetch([owner], frozenset({"vehicles.*.plate", "vehicles.*.purchase_price_fen",
                                        "vehicles.*.purchase_date", "vehicles.*.status"}))[owner]
    v = next(v for v in rec.vehicles if v.plate == plate)
    assert v.purchase_price_fen == int(Decimal(price) * 100)
    assert (v.purchase_date.year, v.purchase_date.month, v.purchase_date.day) == \
        (int(bought[:4]), int(bought[4:6]), int(bought[6:]))
    assert v.status == {"A": 1, "B": 3, "C": 4, "E": 2}[zt]
    assert not v.displacement_ml and not rec.HasField("household_registration")  # not asked

    with sqlite3.connect(seeded.databases["market-regulation"]) as conn:
        cerno, subconam = conn.execute(
            "SELECT cerno, subconam FROM e_inv_person WHERE position = 'GD' LIMIT 1").fetchone()
    src = source(seeded, "market-regulation")
    rec = src.fetch([cerno], frozenset({"businesses.*.subscribed_capital_fen"}))[cerno]
    assert max(b.subscribed_capital_fen for b in rec.businesses) == \
        int(Decimal(subconam) * 1_000_000)

    with sqlite3.connect(seeded.databases["human-resources"]) as conn:
        idno, month, amount = conn.execute(
            "SELECT a.aac002, w.aae003, w.aae019 FROM ac43 w JOIN ac01 a USING (aac001) "
            "LIMIT 1").fetchone()
    src = source(seeded, "human-resources")
    rec = src.fetch([idno], frozenset({"wages.*.month", "wages.*.amount_fen"}))[idno]
    wage = next(w for w in rec.wages if w.month.month == int(month[4:]) and
                w.month.year == int(month[:4]))
    assert wage.month.day == 0  # a whole month
    assert wage.amount_fen == int(Decimal(amount) * 100)


def test_unknown_person_is_absent_and_batches_span_many_ids(seeded: SeedSummary) -> None:
    with sqlite3.connect(seeded.databases["public-security"]) as conn:
        ids = [r[0] for r in conn.execute("SELECT sfzh FROM hj_person")]
    src = source(seeded, "public-security")
    got = src.fetch([*ids, "11010119900307001X"],
                    frozenset({"household_registration.hukou_number"}))
    assert set(got) == set(ids)


def test_a_change_in_the_department_database_shows_in_the_next_fetch(
        seeded: SeedSummary, tmp_path: Path) -> None:
    """A fetch reads all its blocks in one read transaction; none may outlive it (a
    pooled connection still holding its snapshot would answer from the past)."""
    db = tmp_path / "ps.sqlite"
    shutil.copy(seeded.databases["public-security"], db)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")  # as a live department database would be
        person = conn.execute("SELECT sfzh FROM hj_person LIMIT 1").fetchone()[0]
    src = MappingSource(MAPPINGS / "public-security.toml", f"sqlite:///{db}")
    paths = frozenset({"household_registration.hukou_number"})
    assert src.fetch([person], paths)[person].household_registration.hukou_number
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE hj_person SET hh = 'MOVED-0001' WHERE sfzh = ?", (person,))
    got = src.fetch([person], paths)[person].household_registration.hukou_number
    src.close()
    assert got == "MOVED-0001"


# ------------------------------------------------------------ safety


def test_sql_injection_in_an_id_number_is_just_an_unknown_id(seeded: SeedSummary) -> None:
    src = source(seeded, "public-security")
    attacks = ["' OR '1'='1", "310101199003070011' OR 1=1 --",
               "x'); DROP TABLE hj_person; --", "310101199003070011\x00"]
    assert src.fetch(attacks, src.held_paths()) == {}
    with sqlite3.connect(seeded.databases["public-security"]) as conn:
        assert conn.execute("SELECT count(*) FROM hj_person").fetchone()[0] > PERSONS


def test_connection_is_read_only_even_for_a_writing_mapping(seeded: SeedSummary,
                                                            tmp_path: Path) -> None:
    db = tmp_path / "ps.sqlite"
    shutil.copy(seeded.databases["public-security"], db)
    with sqlite3.connect(db) as conn:
        victim = conn.execute("SELECT sfzh FROM hj_person LIMIT 1").fetchone()[0]
    config = {
        "department": "public-security",
        "database": f"sqlite:///{db}",
        "record": {"vehicles": {
            "sql": "DELETE FROM hj_person WHERE sfzh IN :ids RETURNING sfzh, xm",
            "key": "sfzh", "fields": {"plate": "xm"}}},
    }
    src = MappingSource(config)
    with pytest.raises(SourceUnavailable, match=r"readonly|read-only|read only"):
        src.fetch([victim], src.held_paths())
    with src._connect() as conn, pytest.raises(Exception, match=r"readonly|read-only"):
        conn.exec_driver_sql("CREATE TABLE pwned (x)")
    src.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM hj_person WHERE sfzh = ?",
                            (victim,)).fetchone()[0] == 1


# ------------------------------------------------------------ check()


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_wrong_column_is_named_with_its_line(seeded: SeedSummary, tmp_path: Path) -> None:
    text = (MAPPINGS / "public-security.toml").read_text(encoding="utf-8")
    broken = text.replace('purchase_price_fen = { column = "gmjg_yuan"',
                          'purchase_price_fen = { column = "gmjg"')
    assert broken != text
    path = tmp_path / "public-security.toml"
    path.write_text(broken, encoding="utf-8")
    src = MappingSource(path, f"sqlite:///{seeded.databases['public-security']}")
    problems = src.check()
    assert len(problems) == 1, problems
    line = _line_of(broken, "purchase_price_fen =")
    assert problems[0].where == f"{path}:{line}"
    assert "'gmjg'" in problems[0].message and "gmjg_yuan" in problems[0].message


BROKEN = '''\
department = "banks"
database = "sqlite:///{db}"
colour = "blue"
databse = "typo"

[record.deposits]
sql = "SELECT CUST_CERT_NO, FIN_ORG_NM, BAL FROM DEP_ACCT WHERE CUST_CERT_NO IN :ids"
key = "CUSTOMER"

[record.deposits.fields]
institution = "FIN_ORG_NM"
balance_fen = {{ column = "BAL", unit = "dollars" }}
kind = {{ column = "FIN_ORG_NM", codes = {{ "1" = "SAVINGS" }} }}
colour = "BAL"
as_off = "BAL"

[record.securities]
sql = "SELECT * FROM NO_SUCH_TABLE WHERE CUST_CERT_NO IN :ids"
key = "CUST_CERT_NO"

[record.securities.fields]
market_value_fen = "MKT_VAL_FEN"

[record.income]
sql = "SELECT * FROM PROP_INC WHERE CUST_CERT_NO = '{{}}'"
key = "CUST_CERT_NO"

[record.income.fields]
amount_fen = {{ column = "AMT", unit = "yuan", date_format = "%Y" }}
'''


def test_check_lists_every_problem_in_one_pass(seeded: SeedSummary, tmp_path: Path) -> None:
    text = BROKEN.format(db=seeded.databases["banks"])
    path = tmp_path / "banks.toml"
    path.write_text(text, encoding="utf-8")
    problems = MappingSource(path).check()
    by_line = {int(p.where.rsplit(":", 1)[1]): p.message for p in problems}
    expect = {
        "colour = \"blue\"": "unknown setting 'colour'",
        "databse": "unknown setting 'databse'; did you mean 'database'?",
        'key = "CUSTOMER"': "key column 'CUSTOMER'",
        'unit = "dollars"': "unknown unit 'dollars'",
        '"SAVINGS"': "unknown value 'SAVINGS'; the values are: KIND_DEMAND, KIND_TIME",
        'colour = "BAL"': "Deposit has no field 'colour' (its fields are: institution, kind",
        'as_off = ': "Deposit has no field 'as_off'; did you mean 'as_of'?",
        "NO_SUCH_TABLE": "the SQL fails: no such table: NO_SUCH_TABLE",
        "market_value_fen =": "is an amount: say its unit",
        "PROP_INC WHERE": "IN :ids",
        "date_format": "only dates take a date_format",
    }
    for needle, words in expect.items():
        line = _line_of(text, needle)
        assert line in by_line, (needle, problems)
        assert words in by_line[line], (needle, by_line[line])
    assert all(p.where.startswith(f"{path}:") for p in problems)


def test_unreachable_database_is_one_problem(tmp_path: Path) -> None:
    text = (MAPPINGS / "tax.toml").read_text(encoding="utf-8")
    path = tmp_path / "tax.toml"
    path.write_text(text, encoding="utf-8")
    problems = MappingSource(path, f"sqlite:///{tmp_path / 'missing.sqlite'}").check()
    assert len(problems) == 1
    assert "no SQLite database file" in problems[0].message
    assert problems[0].where == f"{path}:{_line_of(text, 'database =')}"
    src = MappingSource(path, "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    (problem,) = src.check()
    assert "cannot open the database" in problem.message and "nobody" in problem.message
    with pytest.raises(SourceUnavailable):
        src.fetch(["11010119900307001X"], src.held_paths())


def test_database_from_here_and_from_environment(seeded: SeedSummary, tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    shutil.copy(seeded.databases["tax"], tmp_path / "tax.sqlite")
    text = (MAPPINGS / "tax.toml").read_text(encoding="utf-8")
    path = folder / "tax.toml"
    path.write_text(text.replace("{here}/../../.demo/data/tax.sqlite", "{here}/../tax.sqlite"),
                    encoding="utf-8")
    assert MappingSource(path, environ={}).check() == []
    path.write_text(text, encoding="utf-8")
    assert MappingSource(path, environ={}).check() != []
    env = {"HEDUI_TAX_DB": f"sqlite:///{tmp_path / 'tax.sqlite'}"}
    assert MappingSource(path, environ=env).check() == []


def test_mapping_file_that_cannot_be_used_at_all(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('department = "police"\n', encoding="utf-8")
    with pytest.raises(MappingError, match=r"x\.toml:1.*public-security"):
        MappingSource(path)
    path.write_text("department = \n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid TOML"):
        MappingSource(path)


# ------------------------------------------------------------ money


@given(st.decimals(min_value=Decimal("-99999999999.99"), max_value=Decimal("99999999999.99"),
                   places=2, allow_nan=False, allow_infinity=False))
def test_yuan_to_fen_is_exact(amount: Decimal) -> None:
    fen = int(amount * 100)
    assert to_fen(str(amount), "yuan") == fen
    assert to_fen(amount, "yuan") == fen
    assert to_fen(float(str(amount)), "yuan") == fen  # REAL columns: via the shortest repr
    assert to_fen(f"{amount:,}", "元") == fen


@given(st.decimals(min_value=Decimal(0), max_value=Decimal("999999.999999"), places=6,
                   allow_nan=False, allow_infinity=False))
def test_wan_yuan_to_fen_is_exact_when_whole(amount: Decimal) -> None:
    exact = amount * 1_000_000
    assert to_fen(str(amount), "wan-yuan") == int(exact)


def test_fractions_of_a_fen_round_half_up_and_junk_is_refused() -> None:
    assert to_fen("0.005", "yuan") == 1
    assert to_fen("0.004", "yuan") == 0
    assert to_fen("-0.005", "yuan") == -1
    assert to_fen(12, "fen") == 12
    for junk in ("abc", "", "NaN", "Infinity", True, "1e400000"):
        with pytest.raises(ValueProblem):
            to_fen(junk, "yuan")


# ------------------------------------------------------------ PostgreSQL


def _pg_url() -> str:
    import os

    from sqlalchemy import create_engine, text

    url = os.environ.get("HEDUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: no usable server
        pytest.skip(f"PostgreSQL at {url} unavailable ({type(exc).__name__})")
    return url


_PG_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "NUMERIC": "numeric"}


@pytest.mark.postgres
@pytest.mark.parametrize("dept", ["public-security", "banks", "provident-fund"])
def test_postgresql_gives_the_same_records_read_only(seeded: SeedSummary, dept: str) -> None:
    """The same mapping over a PostgreSQL copy: NUMERIC as Decimal, lower-cased names."""
    import uuid
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    url = _pg_url()
    schema = f"t_agents_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    lite = sqlite3.connect(seeded.databases[dept])
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            tables = [t for (t,) in lite.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
            for t in tables:
                cols = [(r[1], _PG_TYPES.get(r[2], "text"))
                        for r in lite.execute(f'PRAGMA table_info("{t}")')]
                conn.execute(text(f"CREATE TABLE {schema}.{t} "
                                  f"({', '.join(f'{c} {ty}' for c, ty in cols)})"))
                rows = lite.execute(f'SELECT * FROM "{t}"').fetchall()
                if rows:
                    names = [c for c, _ in cols]
                    conn.execute(text(f"INSERT INTO {schema}.{t} VALUES "
                                      f"({', '.join(':' + n for n in names)})"),
                                 [dict(zip(names, r, strict=True)) for r in rows])
        ids = [r[0] for r in lite.execute("SELECT sfzh FROM hj_person")] \
            if dept == "public-security" else None
        pg_source = MappingSource(MAPPINGS / f"{dept}.toml",
                                  f"{url}?options={quote(f'-csearch_path={schema}')}")
        assert pg_source.check() == []
        if ids is None:
            col, table = {"banks": ("CUST_CERT_NO", "DEP_ACCT"),
                          "provident-fund": ("zjhm", "gr_zh")}[dept]
            ids = [r[0] for r in lite.execute(f"SELECT {col} FROM {table}")]
        lite_source = source(seeded, dept)
        paths = lite_source.held_paths()
        assert pg_source.fetch(ids, paths) == lite_source.fetch(ids, paths)
        assert pg_source.data_as_of() == lite_source.data_as_of()
        with pg_source._connect() as conn, pytest.raises(Exception, match="read-only"):
            conn.exec_driver_sql("CREATE TABLE pwned (x int)")
        pg_source.close()
        lite_source.close()
    finally:
        lite.close()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

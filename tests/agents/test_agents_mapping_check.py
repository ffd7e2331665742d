"""`hedui agent check` runs every block as serving does; failing blocks are logged usefully.

Real SQLite databases throughout; the serving-log test starts a real agent process and
breaks its database under it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.dialects.postgresql import psycopg

from hedui.agents import mapping_sample
from hedui.agents.mapping import MappingSource
from hedui.agents.mapping_config import load
from hedui.agents.mapping_sql import compile_block
from hedui.agents.mapping_values import ValueProblem, to_ml
from hedui.agents.source import SourceUnavailable
from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import keyfile, tls
from hedui.v1 import agent_pb2_grpc

HUSBAND, WIFE = "110101198001010011", "11010119820202002X"
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")

PAIR_SQL = """
SELECT nf_sfzh AS zjhm, vf_sfzh AS po_sfzh, djrq FROM hy_jhdj WHERE nf_sfzh IN :ids
UNION ALL
SELECT vf_sfzh, nf_sfzh, djrq FROM hy_jhdj WHERE vf_sfzh IN :ids
"""


def _marriages(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE hy_jhdj (nf_sfzh TEXT, vf_sfzh TEXT, djrq TEXT)")
        conn.execute("INSERT INTO hy_jhdj VALUES (?, ?, '2010-05-01')", (HUSBAND, WIFE))
    conn.close()
    return path


def _mapping(tmp_path: Path, sql: str, fields: str = 'spouse_id_number = "po_sfzh"\n'
             'since = "djrq"\n') -> Path:
    db = _marriages(tmp_path / "civil.sqlite")
    path = tmp_path / "civil.toml"
    path.write_text(f'department = "civil-affairs"\ndatabase = "sqlite:///{db}"\n\n'
                    f'[record.marriage]\nsql = """{sql}"""\nkey = "zjhm"\n\n'
                    f'[record.marriage.fields]\nstatus = {{ value = "MARRIED" }}\n{fields}',
                    encoding="utf-8")
    return path


def test_ids_named_twice_is_served_and_checked_clean(tmp_path: Path) -> None:
    src = MappingSource(_mapping(tmp_path, PAIR_SQL))
    assert src.check() == []
    # two subjects, and one alone: a second chunk size compiles its own statement
    records = src.fetch([HUSBAND, WIFE.lower()], src.held_paths())
    assert records[HUSBAND].marriage.spouse_id_number == WIFE
    assert records[WIFE.lower()].marriage.spouse_id_number == HUSBAND
    assert src.fetch([WIFE], src.held_paths())[WIFE].marriage.spouse_id_number == HUSBAND
    src.close()


def test_named_placeholders_take_each_id_by_name() -> None:
    """PostgreSQL's driver names its placeholders: every repeat maps to the same ID."""
    block = load({"department": "civil-affairs", "database": "sqlite:///x",
                  "record": {"marriage": {"sql": PAIR_SQL, "key": "zjhm",
                                          "fields": {"since": "djrq"}}}}).blocks[0]
    sql, picks, positional = compile_block(block, psycopg.dialect(), 2)
    assert not positional and sorted(picks) == [("ids_1", 0), ("ids_2", 1)]
    assert sql.count("%(ids_1)s") == 2


def _line(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_a_block_that_fails_serving_fails_check_with_its_line(tmp_path: Path) -> None:
    path = _mapping(tmp_path, PAIR_SQL.replace("djrq FROM hy_jhdj WHERE nf",
                                               "djrq, xm FROM hy_jhdj WHERE nf"))
    src = MappingSource(path)
    (problem,) = src.check()
    assert problem.where == f"{path}:{_line(path, 'sql = ')}"
    assert "record.marriage.sql: the SQL fails: no such column: xm" in problem.message
    with pytest.raises(SourceUnavailable) as info:
        src.fetch([HUSBAND], src.held_paths())
    assert info.value.block == "marriage"
    assert info.value.cause == "OperationalError: no such column: xm"
    src.close()


def test_check_runs_blocks_through_the_serving_function(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    serving_run = MappingSource._run

    def spy(self: MappingSource, cursor: Any, dialect: Any, block: Any,
            chunk: list[str]) -> Any:
        ran.append(block.name)
        return serving_run(self, cursor, dialect, block, chunk)

    monkeypatch.setattr(MappingSource, "_run", spy)
    assert MappingSource(_mapping(tmp_path, PAIR_SQL)).check() == []
    assert ran == ["marriage"]


def test_another_parameter_than_ids_is_a_problem_not_a_serving_failure(tmp_path: Path) -> None:
    path = _mapping(tmp_path, PAIR_SQL.replace("WHERE vf_sfzh IN :ids",
                                               "WHERE vf_sfzh IN :ids AND djrq > :since"))
    src = MappingSource(path)
    (problem,) = src.check()
    assert "names :since; only :ids" in problem.message
    assert src.held_paths() == frozenset()  # the block is not served
    src.close()


def test_sample_prints_masked_records_and_totals(tmp_path: Path) -> None:
    path = _mapping(tmp_path, PAIR_SQL, 'spouse_id_number = "po_sfzh"\nsince = "djrq"\n')
    src = MappingSource(path)
    ids, notes = mapping_sample.pick_subjects(src, 5)
    assert sorted(ids) == sorted([HUSBAND, WIFE]) and notes == []
    out = "\n".join(mapping_sample.report(src, ids))
    assert "rows found: 2, for 2 of the 2 person(s)" in out
    assert "spouse_id_number: 1101**********002X" in out
    assert "status: MARRIED" in out and "since: 2010-05-01" in out
    assert not FULL_ID.search(out)
    src.close()


# ------------------------------------------------------------ volumes (check and fetch)


@pytest.mark.parametrize("unit", ["litre", "L", "升"])
def test_displacement_in_litres_becomes_whole_millilitres(tmp_path: Path, unit: str) -> None:
    db = tmp_path / "ps.sqlite"
    owners = {"110101198001010011": "1.6", "110101198202020022": "1.598",
              "110101197001010031": "2"}
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE cl (sfzh TEXT, pl TEXT, pl_ml INTEGER)")
        conn.executemany("INSERT INTO cl VALUES (?, ?, 0)", owners.items())
    conn.close()
    config = {"department": "public-security", "database": f"sqlite:///{db}",
              "record": {"vehicles": {"sql": "SELECT * FROM cl WHERE sfzh IN :ids",
                                      "key": "sfzh",
                                      "fields": {"displacement_ml": {"column": "pl",
                                                                     "unit": unit}}}}}
    src = MappingSource(config)
    assert src.check() == []
    got = src.fetch(list(owners), src.held_paths())
    assert {k: r.vehicles[0].displacement_ml for k, r in got.items()} == {
        "110101198001010011": 1600, "110101198202020022": 1598, "110101197001010031": 2000}
    config["record"]["vehicles"]["fields"]["displacement_ml"]["unit"] = "gallon"
    (problem,) = MappingSource(config).check()
    assert "unknown unit 'gallon'" in problem.message and "litre" in problem.message
    src.close()


def test_litres_to_millilitres_is_exact_and_refuses_junk() -> None:
    assert to_ml("1.6", "litre") == 1600
    assert to_ml(1.598, "升") == 1598  # a REAL column, via its shortest repr
    assert to_ml(Decimal("2.4995"), "L") == 2500  # half-up to a whole millilitre
    assert to_ml("1998", "cc") == 1998
    for junk in ("abc", "-1.6", "NaN", True):
        with pytest.raises(ValueProblem):
            to_ml(junk, "litre")


# ------------------------------------------------------------ a real agent process


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("failing-block")
    sb = sandbox.provision(root / "site", persons=40, departments=["public-security"])
    yield sb


def test_check_sample_from_the_command_line_masks_every_id(site: sandbox.Sandbox) -> None:
    config = site.agent_config("public-security")
    out = subprocess.run([*sandbox.hedui_command(), "agent", "check", "--config", str(config),
                          "--sample", "2"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "[record.vehicles]" in out.stdout and "rows found:" in out.stdout
    assert "first record (person 3" in out.stdout and " yuan" in out.stdout
    assert not FULL_ID.search(out.stdout + out.stderr)
    bad = subprocess.run([*sandbox.hedui_command(), "agent", "check", "--config", str(config),
                          "--subjects", "31010119900307001"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and "31010119900307001" not in bad.stdout + bad.stderr


def test_a_failing_block_is_logged_by_name_and_error_without_personal_data(
        site: sandbox.Sandbox) -> None:
    dept = "public-security"
    db = site.data_dir / f"{dept}.sqlite"
    with sqlite3.connect(db) as conn:
        person = conn.execute("SELECT syr_sfzh FROM jdc_vehicle LIMIT 1").fetchone()[0]
    conn.close()
    gateway_key = keyfile.load_signing_key(site.gateway.signing_key)
    log = AuditLog.create(f"sqlite:///{site.root / 'gateway-audit.sqlite'}",
                          origin="county.example/gateway/audit",
                          key_name=site.gateway.id.removeprefix("spiffe://"),
                          signing_key=gateway_key)
    log.append(b"first entry")
    checkpoint = log.checkpoint()
    log.close()
    process = sandbox.start_agent(site, dept)
    log_file = site.logs / f"agent-{dept}.log"
    material = sandbox.gateway_material(site)
    try:
        sandbox.wait_healthy(site.endpoints[dept], site.agents[dept].id, material,
                             process=process, log_file=log_file)
        with sqlite3.connect(db) as conn:  # the department renames a column under it
            conn.execute("ALTER TABLE jdc_vehicle RENAME COLUMN cllx TO cllx_dm")
        conn.close()
        query = build_query(
            issuer=site.gateway.id, audience=site.agents[dept].id, case_id="case-broken",
            purpose="dibao", operator="op-1001", subjects=[SubjectRef(person, "测试")],
            field_paths=["vehicles.*.kind"], authorization_number="SQ-TEST-1",
            consent_digest="ab" * 32, audit_checkpoint=checkpoint)
        creds = tls.channel_credentials(*material)
        with grpc.secure_channel(site.endpoints[dept], creds,
                                 options=tls.channel_options(site.agents[dept].id)) as ch, \
                pytest.raises(grpc.RpcError) as info:
            agent_pb2_grpc.DepartmentAgentStub(ch).Answer(
                sign_query(query, gateway_key).envelope, timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        sandbox.stop_process(process)
    text = log_file.read_text(encoding="utf-8")
    events = [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]
    failed = [e for e in events if e.get("event") == "department database failed"]
    assert failed, text[-2000:]
    assert failed[0]["block"] == "vehicles"
    assert failed[0]["error"] == "OperationalError: no such column: cllx"
    assert failed[0]["case_id"] == "case-broken"
    assert person not in text and person[6:14] not in text  # not even the birth date
    assert "SELECT" not in text and "jdc_vehicle" not in text

"""`hedui audit …` as a privacy officer runs it: verify names the damage, searches and
subject reports find one person's accesses by ID number and are themselves logged."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hedui.audit.entries import AccessRecorder, decode
from hedui.audit.pseudonym import Pseudonymizer
from hedui.audit.store import AuditLog
from hedui.keys import keyfile, signing
from hedui.v1 import audit_pb2

PERSON = "110101199003074477"
OTHER = "11010519491231002X"
KEY = bytes(range(32))


def hedui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hedui.cli", *args], capture_output=True,
                          text=True)


@pytest.fixture()
def log_db(tmp_path: Path) -> tuple[str, Path, Path]:
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    key = signing.generate_signing_key()
    key_file = tmp_path / "log.key"
    keyfile.write_private_key(key_file, key)
    secret = tmp_path / "pseudonym.key"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, KEY.hex().encode())
    os.close(fd)
    log = AuditLog.create(url, origin="county.example/gateway/audit",
                          key_name="county.example/gateway/center", signing_key=key,
                          pseudonym_key=KEY)  # as the gateway writes it: check value stored
    rec = AccessRecorder(log, actor="spiffe://county.example/gateway/center",
                         pseudonymizer=Pseudonymizer(KEY))
    for dept in ("banks", "tax", "housing"):
        rec.record(audit_pb2.AUDIT_KIND_QUERY_SENT, operator="op-1001", case_id="case-1",
                   purpose="dibao", department=dept, id_numbers=[PERSON, OTHER],
                   field_paths=["deposits"])
    rec.record(audit_pb2.AUDIT_KIND_QUERY_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
               operator="op-1002", case_id="case-2", purpose="dibao", department="banks",
               id_numbers=[OTHER], reason="FIELD_OUTSIDE_POLICY")
    log.checkpoint()
    log.close()
    return url, secret, key_file


def test_verify_reports_an_intact_log(log_db) -> None:
    url, *_ = log_db
    result = hedui("audit", "verify", "--db", url)
    assert result.returncode == 0, result.stderr
    assert "intact: 4 entries" in result.stdout


def _attack(url: str, *statements: tuple[str, tuple]) -> None:
    """What an attacker with database access does: drop the triggers, edit rows."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    for sql, args in statements:
        conn.execute(sql, args)
    conn.commit()
    conn.close()


def _entry(url: str, idx: int) -> bytes:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    entry = conn.execute("SELECT entry FROM audit_leaves WHERE idx = ?", (idx,)).fetchone()[0]
    conn.close()
    return entry


def test_verify_names_the_changed_leaf(log_db) -> None:
    url, *_ = log_db
    entry = _entry(url, 2)
    _attack(url, ("UPDATE audit_leaves SET entry = ? WHERE idx = 2",
                  (entry[:-1] + bytes([entry[-1] ^ 1]),)))
    result = hedui("audit", "verify", "--db", url)
    assert result.returncode == 1
    assert "leaf 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_names_a_deleted_row(log_db) -> None:
    url, *_ = log_db
    _attack(url, ("DELETE FROM audit_leaves WHERE idx = 1", ()))
    result = hedui("audit", "verify", "--db", url)
    assert result.returncode == 1
    assert "leaf 1" in result.stderr


def test_verify_names_reordered_rows(log_db) -> None:
    url, *_ = log_db
    a, b = _entry(url, 1), _entry(url, 2)
    _attack(url, ("UPDATE audit_leaves SET entry = ? WHERE idx = 1", (b,)),
            ("UPDATE audit_leaves SET entry = ? WHERE idx = 2", (a,)))
    result = hedui("audit", "verify", "--db", url)
    assert result.returncode == 1
    assert "leaf 1" in result.stderr


def test_verify_names_a_swapped_checkpoint(log_db, tmp_path: Path) -> None:
    url, *_ = log_db
    other = AuditLog.create(f"sqlite:///{tmp_path / 'other.sqlite'}",
                            origin="county.example/gateway/audit",
                            key_name="county.example/gateway/center",
                            signing_key=signing.generate_signing_key())
    other.append(b"something else")
    forged = other.checkpoint()
    other.close()
    _attack(url, ("UPDATE audit_checkpoints SET note = ? WHERE size = 4", (forged,)))
    result = hedui("audit", "verify", "--db", url)
    assert result.returncode == 1
    assert "checkpoint" in result.stderr


def test_verify_refuses_a_log_re_keyed_behind_the_pinned_vkey(log_db) -> None:
    url, *_ = log_db
    pinned = json.loads(hedui("audit", "checkpoint", "--db", url).stdout)["vkey"]
    from hedui.audit.checkpoint import format_vkey

    other = format_vkey("county.example/gateway/center",
                        signing.generate_signing_key().verify_key)  # a real key, not the log's
    assert hedui("audit", "verify", "--db", url, "--vkey", pinned).returncode == 0
    refused = hedui("audit", "verify", "--db", url, "--vkey", other)
    assert refused.returncode == 2
    assert "do not trust it" in refused.stderr


def test_search_by_id_number_finds_that_person_only_and_is_logged(log_db) -> None:
    url, secret, _ = log_db
    result = hedui("audit", "search", "--db", url, "--id", PERSON, "--pseudonym-key",
                   str(secret), "--officer", "po-2001", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["department"] for r in rows] == ["banks", "tax", "housing"]
    assert PERSON not in result.stdout  # the output carries pseudonyms only
    log = AuditLog.open(url, origin="county.example/gateway/audit",
                        key_name="county.example/gateway/center",
                        verify_key=_vkey(url))
    last = decode(log.leaf(log.size() - 1))
    log.close()
    assert last.kind == audit_pb2.AUDIT_KIND_AUDIT_SEARCHED
    assert last.operator == "po-2001"
    assert PERSON.encode() not in last.SerializeToString()


def test_search_by_operator_kind_and_table_output(log_db) -> None:
    url, secret, _ = log_db
    result = hedui("audit", "search", "--db", url, "--operator", "op-1002", "--kind",
                   "query-refused", "--pseudonym-key", str(secret))
    assert result.returncode == 0, result.stderr
    assert "FIELD_OUTSIDE_POLICY" in result.stdout
    assert "case-1" not in result.stdout


def test_subject_report_lists_who_read_what(log_db) -> None:
    url, secret, key_file = log_db
    result = hedui("audit", "subject-report", "--db", url, "--id", OTHER, "--pseudonym-key",
                   str(secret), "--json", "--signing-key", str(key_file))
    assert result.returncode == 0, result.stderr
    accesses = json.loads(result.stdout)["accesses"]
    assert {a["department"] for a in accesses} == {"banks", "tax", "housing"}
    assert any(a["outcome"] == "refused" for a in accesses)
    # the report is logged and covered by a new checkpoint
    verify = hedui("audit", "verify", "--db", url)
    assert verify.returncode == 0
    assert "intact: 5 entries" in verify.stdout
    assert "up to size 5" in verify.stdout


def test_malformed_id_number_is_one_line_and_not_echoed(log_db) -> None:
    url, secret, _ = log_db
    bad = PERSON[:-1] + "0"
    result = hedui("audit", "subject-report", "--db", url, "--id", bad, "--pseudonym-key",
                   str(secret))
    assert result.returncode != 0
    assert bad not in result.stderr
    assert result.stderr.count("\n") == 1


def test_proof_and_checkpoint_are_json_that_verifies(log_db) -> None:
    import base64

    from hedui.audit.hashing import leaf_hash
    from hedui.audit.proof_verify import verify_inclusion

    url, *_ = log_db
    cp = json.loads(hedui("audit", "checkpoint", "--db", url).stdout)
    proof = json.loads(hedui("audit", "proof", "--db", url, "--leaf", "1", "--size",
                             str(cp["size"])).stdout)
    log = AuditLog.open(url, origin=cp["origin"], key_name="county.example/gateway/center",
                        verify_key=_vkey(url))
    entry = log.leaf(1)
    log.close()
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(entry)
    verify_inclusion(leaf_hash(entry), 1, cp["size"],
                     [base64.b64decode(h) for h in proof["proof"]], base64.b64decode(cp["root"]))


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = hedui("audit", "verify", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "no audit log" in result.stderr


def _vkey(url: str):
    from hedui.audit.checkpoint import parse_vkey
    from hedui.audit.store import read_meta

    return parse_vkey(read_meta(url)[2])[1]


def test_verify_names_a_leaf_rewritten_as_text(log_db) -> None:
    """A tamperer storing text where bytes belong gets the leaf named, not a traceback."""
    url, *_ = log_db
    _attack(url, ("UPDATE audit_leaves SET entry = 'x' || substr(entry, 2) WHERE idx = 3", ()))
    result = hedui("audit", "verify", "--db", url)
    assert result.returncode == 1
    assert "leaf 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_takes_a_file_path_as_people_type_it(log_db, tmp_path: Path) -> None:
    url, *_ = log_db
    path = url.removeprefix("sqlite:///")
    result = hedui("audit", "verify", "--db", path)
    assert result.returncode == 0 and "intact: 4 entries" in result.stdout, result.stderr
    missing = hedui("audit", "verify", "--db", str(tmp_path / "nowhere.sqlite"))
    assert missing.returncode != 0 and "no such file" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_a_vkey_that_is_not_a_key_is_called_so(log_db) -> None:
    url, *_ = log_db
    result = hedui("audit", "verify", "--db", url, "--vkey", "pseudonym.key")
    assert result.returncode != 0
    assert "--vkey is not a verifier key" in result.stderr and "replaced" not in result.stderr


def test_table_output_is_never_cut(log_db) -> None:
    """Fields were cut at 48 characters: a field list could not be read whole."""
    url, secret, key_file = log_db
    log = AuditLog.open(url, origin="county.example/gateway/audit",
                        key_name="county.example/gateway/center",
                        signing_key=keyfile.load_signing_key(key_file), pseudonym_key=KEY)
    paths = ["deposits.*.balance_fen", "securities.*.market_value_fen", "income.*.amount_fen"]
    AccessRecorder(log, actor="spiffe://county.example/gateway/center",
                   pseudonymizer=Pseudonymizer(KEY)).record(
        audit_pb2.AUDIT_KIND_QUERY_SENT, operator="op-1001", case_id="case-3", purpose="dibao",
        department="banks", id_numbers=[PERSON], field_paths=paths, role="verifier")
    log.checkpoint()
    log.close()
    result = hedui("audit", "subject-report", "--db", url, "--id", PERSON,
                   "--pseudonym-key", str(secret), "--officer", "po-1")
    assert result.returncode == 0, result.stderr
    assert ",".join(paths) in result.stdout  # 73 characters, whole
    header, _rule, *lines = result.stdout.splitlines()[2:]
    assert "role" in header.split()
    assert any("op-1001" in line and "verifier" in line and "case-3" in line for line in lines)

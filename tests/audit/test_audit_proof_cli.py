"""`hedui audit proof` proves against the latest *signed* checkpoint, and
`hedui audit verify-proof` checks its files offline: one line, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from hedui.audit.checkpoint import format_vkey
from hedui.audit.store import AuditLog
from hedui.keys import keyfile

ORIGIN = "county.example/gateway/audit"
KEY_NAME = "county.example/gateway/center"
LOG_KEY = SigningKey(b"\x11" * 32)
VKEY = format_vkey(KEY_NAME, LOG_KEY.verify_key)


def hedui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hedui.cli", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture()
def log_db(tmp_path: Path) -> tuple[str, Path]:
    """Checkpoints at 4 and 6, then two entries the gateway has not yet signed over
    (a privacy officer's searches, appended while the gateway was idle)."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    with AuditLog.create(url, origin=ORIGIN, key_name=KEY_NAME, signing_key=LOG_KEY) as log:
        log.append_many([f"access {i}".encode() for i in range(4)])
        log.checkpoint()
        log.append_many([b"access 4", b"access 5"])
        log.checkpoint()
        log.append_many([b"search by po-2001", b"search by po-2002"])
    keyfile.write_private_key(tmp_path / "log.key", LOG_KEY)
    return url, tmp_path


def _files(out: Path) -> dict[str, Path]:
    return {p.name: p for p in out.iterdir()}


def test_proof_is_against_the_latest_signed_checkpoint(log_db) -> None:
    url, _ = log_db
    result = hedui("audit", "proof", "--db", url, "--leaf", "2")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["tree_size"] == 6  # the log has 8 entries; only 6 are signed over
    assert doc["type"] == "inclusion" and doc["origin"] == ORIGIN


def test_an_entry_beyond_the_signed_checkpoint_is_refused_in_one_line(log_db) -> None:
    url, _ = log_db
    result = hedui("audit", "proof", "--db", url, "--leaf", "7")
    assert result.returncode == 2 and result.stdout == ""
    assert "not covered by the signed checkpoint of 6" in result.stderr
    assert result.stderr.count("\n") == 1
    unsigned = hedui("audit", "proof", "--db", url, "--leaf", "1", "--size", "5")
    assert unsigned.returncode == 2 and "signed no checkpoint of 5" in unsigned.stderr


def test_signing_key_signs_over_the_whole_log_first(log_db) -> None:
    url, tmp = log_db
    result = hedui("audit", "proof", "--db", url, "--leaf", "7", "--signing-key",
                   str(tmp / "log.key"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tree_size"] == 8


def test_an_inclusion_proof_verifies_offline(log_db) -> None:
    url, tmp = log_db
    out = tmp / "for-the-auditor"
    wrote = hedui("audit", "proof", "--db", url, "--leaf", "5", "--out", str(out))
    assert wrote.returncode == 0, wrote.stderr
    assert wrote.stdout.count("\n") == 1
    files = _files(out)
    assert set(files) == {"proof-entry-5-at-6.json", "entry-5.bin", "checkpoint-6.txt"}
    assert files["entry-5.bin"].read_bytes() == b"access 5"
    args = ["audit", "verify-proof", "--proof", str(files["proof-entry-5-at-6.json"]),
            "--checkpoint", str(files["checkpoint-6.txt"]), "--vkey", VKEY]
    ok = hedui(*args, "--entry", str(files["entry-5.bin"]))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: ") and ok.stdout.count("\n") == 1
    # another entry: the proof does not hold
    forged = tmp / "forged.bin"
    forged.write_bytes(b"access 5, nothing to see")
    bad = hedui(*args, "--entry", str(forged))
    assert bad.returncode == 1 and bad.stderr.startswith("PROOF FAILED: ")
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_a_checkpoint_that_is_not_the_logs_fails(log_db) -> None:
    url, tmp = log_db
    out = tmp / "p"
    assert hedui("audit", "proof", "--db", url, "--leaf", "1", "--out", str(out)).returncode == 0
    files = _files(out)
    proof, entry = str(files["proof-entry-1-at-6.json"]), str(files["entry-1.bin"])
    # signed by another key, under the same name
    other = format_vkey(KEY_NAME, SigningKey(b"\x12" * 32).verify_key)
    result = hedui("audit", "verify-proof", "--proof", proof, "--entry", entry,
                   "--checkpoint", str(files["checkpoint-6.txt"]), "--vkey", other)
    assert result.returncode == 1 and "does not verify under the log's key" in result.stderr
    # the log's checkpoint of another size
    earlier = hedui("audit", "proof", "--db", url, "--leaf", "1", "--size", "4", "--out",
                    str(tmp / "q"))
    assert earlier.returncode == 0, earlier.stderr
    result = hedui("audit", "verify-proof", "--proof", proof, "--entry", entry,
                   "--checkpoint", str(tmp / "q" / "checkpoint-4.txt"), "--vkey", VKEY)
    assert result.returncode == 1 and "tree of 6 entries" in result.stderr
    # an edited note
    edited = tmp / "edited.txt"
    edited.write_text(files["checkpoint-6.txt"].read_text().replace("\n6\n", "\n7\n"))
    result = hedui("audit", "verify-proof", "--proof", proof, "--entry", entry,
                   "--checkpoint", str(edited), "--vkey", VKEY)
    assert result.returncode == 1


def test_a_consistency_proof_verifies_offline(log_db) -> None:
    url, tmp = log_db
    out = tmp / "c"
    wrote = hedui("audit", "proof", "--db", url, "--from", "4", "--out", str(out))
    assert wrote.returncode == 0, wrote.stderr
    files = _files(out)
    assert set(files) == {"proof-consistency-4-to-6.json", "checkpoint-4.txt",
                          "checkpoint-6.txt"}
    proof = str(files["proof-consistency-4-to-6.json"])
    ok = hedui("audit", "verify-proof", "--proof", proof, "--vkey", VKEY,
               "--old-checkpoint", str(files["checkpoint-4.txt"]),
               "--checkpoint", str(files["checkpoint-6.txt"]))
    assert ok.returncode == 0 and "extends its checkpoint of 4" in ok.stdout, ok.stderr
    swapped = hedui("audit", "verify-proof", "--proof", proof, "--vkey", VKEY,
                    "--old-checkpoint", str(files["checkpoint-6.txt"]),
                    "--checkpoint", str(files["checkpoint-4.txt"]))
    assert swapped.returncode == 1 and swapped.stderr.startswith("PROOF FAILED: ")
    mixed = hedui("audit", "verify-proof", "--proof", proof, "--vkey", VKEY,
                  "--entry", str(files["checkpoint-4.txt"]),
                  "--checkpoint", str(files["checkpoint-6.txt"]))
    assert mixed.returncode == 2 and "consistency proof" in mixed.stderr
    not_signed = hedui("audit", "proof", "--db", url, "--from", "5")
    assert not_signed.returncode == 2 and "--from 5" in not_signed.stderr


@pytest.mark.parametrize("case", ["missing", "not-json", "bad-vkey", "other-format"])
def test_inputs_that_cannot_be_checked_exit_2(log_db, case: str) -> None:
    url, tmp = log_db
    out = tmp / "p"
    assert hedui("audit", "proof", "--db", url, "--leaf", "0", "--out", str(out)).returncode == 0
    files = _files(out)
    proof, vkey = files["proof-entry-0-at-6.json"], VKEY
    if case == "missing":
        proof = tmp / "nowhere.json"
    elif case == "not-json":
        proof.write_bytes(os.urandom(64))
    elif case == "bad-vkey":
        vkey = "not a key"
    else:
        proof.write_text(json.dumps({"format": "something-else/1"}))
    result = hedui("audit", "verify-proof", "--proof", str(proof), "--vkey", vkey,
                   "--entry", str(files["entry-0.bin"]),
                   "--checkpoint", str(files["checkpoint-6.txt"]))
    assert result.returncode == 2, result
    assert result.stderr.startswith("hedui: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr

"""Many writers, one tree: threads of one process and separate OS processes.

Whatever the interleaving, the log must end up as one tree with indexes 0..n-1, every
entry exactly once, and every inclusion proof verifying against the final checkpoint.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

import pytest
from audit_testlib import KEY_NAME, ORIGIN
from nacl.signing import SigningKey

from hedui.audit.hashing import leaf_hash
from hedui.audit.proof_verify import verify_inclusion
from hedui.audit.store import AuditLog


def _check_one_tree(log: AuditLog, expected: set[bytes]) -> None:
    cp = log.open_note(log.checkpoint())
    entries = list(log.iter_entries())
    assert [i for i, _ in entries] == list(range(len(expected))) == list(range(cp.size))
    assert {e for _, e in entries} == expected  # each exactly once: sizes match
    for index, entry in entries:
        proof = log.inclusion_proof(index, cp.size)
        verify_inclusion(leaf_hash(entry), index, cp.size, proof, cp.root)
    log.verify_all()


def test_eight_threads_append_into_one_tree(log: AuditLog) -> None:
    threads, per = 8, 500
    got: dict[int, bytes] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(per):
            entry = f"thread {t} entry {i}".encode()
            index = log.append(entry)
            with lock:
                assert index not in got
                got[index] = entry

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(got) == list(range(threads * per))
    assert all(log.leaf(i) == e for i, e in list(got.items())[::97])
    _check_one_tree(log, set(got.values()))


WORKER = r"""
import sys, threading
from nacl.signing import SigningKey
from hedui.audit.store import AuditLog

url, schema, tag, count, seed, origin, key_name = sys.argv[1:8]
log = AuditLog.open(url, origin=origin, key_name=key_name, schema=schema or None,
                    signing_key=SigningKey(bytes.fromhex(seed)))
threads, chunk = 4, 25
per = int(count) // threads
print("ready", flush=True)
sys.stdin.readline()  # wait until every process is ready

def work(t):
    for start in range(0, per, chunk):
        stop = min(start + chunk, per)
        log.append_many([f"{tag}:{t}:{i}".encode() for i in range(start, stop)])

ws = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for w in ws: w.start()
for w in ws: w.join()
log.close()
print("done", flush=True)
"""


def _run_processes(url: str, schema: str | None, key: SigningKey, count: int) -> set[bytes]:
    args = [url, schema or "", "", str(count), bytes(key).hex(), ORIGIN, KEY_NAME]
    procs = []
    for tag in ("A", "B"):
        args[2] = tag
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        ))  # fmt: skip
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "done"
    per = count // 4
    return {f"{tag}:{t}:{i}".encode() for tag in "AB" for t in range(4) for i in range(per)}


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_processes_share_one_postgres_log(
    make_log: Callable[..., AuditLog], backend: dict[str, object], signing_key: SigningKey
) -> None:
    log = make_log()  # creates the schema and tables first
    expected = _run_processes(str(backend["url"]), str(backend["schema"]), signing_key, 10_000)
    assert log.size() == 20_000
    first_half = {e[:1] for _, e in log.iter_entries(0, 10_000)}
    assert first_half == {b"A", b"B"}  # the processes really did interleave
    _check_one_tree(log, expected)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_two_processes_share_one_sqlite_log(
    make_log: Callable[..., AuditLog], backend: dict[str, object], signing_key: SigningKey
) -> None:
    log = make_log()
    expected = _run_processes(str(backend["url"]), None, signing_key, 2_000)
    _check_one_tree(log, expected)


def test_a_cancelled_waiter_does_not_stop_the_writer(tmp_path) -> None:
    """An RPC cancelled while its entry commits cancels its future; later appends go on."""
    from hedui.audit.store import AuditLog
    from hedui.keys.signing import generate_signing_key

    log = AuditLog.create(f"sqlite:///{tmp_path / 'c.sqlite'}", origin="test/audit",
                          key_name="test-log", signing_key=generate_signing_key())
    futures = [log.append_future(b"entry %d" % i) for i in range(200)]
    for f in futures[::3]:
        f.cancel()
    # the writer thread is alive (before the fix it died, and this waited forever)
    assert log.append_future(b"after").result(timeout=10) == 200
    assert [f.result() for f in futures if not f.cancelled()] == sorted(
        f.result() for f in futures if not f.cancelled())
    log.close()

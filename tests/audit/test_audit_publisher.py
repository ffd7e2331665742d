"""Checkpoint publication: queries see at most one new checkpoint per interval, while
reports get one covering their last entry, shared by reports deciding together."""

from __future__ import annotations

import threading
from pathlib import Path

from hedui.audit.publisher import CheckpointPublisher
from hedui.audit.store import AuditLog
from hedui.keys.signing import generate_signing_key


def make_log(tmp_path: Path) -> AuditLog:
    return AuditLog.create(f"sqlite:///{tmp_path / 'log.sqlite'}", origin="test/audit",
                           key_name="test-log", signing_key=generate_signing_key())


def test_queries_see_a_new_checkpoint_only_after_the_interval(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    now = [0.0]
    pub = CheckpointPublisher(log, interval=1.0, clock=lambda: now[0])
    log.append(b"a")
    first = pub.latest()
    log.append(b"b")
    assert pub.covering(2) != first          # a report forces a newer checkpoint ...
    assert pub.latest() == first             # ... queries keep the one they had
    now[0] = 1.5
    assert log.open_note(pub.latest()).size == 2
    log.close()


def test_covering_signs_only_when_needed_and_coalesces(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    pub = CheckpointPublisher(log, interval=60.0)
    log.append_many([b"x"] * 5)
    signed: list[str] = []
    original = log.checkpoint

    def counting() -> str:
        note = original()
        signed.append(note)
        return note

    log.checkpoint = counting  # type: ignore[method-assign]
    notes: list[str] = []
    threads = [threading.Thread(target=lambda: notes.append(pub.covering(5)))
               for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(notes)) == 1 and log.open_note(notes[0]).size == 5
    assert len(signed) <= 2  # sixteen reports, at most a couple of signatures
    assert pub.covering(3) == notes[0]  # already covered: no new signature
    assert len(signed) <= 2
    log.close()

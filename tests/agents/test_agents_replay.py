"""The replay cache: one use per nonce, across threads, batches and restarts."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hedui.agents.replay import ReplayCache

NOW = dt.datetime.now(dt.UTC)  # reloading compares expiries with the clock
# a day, not minutes: NOW is taken when the module is collected, and the suite may reach
# these tests many minutes later (CI, 2026-12-04: a 5-minute expiry had passed)
LATER = NOW + dt.timedelta(days=1)


def test_a_nonce_is_accepted_once(tmp_path: Path) -> None:
    cache = ReplayCache(tmp_path / "replay.sqlite")
    assert cache.claim(b"n1", LATER, NOW)
    assert not cache.claim(b"n1", LATER, NOW)
    assert cache.claim(b"n2", LATER, NOW)
    cache.close()


def test_claims_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite"
    ReplayCache(path).claim(b"seen", LATER, NOW)  # no close: written at the claim
    assert not ReplayCache(path).claim(b"seen", LATER, NOW)


def test_deferred_claims_reach_the_file_at_flush_not_before(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite"
    cache = ReplayCache(path, deferred=True)
    assert cache.claim(b"pending", LATER, NOW)
    assert ReplayCache(path).claim(b"pending", LATER, NOW)  # not yet on disk
    cache.flush()
    assert not ReplayCache(path).claim(b"pending", LATER, NOW)


def test_expired_nonces_are_not_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite"
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    ReplayCache(path).claim(b"old", past, past - dt.timedelta(minutes=5))
    assert ReplayCache(path).claim(b"old", LATER, NOW)


def test_concurrent_copies_of_one_query_exactly_one_wins(tmp_path: Path) -> None:
    cache = ReplayCache(tmp_path / "replay.sqlite", deferred=True)
    wins: list[bool] = []
    barrier = threading.Barrier(16)

    def race() -> None:
        barrier.wait()
        wins.append(cache.claim(b"same", LATER, NOW))

    threads = [threading.Thread(target=race) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=8), max_size=60))
def test_accepted_iff_first_use(nonces: list[bytes]) -> None:
    cache = ReplayCache(None, deferred=True)
    seen: set[bytes] = set()
    for i, nonce in enumerate(nonces):
        assert cache.claim(nonce, LATER, NOW) == (nonce not in seen)
        seen.add(nonce)
        if i % 7 == 0:
            cache.flush()
    cache.close()

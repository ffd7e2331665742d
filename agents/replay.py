"""The replay cache: every nonce an agent accepted, kept until its query expires.

It lives in a small SQLite file beside the agent's audit log so that a restart does
not reopen the window for replaying a query captured before it. The nonce is the
primary key, so two concurrent copies of one query race on the database and exactly
one wins.

This is the one table hedui reaches with the standard library's ``sqlite3`` rather
than SQLAlchemy: it is touched by every query, holds two columns, and the ORM's
statement overhead (≈0.3 ms a claim, measured in bench/agents) was a quarter of an
answer's cost. WAL with ``synchronous=NORMAL`` keeps a claim durable across a crash
of the agent process (not of the machine).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_nonces (
    nonce BLOB PRIMARY KEY,
    expires_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_nonces_expiry ON seen_nonces (expires_us);
"""


def _us(t: dt.datetime) -> int:
    return int(t.timestamp() * 1_000_000)


class ReplayCache:
    """Remembers nonces until their query expires; ``claim`` refuses a second use."""

    def __init__(self, path: Path | str | None) -> None:
        self._conn = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False,
            isolation_level=None, timeout=30,
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._claims = 0

    def claim(self, nonce: bytes, expires_at: dt.datetime, now: dt.datetime) -> bool:
        """Record ``nonce``; False when it was seen before (a replay).

        Expired nonces are purged now and then, which is safe because a query past
        its expiry is refused before the replay check is reached.
        """
        with self._lock:
            self._claims += 1
            if self._claims % 1000 == 0:
                self._conn.execute("DELETE FROM seen_nonces WHERE expires_us < ?", (_us(now),))
            try:
                self._conn.execute("INSERT INTO seen_nonces (nonce, expires_us) VALUES (?, ?)",
                                   (bytes(nonce), _us(expires_at)))
            except sqlite3.IntegrityError:
                return False
        return True

    def close(self) -> None:
        with self._lock:
            self._conn.close()

"""The replay cache: every nonce an agent accepted, kept until its query expires.

Claims are decided in memory — one dictionary look-up under a lock, so two concurrent
copies of one query race there and exactly one wins — and kept in a small SQLite file
beside the agent's audit log, so that a restart does not reopen the window for
replaying a query captured before it; at start-up the unexpired nonces are read back.

When a claim reaches the file is the caller's choice. By default at once, in the
claim. A server that batches (``deferred=True``) calls :meth:`flush` before it releases
any answer whose claim was made — the agent does so in the same round as the audit
entry's commit, off the event loop — which turns a per-query insert, and the GIL
hand-offs around it, into one per batch (bench/agents/throughput.py).

This is the one table hedui reaches with the standard library's ``sqlite3`` rather
than SQLAlchemy: two columns, touched for every query. WAL with
``synchronous=NORMAL`` keeps a claim across a crash of the agent process (not of the
machine).
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

#: claims between two purges of expired nonces
PURGE_EVERY = 4096


def _us(t: dt.datetime) -> int:
    return int(t.timestamp() * 1_000_000)


class ReplayCache:
    """Remembers nonces until their query expires; ``claim`` refuses a second use."""

    def __init__(self, path: Path | str | None, *, deferred: bool = False) -> None:
        self._conn = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False,
            isolation_level=None, timeout=30,
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._deferred = deferred
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        now = _us(dt.datetime.now(dt.UTC))
        self._seen: dict[bytes, int] = dict(self._conn.execute(
            "SELECT nonce, expires_us FROM seen_nonces WHERE expires_us >= ?", (now,)
        ).fetchall())
        self._unsaved: list[tuple[bytes, int]] = []
        self._claims = 0

    def claim(self, nonce: bytes, expires_at: dt.datetime, now: dt.datetime) -> bool:
        """Record ``nonce``; False when it was seen before (a replay).

        Expired nonces are purged now and then, which is safe because a query past
        its expiry is refused before the replay check is reached.
        """
        nonce = bytes(nonce)
        expires = _us(expires_at)
        with self._lock:
            if nonce in self._seen:
                return False
            self._seen[nonce] = expires
            self._unsaved.append((nonce, expires))
            self._claims += 1
            purge = self._claims % PURGE_EVERY == 0
            if purge:
                cutoff = _us(now)
                self._seen = {n: e for n, e in self._seen.items() if e >= cutoff}
        if purge:
            with self._write_lock:
                self._conn.execute("DELETE FROM seen_nonces WHERE expires_us < ?", (cutoff,))
        if not self._deferred:
            self.flush()
        return True

    def flush(self) -> None:
        """Write every claim made so far to the file (one transaction)."""
        with self._lock:
            unsaved, self._unsaved = self._unsaved, []
        if not unsaved:
            return
        with self._write_lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO seen_nonces (nonce, expires_us) VALUES (?, ?)", unsaved
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                with self._lock:
                    self._unsaved[:0] = unsaved
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self.flush()
        with self._write_lock:
            self._conn.close()

"""The replay cache: every nonce an agent accepted, kept until its query expires.

It lives in a small SQLite file beside the agent's audit log so that a restart does
not reopen the window for replaying a query captured before it. The nonce is the
primary key, so two concurrent copies of one query race on the database and exactly
one wins.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    LargeBinary,
    MetaData,
    Table,
    create_engine,
    delete,
    event,
    insert,
)
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

nonces = Table(
    "seen_nonces",
    metadata,
    Column("nonce", LargeBinary, primary_key=True),
    # the query's expiry, microseconds since the epoch; the row may go after it
    Column("expires_us", BigInteger, nullable=False, index=True),
)


def _us(t: dt.datetime) -> int:
    return int(t.timestamp() * 1_000_000)


class ReplayCache:
    """Remembers nonces until their query expires; ``claim`` refuses a second use."""

    def __init__(self, path: Path | str | None) -> None:
        url = "sqlite://" if path is None else f"sqlite:///{Path(path)}"
        self._engine = create_engine(url)

        @event.listens_for(self._engine, "connect")
        def _pragmas(conn, _record) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        metadata.create_all(self._engine)
        self._lock = threading.Lock()
        self._claims = 0

    def claim(self, nonce: bytes, expires_at: dt.datetime, now: dt.datetime) -> bool:
        """Record ``nonce``; False when it was seen before (a replay).

        Expired nonces are purged now and then, which is safe because a query past
        its expiry is refused before the replay check is reached.
        """
        with self._lock:
            self._claims += 1
            purge = self._claims % 1000 == 0
        try:
            with self._engine.begin() as conn:
                if purge:
                    conn.execute(delete(nonces).where(nonces.c.expires_us < _us(now)))
                conn.execute(insert(nonces).values(nonce=nonce, expires_us=_us(expires_at)))
        except IntegrityError:
            return False
        return True

    def close(self) -> None:
        self._engine.dispose()

"""Following the trust bundle file while a server runs.

A newer bundle (higher serial, signed by the pinned root) takes effect without a
restart — that is how key rotation and revocation reach every participant. A file
that fails verification, or an older serial, is logged and ignored: the bundle in
force stays in force.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import structlog

from hedui.keys.bundle import TrustStore
from hedui.keys.errors import KeysError

log = structlog.get_logger("hedui.keys")


async def watch_bundle(store: TrustStore, path: Path, interval: float = 2.0) -> None:
    """Reload ``path`` into ``store`` whenever the file changes (until cancelled)."""
    last = path.stat().st_mtime_ns if path.exists() else 0
    while True:
        await asyncio.sleep(interval)
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            continue
        if mtime == last:
            continue
        last = mtime
        try:
            store.load(path, dt.datetime.now(dt.UTC))
            log.info("trust bundle loaded", serial=store.current.serial)
        except KeysError as exc:
            log.warning("trust bundle refused", reason=str(exc))

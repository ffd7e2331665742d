"""Following the trust bundle file while a server runs, and watching its lifetime.

A newer bundle (higher serial, signed by the pinned root) takes effect without a
restart — that is how key rotation and revocation reach every participant. A file
that fails verification, an older serial or an expired bundle is logged and ignored:
the bundle in force stays in force.

The bundle in force also ends (``valid_until``). The watcher says so where operators
look: a log warning at start and once a day from :data:`~hedui.keys.bundle.WARN_BEFORE`
ahead (an error once it has expired), and the gauges below on the server's Prometheus
``/metrics``, computed at each scrape so they never lag.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Literal

import structlog
from prometheus_client import Gauge

from hedui.keys.bundle import WARN_BEFORE, Bundle, TrustStore
from hedui.keys.errors import KeysError

log = structlog.get_logger("hedui.keys")

Lifetime = Literal["current", "expiring", "expired"]

BUNDLE_SERIAL = Gauge("hedui_trust_bundle_serial", "Serial of the trust bundle in force")
BUNDLE_VALID_UNTIL = Gauge(
    "hedui_trust_bundle_valid_until_timestamp_seconds",
    "When the trust bundle in force expires (Unix time); 0 when it states no lifetime",
)
BUNDLE_EXPIRING = Gauge(
    "hedui_trust_bundle_expiring",
    "1 when the trust bundle in force expires within the warning period or has expired",
)
BUNDLE_EXPIRED = Gauge(
    "hedui_trust_bundle_expired", "1 when the trust bundle in force has expired"
)


def lifetime(bundle: Bundle, now: dt.datetime, warn_before: dt.timedelta = WARN_BEFORE) -> Lifetime:
    """Where ``bundle`` is in its life at ``now`` (for logs, metrics and health)."""
    left = bundle.remaining(now)
    if left is None or left > warn_before:
        return "current"
    return "expired" if left <= dt.timedelta(0) else "expiring"


def report_lifetime(bundle: Bundle, now: dt.datetime,
                    warn_before: dt.timedelta = WARN_BEFORE) -> Lifetime:  # fmt: skip
    """Log a warning (expiring) or an error (expired) about ``bundle``; return its state."""
    state = lifetime(bundle, now, warn_before)
    until = bundle.valid_until.isoformat() if bundle.valid_until else ""
    if state == "expiring":
        left = bundle.remaining(now)
        assert left is not None
        log.warning("trust bundle expires soon", serial=bundle.serial, valid_until=until,
                    days_left=round(left.total_seconds() / 86400, 1),
                    action="the center must sign and publish a new bundle (hedui keys bundle)")
    elif state == "expired":
        log.error("trust bundle expired", serial=bundle.serial, valid_until=until,
                  reason="BUNDLE_EXPIRED",
                  action="queries are refused until a new bundle from the center is installed")
    return state


def export_metrics(store: TrustStore, warn_before: dt.timedelta = WARN_BEFORE) -> None:
    """Make the gauges read ``store``'s bundle in force at every scrape."""

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def until() -> float:
        b = store.bundle
        return b.valid_until.timestamp() if b is not None and b.valid_until else 0.0

    def state_is(*states: Lifetime) -> float:
        b = store.bundle
        return float(b is not None and lifetime(b, now(), warn_before) in states)

    BUNDLE_SERIAL.set_function(lambda: float(store.bundle.serial if store.bundle else 0))
    BUNDLE_VALID_UNTIL.set_function(until)
    BUNDLE_EXPIRING.set_function(lambda: state_is("expiring", "expired"))
    BUNDLE_EXPIRED.set_function(lambda: state_is("expired"))


async def watch_bundle(store: TrustStore, path: Path, interval: float = 2.0, *,
                       warn_before: dt.timedelta = WARN_BEFORE,
                       remind_every: dt.timedelta = dt.timedelta(days=1)) -> None:  # fmt: skip
    """Reload ``path`` into ``store`` whenever the file changes (until cancelled), and
    report the lifetime of the bundle in force now, whenever it changes state (say,
    expires while the server runs), after each reload and every ``remind_every``."""
    export_metrics(store, warn_before)
    last = path.stat().st_mtime_ns if path.exists() else 0
    loop = asyncio.get_running_loop()
    reported: Lifetime | None = None

    def remind() -> float:
        nonlocal reported
        if store.bundle is not None:
            reported = report_lifetime(store.bundle, dt.datetime.now(dt.UTC), warn_before)
        return loop.time() + remind_every.total_seconds()

    def state_now() -> Lifetime | None:
        b = store.bundle
        return None if b is None else lifetime(b, dt.datetime.now(dt.UTC), warn_before)

    next_reminder = remind()
    while True:
        await asyncio.sleep(interval)
        if loop.time() >= next_reminder or state_now() != reported:
            next_reminder = remind()
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            continue
        if mtime == last:
            continue
        last = mtime
        try:
            store.load(path, dt.datetime.now(dt.UTC))
        except KeysError as exc:
            log.warning("trust bundle refused", code=exc.reason, reason=str(exc))
            continue
        current = store.current
        log.info("trust bundle loaded", serial=current.serial,
                 valid_until=current.valid_until.isoformat() if current.valid_until else "")
        next_reminder = remind()

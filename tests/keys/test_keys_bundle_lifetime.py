"""The trust bundle ends: it is refused from ``valid_until`` on, and servers warn ahead."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import nacl.signing
import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from hedui.keys import dsse, signing
from hedui.keys.bundle import (
    LEGACY_LIFETIME,
    Bundle,
    BundleExpired,
    TrustStore,
    bundle_from_toml,
    sign_bundle,
)
from hedui.keys.bundle_rules import validate_bundle
from hedui.keys.bundle_watch import lifetime, watch_bundle
from hedui.keys.errors import BundleConfigError, InvalidBundle
from hedui.timestamps import to_timestamp
from hedui.v1 import trust_pb2

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY = dt.timedelta(days=1)
ROOT = nacl.signing.SigningKey.generate()
GW_KEY = nacl.signing.SigningKey.generate()
GATEWAY = "spiffe://county.example/gateway/center"


def _toml(serial: int = 1, extra: str = "") -> str:
    return f"""
trust_domain = "county.example"
serial = {serial}
{extra}
[[participants]]
id = "{GATEWAY}"
[[participants.signing_keys]]
public_key = "{signing.public_key_base64(GW_KEY)}"
"""


def _message(serial: int = 1, *, issued: dt.datetime = NOW,
             until: dt.datetime | None = None) -> trust_pb2.TrustBundle:
    """A bundle issued at ``issued``; ``until`` None means the TOML default lifetime."""
    message = bundle_from_toml(_toml(serial), now=issued)
    if until is not None:
        to_timestamp(until, message.valid_until)
    return message


def _legacy(serial: int = 1, issued: dt.datetime = NOW) -> trust_pb2.TrustBundle:
    """A bundle as signed before valid_until existed."""
    message = _message(serial, issued=issued)
    message.ClearField("valid_until")
    return message


def _signed(message: trust_pb2.TrustBundle) -> bytes:
    return sign_bundle(message, ROOT).SerializeToString()


# --- the TOML ---------------------------------------------------------------------------


def test_toml_default_lifetime_is_90_days() -> None:
    bundle = Bundle(_message())
    assert bundle.valid_until == NOW + 90 * DAY
    assert bundle.proto.HasField("valid_until")


def test_toml_valid_days_and_valid_until() -> None:
    assert Bundle(bundle_from_toml(_toml(extra="valid_days = 7"), now=NOW)).valid_until == (
        NOW + 7 * DAY)
    text = _toml(extra="valid_until = 2026-04-01T00:00:00Z")
    assert Bundle(bundle_from_toml(text, now=NOW)).valid_until == dt.datetime(2026, 4, 1,
                                                                              tzinfo=UTC)
    assert Bundle(bundle_from_toml(_toml(), now=NOW, valid_days=30)).valid_until == (
        NOW + 30 * DAY)


@pytest.mark.parametrize(("extra", "valid_days", "message"), [
    ("valid_days = 0", None, "valid_days: must be from 1 to 366 days"),
    ("valid_days = 400", None, "valid_days: must be from 1 to 366 days"),
    ("valid_days = true", None, "valid_days: expected an integer, got a boolean"),
    ("valid_until = 2026-02-01T00:00:00Z", None, "valid_until: is not after issued_at"),
    ("valid_until = 2028-01-01T00:00:00Z", None, "is more than 366 days after issued_at"),
    ("valid_until = 2026-04-01T00:00:00", None, "has no time zone"),
    ("valid_until = 2026-04-01T00:00:00Z\nvalid_days = 3", None, "not both"),
    ("valid_until = 2026-04-01T00:00:00Z", 30, "leave out --valid-days"),
])
def test_toml_lifetime_mistakes_are_named(extra: str, valid_days: int | None,
                                          message: str) -> None:
    with pytest.raises(BundleConfigError, match=message):
        bundle_from_toml(_toml(extra=extra), now=NOW, valid_days=valid_days)


def test_signed_valid_until_must_follow_issued_at() -> None:
    message = _message(until=NOW - DAY)
    with pytest.raises(InvalidBundle, match="valid_until is not after its issued_at"):
        validate_bundle(message)


# --- refusing an expired bundle -----------------------------------------------------------


def test_check_current_refuses_from_valid_until_on() -> None:
    bundle = Bundle(_message(until=NOW + DAY))
    bundle.check_current(NOW + DAY - dt.timedelta(seconds=1))
    with pytest.raises(BundleExpired) as err:
        bundle.check_current(NOW + DAY)
    assert err.value.reason == "BUNDLE_EXPIRED" and err.value.serial == 1
    assert str(err.value) == (
        "trust bundle serial 1 expired on 2026-03-02T12:00:00Z; the center must sign a new "
        "one (hedui keys bundle) and every participant must install it")


def test_an_expired_bundle_vouches_for_no_signature() -> None:
    """So an agent holding it refuses every query signed after its end (BUNDLE_EXPIRED)."""
    bundle = Bundle(_message(until=NOW + DAY))
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, GW_KEY)
    assert dsse.verify(envelope, bundle, payload_type=dsse.QUERY_TYPE, now=NOW).signer == GATEWAY
    with pytest.raises(BundleExpired):
        dsse.verify(envelope, bundle, payload_type=dsse.QUERY_TYPE, now=NOW + 2 * DAY)


def test_store_refuses_to_load_an_expired_bundle() -> None:
    store = TrustStore(ROOT.verify_key)
    store.load(_signed(_message(1, until=NOW + 10 * DAY)), NOW)
    with pytest.raises(BundleExpired, match="serial 2 expired on 2026-03-02"):
        store.load(_signed(_message(2, until=NOW + DAY)), NOW + 2 * DAY)
    assert store.current.serial == 1 and store.held_serial == 1


def test_a_bundle_saved_in_the_state_file_is_checked_again_at_restart(tmp_path: Path) -> None:
    state = tmp_path / "bundle-serial.json"
    TrustStore(ROOT.verify_key, state).load(_signed(_message(3, until=NOW + DAY)), NOW)
    restarted = TrustStore(ROOT.verify_key, state)
    with pytest.raises(BundleExpired):
        restarted.restore(NOW + 2 * DAY)
    assert restarted.restore(NOW).serial == 3  # type: ignore[union-attr]


def test_a_bundle_without_valid_until_lives_90_days_from_issue() -> None:
    """Bundles signed before the field existed end at the pace new ones do (see the guide)."""
    assert LEGACY_LIFETIME == 90 * DAY
    bundle = TrustStore(ROOT.verify_key).load(_signed(_legacy()), NOW)
    assert bundle.valid_until == NOW + LEGACY_LIFETIME
    with pytest.raises(BundleExpired, match=r"it states no valid_until, so it lived 90 days "
                                            r"from issued_at 2026-03-01T12:00:00Z"):
        TrustStore(ROOT.verify_key).load(_signed(_legacy()), NOW + LEGACY_LIFETIME)


def test_a_signed_bundle_must_state_a_lifetime() -> None:
    message = _legacy()
    message.ClearField("issued_at")
    with pytest.raises(InvalidBundle, match="lifetime is unknown"):
        TrustStore(ROOT.verify_key).load(_signed(message), NOW)


def test_lifetime_states() -> None:
    bundle = Bundle(_message(until=NOW + 20 * DAY))
    assert lifetime(bundle, NOW) == "current"
    assert lifetime(bundle, NOW + 7 * DAY) == "expiring"  # 13 days left
    assert lifetime(bundle, NOW + 20 * DAY) == "expired"


# --- the watcher: warnings, reminders, metrics, refused reloads ---------------------------


def _metric(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def _run_watch(store: TrustStore, path: Path, seconds: float, **kwargs: object) -> None:
    async def run() -> None:
        task = asyncio.create_task(watch_bundle(store, path, 0.05, **kwargs))  # type: ignore[arg-type]
        await asyncio.sleep(seconds)
        task.cancel()

    asyncio.run(run())


def test_watch_warns_at_start_and_reminds(tmp_path: Path) -> None:
    now = dt.datetime.now(UTC)
    path = tmp_path / "bundle.dsse"
    path.write_bytes(_signed(_message(5, issued=now, until=now + 10 * DAY)))
    store = TrustStore(ROOT.verify_key)
    store.load(path, now)
    with capture_logs() as logs:
        _run_watch(store, path, 0.5, remind_every=dt.timedelta(seconds=0.2))
    warnings = [e for e in logs if e["event"] == "trust bundle expires soon"]
    assert len(warnings) >= 2, logs  # at start, then reminded
    assert warnings[0]["log_level"] == "warning" and warnings[0]["serial"] == 5
    assert 9.9 < warnings[0]["days_left"] <= 10
    assert _metric("hedui_trust_bundle_serial") == 5
    assert _metric("hedui_trust_bundle_expiring") == 1
    assert _metric("hedui_trust_bundle_expired") == 0
    until = _metric("hedui_trust_bundle_valid_until_timestamp_seconds")
    assert until == pytest.approx((now + 10 * DAY).timestamp(), abs=1)


def test_watch_says_nothing_for_a_fresh_bundle(tmp_path: Path) -> None:
    now = dt.datetime.now(UTC)
    path = tmp_path / "bundle.dsse"
    path.write_bytes(_signed(_message(1, issued=now)))
    store = TrustStore(ROOT.verify_key)
    store.load(path, now)
    with capture_logs() as logs:
        _run_watch(store, path, 0.2)
    assert not [e for e in logs if e["log_level"] in ("warning", "error")], logs
    assert _metric("hedui_trust_bundle_expiring") == 0


def test_watch_reports_the_moment_the_bundle_expires(tmp_path: Path) -> None:
    now = dt.datetime.now(UTC)
    path = tmp_path / "bundle.dsse"
    path.write_bytes(_signed(_message(2, issued=now - DAY, until=now + dt.timedelta(seconds=1))))
    store = TrustStore(ROOT.verify_key)
    store.load(path, now)
    with capture_logs() as logs:
        _run_watch(store, path, 1.6)
    events = [(e["event"], e["log_level"]) for e in logs]
    assert events[0] == ("trust bundle expires soon", "warning")
    assert ("trust bundle expired", "error") in events
    assert _metric("hedui_trust_bundle_expired") == 1


def test_watch_refuses_an_expired_replacement(tmp_path: Path) -> None:
    now = dt.datetime.now(UTC)
    path = tmp_path / "bundle.dsse"
    path.write_bytes(_signed(_message(1, issued=now)))
    store = TrustStore(ROOT.verify_key)
    store.load(path, now)

    async def run() -> None:
        task = asyncio.create_task(watch_bundle(store, path, 0.05))
        await asyncio.sleep(0.1)
        path.write_bytes(_signed(_message(2, issued=now - 40 * DAY, until=now - DAY)))
        await asyncio.sleep(0.3)
        task.cancel()

    with capture_logs() as logs:
        asyncio.run(run())
    refused = [e for e in logs if e["event"] == "trust bundle refused"]
    assert refused and refused[0]["code"] == "BUNDLE_EXPIRED", logs
    assert store.current.serial == 1

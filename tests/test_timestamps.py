"""hedui.timestamps agrees with protobuf's Timestamp.FromDatetime / ToDatetime.

The helpers exist only to be faster; these properties hold them to protobuf's exact
results (and exact errors) over the whole of Timestamp's range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import example, given
from hypothesis import strategies as st

from hedui.timestamps import from_timestamp, to_timestamp

MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z

# fixed offsets (whole minutes, odd seconds, even sub-second ones), UTC, and real zones
_ONE_US = timedelta(microseconds=1)
offsets = st.timedeltas(min_value=timedelta(hours=-24) + _ONE_US,
                        max_value=timedelta(hours=24) - _ONE_US)
zones = st.one_of(
    st.just(UTC),
    st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m))),
    offsets.map(timezone),
    st.timezones(),
)
aware = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59,
                                                                     999_999), timezones=zones)
valid_timestamps = st.builds(
    Timestamp,
    seconds=st.integers(MIN_SECONDS, MAX_SECONDS),
    nanos=st.integers(0, 999_999_999),
)


def _protobuf(t: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(t)
    return out


def _same_outcome(ours, theirs, arg) -> tuple[object, object]:
    """Both results, or both exceptions (type and message) if protobuf raises."""
    try:
        expected = theirs(arg)
    except Exception as exc:
        with pytest.raises(type(exc)) as info:
            ours(arg)
        assert str(info.value) == str(exc)
        return None, None
    return ours(arg), expected


@given(aware)
@example(datetime(1, 1, 1, tzinfo=UTC))
@example(datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC))
@example(datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC))
@example(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))  # before year 1 in UTC
@example(datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))))  # after 9999
@example(datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=timezone(timedelta(seconds=-0.5))))
def test_to_timestamp_matches_from_datetime(t: datetime) -> None:
    ours, expected = _same_outcome(to_timestamp, _protobuf, t)
    if expected is None:
        return
    assert (ours.seconds, ours.nanos) == (expected.seconds, expected.nanos)


@given(aware)
def test_to_timestamp_fills_and_returns_out(t: datetime) -> None:
    out = Timestamp(seconds=7, nanos=7)
    try:
        expected = _protobuf(t)
    except (OverflowError, ValueError):
        return
    assert to_timestamp(t, out) is out
    assert out == expected


@given(valid_timestamps)
@example(Timestamp(seconds=MIN_SECONDS, nanos=0))
@example(Timestamp(seconds=MAX_SECONDS, nanos=999_999_999))
@example(Timestamp(seconds=-1, nanos=999_999_999))
@example(Timestamp(seconds=-62_000_000_000, nanos=1_999))
@example(Timestamp(seconds=0, nanos=999))
def test_from_timestamp_matches_to_datetime(ts: Timestamp) -> None:
    ours = from_timestamp(ts)
    expected = ts.ToDatetime(tzinfo=UTC)
    assert ours == expected
    assert ours.tzinfo is UTC
    assert ours.replace(tzinfo=None) == expected.replace(tzinfo=None)  # same wall clock too


@given(st.one_of(
    st.builds(Timestamp, seconds=st.integers(-(2**63), MIN_SECONDS - 1), nanos=st.just(0)),
    st.builds(Timestamp, seconds=st.integers(MAX_SECONDS + 1, 2**63 - 1), nanos=st.just(0)),
    st.builds(Timestamp, seconds=st.just(0), nanos=st.integers(-(2**31), -1)),
    st.builds(Timestamp, seconds=st.just(0), nanos=st.integers(1_000_000_000, 2**31 - 1)),
))
def test_from_timestamp_rejects_invalid_like_protobuf(ts: Timestamp) -> None:
    with pytest.raises(ValueError) as theirs:
        ts.ToDatetime(tzinfo=UTC)
    with pytest.raises(ValueError) as ours:
        from_timestamp(ts)
    assert str(ours.value) == str(theirs.value)


class _NoOffset(tzinfo):
    """A tzinfo that does not know its offset: the datetime counts as naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59,
                                                                     999_999)))
def test_naive_datetimes_are_taken_as_utc(t: datetime) -> None:
    expected = _protobuf(t)
    assert to_timestamp(t) == expected
    assert to_timestamp(t.replace(tzinfo=_NoOffset())) == expected
    assert to_timestamp(t) == to_timestamp(t.replace(tzinfo=UTC))


def test_naive_datetime() -> None:
    t = datetime(1969, 7, 20, 20, 17, 40, 123_456)
    ts = to_timestamp(t)
    assert (ts.seconds, ts.nanos) == (-14_182_940, 123_456_000)
    assert ts == _protobuf(t)
    assert from_timestamp(ts) == t.replace(tzinfo=UTC)


def test_non_datetime_is_rejected_like_protobuf() -> None:
    for bad in (datetime(2026, 1, 1).date(), "2026-01-01", 0):
        with pytest.raises(TypeError) as theirs:
            _protobuf(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError) as ours:
            to_timestamp(bad)  # type: ignore[arg-type]
        assert str(ours.value) == str(theirs.value)

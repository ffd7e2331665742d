"""Fast, exact conversions between ``datetime`` and ``google.protobuf.Timestamp``.

protobuf's ``Timestamp.FromDatetime`` and ``ToDatetime`` are written in pure Python
(``utctimetuple`` + ``calendar.timegm`` one way, range checks and ``astimezone`` the
other) and sit on the hot paths: every audit entry, every query and every answer.
These two helpers give the same results with plain ``timedelta`` arithmetic, and are
the one place every component converts (the root package, which all may import).

Measured with ``timeit`` (CPython 3.11, protobuf 7.36 upb, best of 5 x 200 000 runs)::

    Timestamp().FromDatetime(t)     ~3.0 us     to_timestamp(t)      ~1.0 us   (~3x)
    ts.ToDatetime(tzinfo=UTC)       ~1.8 us     from_timestamp(ts)   ~0.9 us   (~2x)

Invalid input (a non-datetime, a datetime outside 0001-01-01..9999-12-31 UTC, a
Timestamp outside the valid range) is handed to protobuf, so it raises exactly the
error protobuf raises.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

__all__ = ["from_timestamp", "to_timestamp"]

_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)
# Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799
_NANOS_PER_SECOND = 1_000_000_000


def to_timestamp(t: datetime, out: Timestamp | None = None) -> Timestamp:
    """Fill ``out`` (or a new Timestamp) from ``t`` exactly as ``FromDatetime`` would.

    An aware ``t`` is converted to UTC; a naive one is taken to be UTC already.
    Returns the message that was filled.
    """
    try:
        seconds = (t - _EPOCH_UTC) // _SECOND
    except TypeError:
        if not isinstance(t, datetime):
            return _protobuf_from(t, out)  # raises protobuf's TypeError
        seconds = (t - _EPOCH_NAIVE) // _SECOND  # naive: taken as UTC
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        return _protobuf_from(t, out)  # raises protobuf's OverflowError
    if out is None:
        out = Timestamp()
    out.seconds = seconds
    # FromDatetime takes the microseconds of t itself (not of t in UTC); the two
    # differ only for a UTC offset with a sub-second part, which no time zone has.
    out.nanos = t.microsecond * 1000
    return out


def from_timestamp(ts: Timestamp) -> datetime:
    """The aware UTC datetime ``ts.ToDatetime(tzinfo=UTC)`` would give.

    Nanoseconds are truncated to microseconds (a valid Timestamp's nanos are never
    negative, so floor division rounds toward zero, as protobuf does).
    """
    seconds = ts.seconds
    nanos = ts.nanos
    if _MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < _NANOS_PER_SECOND:
        return _EPOCH_UTC + timedelta(0, seconds, nanos // 1000)
    return ts.ToDatetime(tzinfo=UTC)  # raises protobuf's ValueError


def _protobuf_from(t: datetime, out: Timestamp | None) -> Timestamp:
    """The slow path: let protobuf convert (or reject) ``t``."""
    if out is None:
        out = Timestamp()
    out.FromDatetime(t)
    return out

"""The day it is in China, whatever zone the servers run in.

A county center's day — an application's date (申请日期), an authorization's validity,
a department's working days — is China Standard Time's (UTC+8 all year, no daylight
saving since 1991). Servers often run in UTC, where "today" turns eight hours later: a
case taken at 07:00 in Shanghai is still yesterday in UTC. Every "today" in hedui comes
from here.
"""

from __future__ import annotations

import datetime as dt

#: China Standard Time
CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def china_date(instant: dt.datetime) -> dt.date:
    """The calendar day ``instant`` falls on in China (a naive instant is UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(CHINA).date()


def today() -> dt.date:
    """Today's date in China."""
    return china_date(dt.datetime.now(dt.UTC))

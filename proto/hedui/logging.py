"""Structured JSON logs that cannot carry personal data or secrets.

Every hedui process logs through structlog as one JSON object per line. The
``redact`` processor runs last before rendering: it drops fields whose names say
they hold a person's identity or a secret, and replaces anything shaped like a
resident ID number in any value with a marker. Logs carry pseudonyms, never ID
numbers or names; ``tests/test_privacy.py`` proves it after a full run.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: 17 digits and a check character, not inside a longer run of digits — also as offices
#: type them (full-width digits and Ｘ, spaces between groups), which intake normalises
#: but a log line about refused input may still hold
_D = "[0-9\uff10-\uff19]"
ID_NUMBER = re.compile(
    rf"(?<![0-9\uff10-\uff19])[1-9\uff11-\uff19](?:[ \u3000\u00a0]?{_D}){{16}}"
    rf"[ \u3000\u00a0]?[0-9\uff10-\uff19Xx\uff38\uff58](?![0-9\uff10-\uff19])"
)

#: field names never written to a log
FORBIDDEN_KEYS = frozenset({
    "id_number", "id_numbers", "name", "names", "subject", "subjects", "members",
    "passphrase", "password", "secret", "private_key", "signing_key", "pseudonym_key",
})

REDACTED_ID = "[id-number-redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return ID_NUMBER.sub(REDACTED_ID, value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in FORBIDDEN_KEYS}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: remove identity and secret fields, mask ID numbers."""
    for key in [k for k in event if k in FORBIDDEN_KEYS]:
        del event[key]
    for key, value in list(event.items()):
        event[key] = _scrub(value)
    return event


def configure(level: int = logging.INFO, stream: Any = None) -> None:
    """JSON lines on stderr (or ``stream``), with redaction last before rendering."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=True,
    )

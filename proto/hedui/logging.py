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

#: 17 digits and a check character, not inside a longer run of digits
ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")

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

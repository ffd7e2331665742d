"""The contract between the agent runtime and a department's data.

A ``RecordSource`` turns resident ID numbers into the department's record message.
The runtime never sees the department's tables; the source never sees queries,
policies or keys. The SQLAlchemy mapping adapter (``hedui.agents.mapping``) is the
one implementation departments configure; tests may build others over real data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import Message

from hedui.errors import HeduiError

#: a run of six or more digits (ID, account, phone numbers), maybe with a check letter
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{6,}[0-9Xx]?(?![0-9])")
SCRUBBED = "[digits]"


def scrub_digits(text: str) -> str:
    """``text`` with every ID-like run of digits replaced: database messages may quote
    the value that failed (``invalid input syntax: "310101..."``)."""
    return _DIGIT_RUN.sub(SCRUBBED, text)


class SourceUnavailable(HeduiError):
    """The department database cannot be read right now (gRPC UNAVAILABLE).

    ``block`` names the mapping block whose statement failed, ``cause`` the database
    error as ``Class: message`` (scrubbed of digit runs, never SQL text or parameters),
    so the agent's log can say what department IT must fix.
    """

    def __init__(self, message: str, *, block: str | None = None,
                 cause: str | None = None) -> None:
        super().__init__(message)
        self.block = block
        self.cause = cause


@dataclass(frozen=True)
class Problem:
    """One problem found by ``RecordSource.check``: where, and what to fix."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class RecordSource(Protocol):
    """Reads one department's records. Implementations must be thread-safe."""

    department: str

    def held_paths(self) -> frozenset[str]:
        """Leaf field paths the source can fill, in canonical form with ``*`` for
        repeated fields, e.g. ``{"vehicles.*.plate", "household_registration.region_code"}``.
        Requested paths outside this set are withheld as "not held"."""
        ...

    def fetch(self, id_numbers: Sequence[str], paths: frozenset[str]) -> dict[str, Message]:
        """Records for the given (normalized) ID numbers; an absent key means the
        department holds nothing on that person. ``paths`` are the leaf paths that
        will be released; a source may skip work for other fields (the runtime
        masks the result anyway). Raises SourceUnavailable when the database fails."""
        ...

    def data_as_of(self) -> dt.date:
        """The date the department's data reflects."""
        ...

    def check(self) -> list[Problem]:
        """Every problem with the configuration against the live database, in one pass."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

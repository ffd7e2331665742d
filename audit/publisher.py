"""Signing checkpoints at a steady pace rather than once per entry.

Every query carries the gateway's latest checkpoint, and every agent that sees a
new one asks for a consistency proof. Signing a checkpoint per entry would turn
each query into a proof request; signing at most once per ``interval`` (as
transparency logs integrate in batches) keeps witnessing cheap while no entry waits
longer than ``interval`` to be covered by a signed root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hedui.audit.store import AuditLog


class CheckpointPublisher:
    """Hands out the latest signed checkpoint, re-signing when it is ``interval`` old."""

    def __init__(
        self, log: AuditLog, interval: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.log = log
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._note: str | None = None
        self._signed_at = float("-inf")

    def latest(self) -> str:
        """The newest checkpoint note (signing a fresh one when due)."""
        with self._lock:
            now = self._clock()
            if self._note is None or now - self._signed_at >= self.interval:
                self._note = self.log.checkpoint()
                self._signed_at = now
            return self._note

    def refresh(self) -> str:
        """Sign now (for a report that must cover the entries just written)."""
        with self._lock:
            self._note = self.log.checkpoint()
            self._signed_at = self._clock()
            return self._note

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

from hedui.audit.checkpoint import signed_size
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
        self._cond = threading.Condition()
        self._note: str | None = None
        self._note_size = -1
        self._signing = False
        self._signed_at = float("-inf")
        #: what queries carry: changes at most once per interval, however many reports
        #: sign checkpoints in between, so witnesses fetch few consistency proofs
        self._query_note: str | None = None
        self._query_at = float("-inf")

    def latest(self) -> str:
        """The checkpoint queries carry, renewed when ``interval`` old."""
        with self._lock:
            now = self._clock()
            if self._query_note is None or now - self._query_at >= self.interval:
                with self._cond:
                    recent = self._note if now - self._signed_at < self.interval else None
                if recent is None:
                    recent = self.log.checkpoint()
                    with self._cond:
                        size = signed_size(recent)
                        if size >= self._note_size:
                            self._note, self._note_size = recent, size
                            self._signed_at = now
                self._query_note, self._query_at = recent, now
            return self._query_note

    def covering(self, size: int) -> str:
        """A checkpoint of at least ``size`` leaves, signing one only when needed.

        Reports need a checkpoint over their case's last entry. Cases deciding at the
        same moment share one signature, as appends share one commit: whoever finds
        no signing under way signs, the others wait for it and re-check.
        """
        with self._cond:
            while True:
                if self._note is not None and self._note_size >= size:
                    return self._note
                if not self._signing:
                    self._signing = True
                    break
                self._cond.wait()
        try:
            note = self.log.checkpoint()
            signed = signed_size(note)
        finally:
            with self._cond:
                self._signing = False
                self._cond.notify_all()
        with self._cond:
            if signed >= self._note_size:
                self._note, self._note_size = note, signed
                self._signed_at = self._clock()
        return note

    def refresh(self) -> str:
        """A checkpoint covering every entry appended so far."""
        return self.covering(self.log.size())

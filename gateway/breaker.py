"""A circuit breaker per department, so a dead agent costs the others nothing.

After ``threshold`` consecutive failures the breaker opens: calls fail at once for
``cooldown`` seconds instead of waiting for a deadline. Then one trial call is let
through (half-open); its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    threshold: int = 3
    cooldown: float = 10.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _trial_out: bool = field(default=False, repr=False)

    def allow(self) -> bool:
        """May a call go out now?"""
        if self.opened_at is None:
            return True
        if self.clock() - self.opened_at >= self.cooldown and not self._trial_out:
            self._trial_out = True  # half-open: one trial call
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_out = False

    def failure(self) -> None:
        self.failures += 1
        self._trial_out = False
        if self.failures >= self.threshold:
            self.opened_at = self.clock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

"""The wall clock: the only place that reads the system time."""

from __future__ import annotations

import time


class SystemClock:
    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that reads a settable time (commands that act 'as of' a moment, tests)."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at

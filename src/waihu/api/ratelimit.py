"""Per-caller token buckets: ``rate`` requests a minute with bursts of ``burst``."""

from __future__ import annotations

import threading

from waihu.domain.errors import RateLimited
from waihu.ports import Clock


class RateLimiter:
    def __init__(self, clock: Clock, per_minute: int, burst: int) -> None:
        self.clock = clock
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Take one token for ``key`` or raise ``RateLimited`` with the wait in seconds."""
        now = self.clock.now()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited((1.0 - tokens) / self.rate if self.rate > 0 else 60.0)
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()

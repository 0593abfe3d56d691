"""Number-status pre-check: skip numbers that cannot be reached before dialing them.

A provider (a carrier's or a data vendor's number-status service; the simulated network
supplies one) tells whether a number is empty (空号), suspended (停机) or powered off (关机).
Answers are cached per number with an expiry that fits how long each state lasts; a skipped
number is a hold with its reason (``number_status.<state>``), and the attempt it saved is
counted with its cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waihu.domain.calls import LossCause

SKIP = (LossCause.EMPTY_NUMBER, LossCause.SUSPENDED, LossCause.POWERED_OFF)
TTL: dict[LossCause | None, float] = {
    LossCause.EMPTY_NUMBER: 30 * 86400.0,
    LossCause.SUSPENDED: 7 * 86400.0,
    LossCause.POWERED_OFF: 2 * 3600.0,
    None: 86400.0,  # reachable
}


@dataclass(slots=True)
class NumberStatusCache:
    ttl: dict[LossCause | None, float] = field(default_factory=lambda: dict(TTL))
    entries: dict[str, tuple[LossCause | None, float]] = field(default_factory=dict)  # key -> (state, expires)
    checks: int = 0
    hits: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    saved_cost: float = 0.0
    max_hold: float = 30 * 86400.0
    max_holds: int = 4
    _holds: dict[str, int] = field(default_factory=dict)  # key -> times held in a row

    def get(self, key: str, now: float) -> tuple[bool, LossCause | None]:
        """(found, state): a cached answer that has not expired."""
        got = self.entries.get(key)
        if got is None or got[1] <= now:
            return False, None
        self.hits += 1
        return True, got[0]

    def put(self, key: str, state: LossCause | None, now: float) -> float:
        """Remember a provider's answer; returns when it expires."""
        self.checks += 1
        expires = now + self.ttl.get(state, self.ttl[None])
        self.entries[key] = (state, expires)
        return expires

    def expires(self, key: str) -> float | None:
        got = self.entries.get(key)
        return got[1] if got is not None else None

    def skip(self, key: str, state: LossCause, saved_cost: float, now: float) -> tuple[float, bool]:
        """Count a skipped attempt; returns (when to look at the number again, final).

        A number found unreachable again and again is looked at less and less often (doubling,
        up to ``max_hold``); an empty number, or one found unreachable ``max_holds`` times in a
        row, is final: the contact is not dialed again.
        """
        self.skipped[state.value] = self.skipped.get(state.value, 0) + 1
        self.saved_cost += saved_cost
        n = self._holds.get(key, 0)
        self._holds[key] = n + 1
        until = now + min(self.max_hold, self.ttl.get(state, self.ttl[None]) * 2.0 ** min(n, 20))
        return until, state is LossCause.EMPTY_NUMBER or n + 1 >= self.max_holds

    def reachable(self, key: str) -> None:
        self._holds.pop(key, None)

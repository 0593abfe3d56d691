"""The circuit breaker of one trunk and the online estimates the router learns from.

``Breaker`` ejects a trunk on line-side losses (a rate over a minimum sample, or a run of
consecutive losses) or on a collapsed answer rate, lets it cool down (with back-off), probes
it with a few calls and readmits it after enough clean probes. Congestion is handled apart:
a congestion share over the window lowers the trunk's usable concurrency (multiplicative
decrease), which grows back by itself with every clean attempt (additive increase).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from waihu.domain.calls import LossCause
from waihu.domain.trunks import TRUNK_LIFECYCLE, Thresholds, Trunk, TrunkHealth


@dataclass(slots=True)
class Decayed:
    """A success/trial count with exponential forgetting in time (time constant ``tau``)."""

    tau: float
    hits: float = 0.0
    n: float = 0.0
    at: float = 0.0

    def _decay(self, now: float) -> float:
        if now <= self.at:
            return 1.0
        return math.exp(-(now - self.at) / self.tau)

    def add(self, hit: bool, now: float, weight: float = 1.0) -> None:
        f = self._decay(now)
        self.hits = self.hits * f + (weight if hit else 0.0)
        self.n = self.n * f + weight
        self.at = max(self.at, now)

    def rate(self, now: float, prior: float, prior_weight: float) -> float:
        f = self._decay(now)
        return (self.hits * f + prior * prior_weight) / (self.n * f + prior_weight)

    def weight(self, now: float) -> float:
        return self.n * self._decay(now)


@dataclass(slots=True)
class Tracked:
    """A rate with a long memory for precision and a short one to notice a change.

    When the short-memory rate leaves the long-memory one by more than ``z`` standard errors
    (over at least ``min_n`` recent trials), the long memory is replaced by the short one: the
    estimate follows a real change within about a minute of traffic, yet stays precise while
    nothing changes.
    """

    long: Decayed
    short: Decayed
    z: float = 4.0
    min_n: float = 30.0
    changes: int = 0

    @classmethod
    def make(cls, tau_long: float, tau_short: float) -> Tracked:
        return cls(Decayed(tau_long), Decayed(tau_short))

    def add(self, hit: bool, now: float) -> None:
        self.long.add(hit, now)
        self.short.add(hit, now)
        ns = self.short.n
        if ns < self.min_n or self.long.n < 2 * ns:
            return
        ps = self.short.hits / ns
        pl = self.long.hits / self.long.n
        se = math.sqrt(max(pl * (1 - pl), 1e-4) / ns)
        if abs(ps - pl) > self.z * se:
            self.long = Decayed(self.long.tau, self.short.hits, ns, self.short.at)
            self.changes += 1

    def rate(self, now: float, prior: float, prior_weight: float) -> float:
        return self.long.rate(now, prior, prior_weight)


@dataclass(slots=True)
class Breaker:
    trunk: Trunk
    state: TrunkHealth = TrunkHealth.ENABLED
    since: float = 0.0
    cooldown: float = 0.0
    window: deque[int] = field(default_factory=deque)  # 1 = line loss (congestion excluded)
    congestion: deque[int] = field(default_factory=deque)
    consecutive: int = 0
    answers: deque[int] = field(default_factory=deque)
    probes_in_flight: int = 0
    probe_ok: int = 0
    ejections: int = 0
    last_reason: str = ""

    @property
    def th(self) -> Thresholds:
        return self.trunk.thresholds

    def _move(self, event: str, now: float, reason: str) -> str:
        self.state = TRUNK_LIFECYCLE.next(self.state, event)
        self.since = now
        self.last_reason = reason
        return event

    def tick(self, now: float) -> str | None:
        """Move an ejected trunk to probing once its cool-down has passed."""
        if self.state is TrunkHealth.EJECTED and now >= self.since + self.cooldown:
            self.probe_ok = 0
            self.probes_in_flight = 0
            return self._move("cooldown", now, "cooldown_elapsed")
        return None

    def can_probe(self) -> bool:
        th = self.th
        return (self.state is TrunkHealth.PROBING and self.probes_in_flight < th.probe_concurrency
                and self.probe_ok + self.probes_in_flight < th.probe_successes)

    def eject(self, now: float, reason: str, *, backoff: bool = False) -> str:
        th = self.th
        if backoff:
            self.cooldown = min(th.max_cooldown_seconds, max(th.cooldown_seconds, self.cooldown * 2))
        else:
            self.cooldown = th.cooldown_seconds
        self.ejections += 1
        self.window.clear()
        self.congestion.clear()
        self.answers.clear()
        self.consecutive = 0
        event = "probe_fail" if self.state is TrunkHealth.PROBING else "eject"
        return self._move(event, now, reason)

    def on_line(self, ok: bool, cause: LossCause | None, now: float, probe: bool) -> str | None:
        """A line result: the call rang or was answered (``ok``) or was lost on the line."""
        th = self.th
        if probe:
            self.probes_in_flight = max(0, self.probes_in_flight - 1)
            if self.state is not TrunkHealth.PROBING:
                return None
            if not ok:
                return self.eject(now, f"probe_failed:{cause}", backoff=True)
            self.probe_ok += 1
            if self.probe_ok >= th.probe_successes:
                self.window.clear()
                self.consecutive = 0
                return self._move("probe_ok", now, "probes_clean")
            return None
        if self.state is not TrunkHealth.ENABLED:
            return None  # results of calls placed before the ejection
        if cause is LossCause.CONGESTION:
            self._push(self.congestion, 1, th.window)
            return None
        self._push(self.congestion, 0, th.window)
        loss = 0 if ok else 1
        self._push(self.window, loss, th.window)
        self.consecutive = self.consecutive + 1 if loss else 0
        if self.consecutive >= th.consecutive:
            return self.eject(now, f"consecutive_line_losses:{self.consecutive}")
        n = len(self.window)
        if n >= th.min_sample and sum(self.window) / n >= th.line_loss:
            return self.eject(now, f"line_loss_rate:{sum(self.window) / n:.2f}")
        return None

    def congested(self) -> bool:
        """True (once per burst) when the congestion share of the window crosses 20%."""
        n = len(self.congestion)
        if n >= self.th.min_sample // 2 and sum(self.congestion) / n >= 0.2:
            self.congestion.clear()
            return True
        return False

    def on_outcome(self, answered: bool, now: float) -> str | None:
        th = self.th
        if th.min_answer_rate <= 0 or self.state is not TrunkHealth.ENABLED:
            return None
        self._push(self.answers, 1 if answered else 0, th.answer_min_sample)
        n = len(self.answers)
        if n >= th.answer_min_sample and sum(self.answers) / n < th.min_answer_rate:
            return self.eject(now, f"answer_rate:{sum(self.answers) / n:.3f}")
        return None

    @staticmethod
    def _push(q: deque[int], v: int, size: int) -> None:
        q.append(v)
        while len(q) > size:
            q.popleft()

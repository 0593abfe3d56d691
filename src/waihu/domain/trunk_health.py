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

    The short memory is the last ``n_short`` trials. When its rate leaves the long-memory rate
    by more than ``z`` standard errors, the long memory is replaced by the short one: the
    estimate follows a real change within a few dozen calls, yet stays precise while nothing
    changes.
    """

    long: Decayed
    n_short: int = 100
    z: float = 5.5
    recent: deque[int] = field(default_factory=deque)
    hits: int = 0
    changes: int = 0

    @classmethod
    def make(cls, tau_long: float, n_short: int) -> Tracked:
        return cls(Decayed(tau_long), n_short)

    def add(self, hit: bool, now: float) -> None:
        self.long.add(hit, now)
        v = 1 if hit else 0
        self.recent.append(v)
        self.hits += v
        if len(self.recent) > self.n_short:
            self.hits -= self.recent.popleft()
        ns = len(self.recent)
        if ns < self.n_short or self.long.n < 2 * ns:
            return
        ps = self.hits / ns
        pl = self.long.hits / self.long.n
        se = math.sqrt(max(pl * (1 - pl), 0.01) / ns)
        if abs(ps - pl) > self.z * se:
            self.long = Decayed(self.long.tau, float(self.hits), float(ns), now)
            self.changes += 1

    def rate(self, now: float, prior: float, prior_weight: float) -> float:
        return self.long.rate(now, prior, prior_weight)


@dataclass(slots=True)
class Drift:
    """Two one-sided CUSUM tests on a trunk's answers against what its estimates expect.

    Each answered/unanswered call adds the log-likelihood ratio of "the answer rate is now
    ``down`` (or ``up``) times the estimate" against "it is the estimate". When a sum passes
    ``h`` the trunk's answer quality has changed by a common factor (a carrier-side quality
    drop or its recovery, whatever the region); ``add`` then returns the factor observed since
    the change began, and the router rescales the trunk's estimates at once.
    """

    down: float = 0.6
    up: float = 1.5
    h: float = 8.0
    s_down: float = 0.0
    s_up: float = 0.0
    obs_down: float = 0.0
    exp_down: float = 0.0
    obs_up: float = 0.0
    exp_up: float = 0.0
    changes: int = 0
    evidence: float = 0.0  # expected answers behind the last change (its weight)

    def add(self, hit: bool, p: float) -> float | None:
        p = min(0.7, max(0.02, p))
        v = 1.0 if hit else 0.0
        self.s_down = max(0.0, self.s_down + (math.log(self.down) if hit
                                              else math.log((1 - self.down * p) / (1 - p))))
        self.s_up = max(0.0, self.s_up + (math.log(self.up) if hit else math.log((1 - self.up * p) / (1 - p))))
        if self.s_down == 0.0:
            self.obs_down = self.exp_down = 0.0
        else:
            self.obs_down += v
            self.exp_down += p
        if self.s_up == 0.0:
            self.obs_up = self.exp_up = 0.0
        else:
            self.obs_up += v
            self.exp_up += p
        for s, obs, exp in ((self.s_down, self.obs_down, self.exp_down), (self.s_up, self.obs_up, self.exp_up)):
            if s > self.h and exp > 0:
                ratio = obs / exp
                self.evidence = exp
                self.s_down = self.s_up = self.obs_down = self.exp_down = self.obs_up = self.exp_up = 0.0
                self.changes += 1
                return ratio
        return None


@dataclass(slots=True)
class Breaker:
    trunk: Trunk
    state: TrunkHealth = TrunkHealth.ENABLED
    since: float = 0.0
    cooldown: float = 0.0
    window: deque[int] = field(default_factory=deque)  # 1 = line loss (congestion excluded)
    congestion: deque[int] = field(default_factory=deque)
    consecutive: int = 0
    congestion_streak: int = 0  # congestion refusals since a call last got through
    congestion_since: float = 0.0  # when the first of them came
    answers: deque[int] = field(default_factory=deque)
    probes_in_flight: int = 0
    probe_ok: int = 0
    ejections: int = 0
    last_reason: str = ""
    signal_down: bool = False  # the trunk's own health signal (SIP OPTIONS) says it is down

    @property
    def th(self) -> Thresholds:
        return self.trunk.thresholds

    def _move(self, event: str, now: float, reason: str) -> str:
        self.state = TRUNK_LIFECYCLE.next(self.state, event)
        self.since = now
        self.last_reason = reason
        return event

    def tick(self, now: float) -> str | None:
        """Move an ejected trunk to probing once its cool-down has passed (not while its
        health signal says it is down)."""
        if self.state is TrunkHealth.EJECTED and not self.signal_down and now >= self.since + self.cooldown:
            self.probe_ok = 0
            self.probes_in_flight = 0
            return self._move("cooldown", now, "cooldown_elapsed")
        return None

    def signal(self, up: bool, now: float) -> str | None:
        """The trunk's health signal changed (SIP OPTIONS probes: down after failed probes, up
        after good ones). Down ejects the trunk and keeps it out, whatever its cool-down; up ends
        the cool-down at once: probe calls then readmit it as after any ejection."""
        self.signal_down = not up
        if self.state is TrunkHealth.DISABLED:
            return None
        if not up:
            if self.state is TrunkHealth.EJECTED:
                return None
            return self.eject(now, "options_down")
        if self.state is TrunkHealth.EJECTED:
            self.probe_ok = 0
            self.probes_in_flight = 0
            return self._move("cooldown", now, "options_up")
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
        self.congestion_streak = 0
        event = "probe_fail" if self.state is TrunkHealth.PROBING else "eject"
        return self._move(event, now, reason)

    def on_line(self, ok: bool, cause: LossCause | None, now: float, probe: bool, *, alone: bool = True) -> str | None:
        """A line result: the call rang or was answered (``ok``) or was lost on the line.
        ``alone``: no other call of ours was in flight on the trunk (a congestion refusal then
        cannot mean that the line is full of our own calls)."""
        th = self.th
        if probe:
            self.probes_in_flight = max(0, self.probes_in_flight - 1)
            if self.state is not TrunkHealth.PROBING or cause is LossCause.CONGESTION:
                return None  # congestion says the line is busy, not whether it is healthy
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
            if not alone:
                self.congestion_streak = 0
                return None
            if self.congestion_streak == 0:
                self.congestion_since = now
            self.congestion_streak += 1
            if th.congestion_run and self.congestion_streak >= th.congestion_run \
                    and now - self.congestion_since >= th.congestion_seconds:
                return self.eject(now, f"consecutive_congestion:{self.congestion_streak}")
            return None
        self._push(self.congestion, 0, th.window)
        if ok:
            self.congestion_streak = 0
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
        """True (once per burst) when the congestion share of a full window reaches 20%."""
        n = len(self.congestion)
        if n >= self.th.window and sum(self.congestion) / n >= 0.2:
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

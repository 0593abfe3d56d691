"""VICIdial's two classic auto-dial methods, as baselines for our predictive pacer.

Both follow VICIdial's own code (``AST_VDauto_dial.pl`` and ``AST_VDadapt.pl``, as read in the
GPLv2 sources); see ``docs/pacing.md`` for what we followed and where we had to choose.

* RATIO: a fixed ``auto_dial_level``. The dialer keeps ``level x active agents`` calls alive
  for the campaign, where active agents are those ready or in a call (``available_only_ratio_tally``
  N, the default) and the calls counted are every live call of the campaign: ringing, answered
  and waiting, and connected to an agent.
* ADAPT_AVERAGE: the same rule, with the level adjusted every 15 seconds by
  ``level x (1 + differential / agents)``, where the differential is the average over the
  last 15 one-second samples of ready agents minus calls waiting for an agent (plus
  ``adaptive_dl_diff_target``, default 0), scaled by ``adaptive_intensity`` (default 0, no
  scaling). The level is capped at ``adaptive_maximum_level`` (default 3.0) and never below
  1.0. Once a minute the drop rates are refreshed; if more than 50 calls were placed today and
  today's drop percentage is above ``adaptive_dropped_percentage`` (default 3), ADAPT_AVERAGE
  halves the level; a drop rate over 50% in the last minute (more than 20 calls) halves it too.
"""

from __future__ import annotations

from collections import deque

from waihu.domain.pacing import Observation, ObservationKind, PacingDecision, PacingSnapshot, line_room

_IN_CALL = "talking"


def _active_agents(snap: PacingSnapshot) -> tuple[int, int]:
    """(ready, in a call) among the campaign's agents."""
    talking = sum(1 for a in snap.agents if a.state == _IN_CALL)
    return snap.ready, talking


def ratio_calls(level: float, snap: PacingSnapshot) -> tuple[int, dict[str, float]]:
    ready, talking = _active_agents(snap)
    goal = level * (ready + talking)
    live = len(snap.ringing_since) + snap.waiting + talking
    want = max(0, int(goal - live + 0.5))
    return want, {"level": level, "ready": ready, "talking": talking, "goal": goal,
                  "live": live, "want": want}


class VicidialRatioPacer:
    """RATIO: a fixed dial level (VICIdial's ``auto_dial_level``)."""

    def __init__(self, level: float = 1.0) -> None:
        if level < 1.0:
            raise ValueError("the dial level must be >= 1.0")
        self.name = "vicidial_ratio"
        self.level = level

    def observe(self, obs: Observation) -> None:
        return None

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        if not snap.agents:
            return PacingDecision(0, {"agents": 0})
        want, inputs = ratio_calls(self.level, snap)
        n = min(want, line_room(snap))
        inputs["line_short"] = want - n
        return PacingDecision(n, inputs)


class VicidialAdaptivePacer:
    """ADAPT_AVERAGE with VICIdial's documented defaults."""

    def __init__(self, *, start_level: float = 1.0, max_level: float = 3.0, dropped_percentage: float | None = None,
                 intensity: float = 0.0, dl_diff_target: float = 0.0, adapt_every: float = 15.0,
                 sample_every: float = 1.0, samples: int = 15, drops_every: float = 60.0) -> None:
        self.name = "vicidial_adaptive"
        self.level = start_level
        self.max_level = max_level
        self.dropped_percentage = dropped_percentage  # None: the campaign's abandon target
        self.intensity = intensity
        self.dl_diff_target = dl_diff_target
        self.adapt_every = adapt_every
        self.sample_every = sample_every
        self.samples: deque[tuple[int, int, int]] = deque(maxlen=samples)  # ready, waiting, agents
        self.drops_every = drops_every
        self._next_sample: float | None = None
        self._next_adapt: float | None = None
        self._next_drops: float | None = None
        self._minute: deque[tuple[float, int]] = deque()  # (time, 1 dialed / 2 dropped)
        self._today_pct = 0.0
        self._today_calls = 0
        self._minute_pct = 0.0
        self._minute_calls = 0

    def observe(self, obs: Observation) -> None:
        if obs.kind is ObservationKind.DIALED:
            self._minute.append((obs.at, 1))
        elif obs.kind is ObservationKind.ABANDONED:
            self._minute.append((obs.at, 2))

    def _refresh_drops(self, snap: PacingSnapshot) -> None:
        while self._minute and self._minute[0][0] < snap.now - 60.0:
            self._minute.popleft()
        calls = sum(1 for _, k in self._minute if k == 1)
        drops = sum(1 for _, k in self._minute if k == 2)
        self._minute_calls, self._minute_pct = calls, (100.0 * drops / calls if calls else 0.0)
        self._today_calls = snap.dialed
        self._today_pct = 100.0 * snap.abandoned / snap.answered if snap.answered else 0.0

    def _adapt(self, snap: PacingSnapshot) -> None:
        if not self.samples:
            return
        k = len(self.samples)
        ready_avg = sum(s[0] for s in self.samples) / k
        waiting_avg = sum(s[1] for s in self.samples) / k
        agents_avg = sum(s[2] for s in self.samples) / k
        target = ready_avg - waiting_avg + self.dl_diff_target
        mul = target / agents_avg if target != 0 and agents_avg != 0 else 0.0
        pct = 100.0 * mul
        imul = self.intensity / 100.0
        diff = pct * abs(imul - 1.0) if pct < 0 else pct * (imul + 1.0)
        level = self.level * (diff / 100.0 + 1.0)
        level = max(1.0, min(level, self.max_level))
        limit = self.dropped_percentage if self.dropped_percentage is not None else 100.0 * snap.abandon_target
        if self._minute_calls > 20 and self._minute_pct > 50.0:
            level /= 2.0
        if self._today_calls > 50 and self._today_pct > limit:
            level /= 2.0
        self.level = max(1.0, level)

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        now = snap.now
        if self._next_sample is None:
            self._next_sample, self._next_adapt, self._next_drops = now, now + self.adapt_every, now
        assert self._next_adapt is not None and self._next_drops is not None
        while now >= self._next_sample:  # one sample per second, as the adapt loop does
            self.samples.append((snap.ready, snap.waiting, len(snap.agents)))
            self._next_sample += self.sample_every
        if now >= self._next_drops:
            self._refresh_drops(snap)
            self._next_drops = now + self.drops_every
        if now >= self._next_adapt:
            self._adapt(snap)
            self._next_adapt = now + self.adapt_every
        if not snap.agents:
            return PacingDecision(0, {"agents": 0, "level": self.level})
        if snap.abandon_target <= 0:  # a zero target allows no over-dialling at all
            want, inputs = ratio_calls(1.0, snap)
        else:
            want, inputs = ratio_calls(self.level, snap)
        n = min(want, line_room(snap))
        inputs.update(line_short=want - n, drops_today_pct=self._today_pct)
        return PacingDecision(n, inputs)

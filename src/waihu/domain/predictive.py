"""Our predictive pacer: survival-based forecasts of agents and answers, with abandon feedback.

At each decision it forecasts, at a few checkpoints ``t`` over the next half minute:

* demand ``D(t)``: answered calls needing an agent by ``t`` -- the calls already waiting, plus
  each ringing call's chance of being answered by ``t`` given how long it has rung (empirical
  ring-time distribution of answered calls, empirical duration of unanswered ones, and an answer
  probability tracked with exponential forgetting so that drift is followed);
* supply ``A(t)``: agents free by ``t + abandon_after`` -- the ready ones, plus each talking
  agent's chance of ending the call (empirical talk-time survival conditioned on the talk time
  elapsed) and then the wrap-up, plus each wrapping agent's chance of finishing the wrap-up
  given its elapsed time.

Calls answered while no agent comes within ``abandon_after`` are abandoned, so the expected
number of abandons is about ``max_t E[(D(t) - A(t))^+]`` (Hall's condition for serving calls
before their deadlines); sums of independent Bernoulli variables are approximated by normals.
It then places new calls one by one while the marginal call's chance of being abandoned, if
answered, stays under a risk threshold ``tau``. ``tau`` is set by a PI controller on the
campaign's realised abandons so far: the slack ``B = target' x answered - abandoned`` with
``target'`` the target less a safety margin that shrinks as answers accumulate.

At a zero target, or before enough has been observed to forecast, it never has more calls in
flight than ready agents: no answered call can then wait for an agent.
"""

from __future__ import annotations

import math
from collections import Counter
from operator import mul

from waihu.domain.estimators import UNIT, ForgettingRate, Histogram, expected_excess, pack, unpack
from waihu.domain.pacing import Observation, ObservationKind, PacingDecision, PacingSnapshot, line_room

CHECKPOINTS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 22, 27)
_K = len(CHECKPOINTS)
_TAIL_OBS = 5  # conditional survival needs at least this many observations beyond the elapsed time


class PredictivePacer:
    def __init__(self, *, min_interval: float = 0.25, kp: float = 0.2, ki: float = 0.001,
                 bias: float = math.log(0.3), margin: float = 1.0, memory: float = 400.0,
                 warm_talks: int = 20, warm_calls: int = 20, recent: float = 2000.0,
                 min_ring: float = 15.0) -> None:
        self.name = "predictive"
        self.min_interval = min_interval
        self.kp, self.ki, self.bias, self.margin = kp, ki, bias, margin
        self.warm_talks, self.warm_calls = warm_talks, warm_calls
        self.ring = Histogram(120)  # dial to answer, answered calls
        self.noans = Histogram(120)  # dial to failure, unanswered calls
        self.talk = Histogram(3600)
        self.wrap = Histogram(600)
        self.p = ForgettingRate(0.3, memory)
        self.integral = 0.0
        self._last_answered = 0
        self._last_abandoned = 0
        self.min_ring = min_ring  # never hang up an unanswered call sooner (15 s: the US minimum)
        self.recent = recent  # memory, in answered calls, of the discounted abandon counts
        self._recent_answered = 0.0
        self._recent_abandoned = 0.0
        self._last_at = -math.inf
        self._last_ready = -1
        self._last_room = 0  # line room left after the last full forecast
        # forecast rows packed as fixed-point fields (see ``estimators.pack``), per elapsed second:
        # agents' P(free by t) in fields 0..13, every row's variance in 14..27, calls' P(answered by t)
        # in 28..41, so that one integer sum adds up a whole forecast exactly, in any order
        self._talk_rows: dict[int, int] = {}
        self._wrap_rows: dict[int, int] = {}
        self._call_rows: dict[int, int] = {}
        self._ends: list[float] = []  # P(talk ends in second i), padded with zeros
        self._after_wrap: list[float] = []  # P(wrap-up shorter than k seconds)
        self._rows_p = -1.0
        self._new_q: list[float] = []  # a new call's row
        self._st: list[float] = []
        self._sw: list[float] = []
        self._talk_cap = 0
        self._wrap_cap = 0
        self._deadline = -1

    # ------------------------------------------------------------------ observations
    def observe(self, obs: Observation) -> None:
        k = obs.kind
        if k is ObservationKind.ANSWERED:
            self.ring.add(obs.value)
            self.p.add(True)
        elif k is ObservationKind.UNANSWERED:
            self.noans.add(obs.value)
            self.p.add(False)
        elif k is ObservationKind.TALK_ENDED:
            self.talk.add(obs.value)
        elif k is ObservationKind.WRAP_ENDED:
            self.wrap.add(obs.value)

    def warmed_up(self) -> bool:
        return (self.talk.n >= self.warm_talks and self.wrap.n >= self.warm_talks
                and self.ring.n >= self.warm_calls and self.noans.n >= self.warm_calls)

    # ------------------------------------------------------------------ forecasts
    def _refresh(self, deadline: int) -> None:
        if not (self.talk.stale() or self.wrap.stale() or deadline != self._deadline):
            return
        self._st, self._sw = st, sw = self.talk.survival(), self.wrap.survival()
        self._talk_cap = _cap(st, self.talk.n)
        self._wrap_cap = _cap(sw, self.wrap.n)
        self._talk_rows.clear()
        self._wrap_rows.clear()
        self._deadline = deadline
        horizon = CHECKPOINTS[-1] + deadline
        last, lw = len(st) - 1, len(sw) - 1
        self._ends = [st[min(i, last)] - st[min(i + 1, last)] for i in range(len(st) + horizon)]
        self._after_wrap = [1.0 - sw[min(k, lw)] for k in range(horizon)]

    def _talk_row(self, e: int) -> int:
        """P(an agent talking for ``e`` seconds is free by each checkpoint + the deadline), packed."""
        row = self._talk_rows.get(e)
        if row is None:
            base = self._st[e]
            ends, after = self._ends, self._after_wrap
            q = []
            for j in CHECKPOINTS:
                t = j + self._deadline
                # the call ends in second e + s, then the wrap-up takes under t - s - 1 seconds
                acc = sum(map(mul, ends[e:e + t], after[t - 1::-1])) if t > 0 else 0.0
                q.append(min(1.0, acc / base) if base > 0 else 0.0)
            row = self._talk_rows[e] = _pack_row(q, 0)
        return row

    def _wrap_row(self, w: int) -> int:
        row = self._wrap_rows.get(w)
        if row is None:
            sw, d = self._sw, self._deadline
            last = len(sw) - 1
            base = sw[w]
            q = [(base - sw[min(w + j + d, last)]) / base if base > 0 else 1.0 for j in CHECKPOINTS]
            row = self._wrap_rows[w] = _pack_row(q, 0)
        return row

    def _call_q(self, a: int, p: float) -> list[float]:
        """P(a call ringing for ``a`` seconds is answered by each checkpoint)."""
        sr, su = self.ring.survival(), self.noans.survival()
        last = len(sr) - 1
        a = min(a, last)
        den = p * sr[a] + (1.0 - p) * su[a]
        if den <= 1e-12:
            return [0.0] * len(CHECKPOINTS)
        return [p * (sr[a] - sr[min(a + j, last)]) / den for j in CHECKPOINTS]

    def _call_row(self, a: int, p: float) -> int:
        row = self._call_rows.get(a)
        if row is None:
            row = self._call_rows[a] = _pack_row(self._call_q(a, p), 2 * _K)
        return row

    # ------------------------------------------------------------------ decision
    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        now = snap.now
        if not snap.agents:
            return PacingDecision(0, {"agents": 0})
        room = line_room(snap)
        in_flight = len(snap.ringing_since) + snap.waiting
        if snap.abandon_target <= 0 or not self.warmed_up():
            n = min(room, max(0, snap.ready - in_flight))
            return PacingDecision(n, {"ready": snap.ready, "in_flight": in_flight, "safe": 1.0})
        # between full forecasts only an agent becoming ready, or a line freeing on a trunk that
        # limits the campaign, is worth a new one
        freed_line = snap.max_lines is not None and room > self._last_room
        if now - self._last_at < self.min_interval and snap.ready <= self._last_ready and not freed_line:
            return PacingDecision(0)
        self._last_at, self._last_ready = now, snap.ready
        self._refresh(max(0, int(snap.abandon_after)))
        p = self.p.value
        if abs(p - self._rows_p) > 0.002 or self.ring.stale() or self.noans.stale():
            self.ring.survival()
            self.noans.survival()
            self._call_rows.clear()
            self._rows_p = p
            self._new_q = self._call_q(0, p)
            self._call_rows[0] = _pack_row(self._new_q, 2 * _K)
        tau, target_eff, slack = self._threshold(snap)

        k_n = _K
        total = 0  # the packed sum of every row
        old = 0  # calls that have rung at least min_ring seconds
        for t0, c in Counter(snap.ringing_since).items():
            a = int(now - t0)
            total += c * (self._call_rows.get(a) or self._call_row(a, p))
            if a >= self.min_ring:
                old += c
        if snap.max_lines is None:
            old = 0  # lines are no constraint: no call is worth hanging up
        talking = wrapping = 0
        tcap, wcap = self._talk_cap, self._wrap_cap
        trows, wrows = self._talk_rows, self._wrap_rows
        for ag in snap.agents:
            st = ag.state
            if st == "talking":
                e = int(now - ag.since)
                e = e if e < tcap else tcap  # beyond the cap, the cap's row
                total += trows.get(e) or self._talk_row(e)
                talking += 1
            elif st == "wrap_up":
                w = int(now - ag.since)
                w = w if w < wcap else wcap
                total += wrows.get(w) or self._wrap_row(w)
                wrapping += 1
        f = unpack(total, 3 * _K)
        base = float(snap.waiting - snap.ready)
        mean = [base + (f[2 * _K + k] - f[k]) * UNIT for k in range(k_n)]  # D(t) - A(t)
        var = [f[_K + k] * UNIT for k in range(k_n)]
        answers, freed = f[3 * _K - 1] * UNIT, f[_K - 1] * UNIT

        new = self._new_q
        p_h = new[-1]
        n = 0
        risks = [expected_excess(mean[k], var[k]) for k in range(k_n)]
        risk0 = max(risks)
        marginal = 0.0
        if p_h > 0:
            # the marginal call's abandon risk: the largest increase of expected overflow over the deadlines
            limit = tau * p_h
            new_var = [q * (1.0 - q) for q in new]
            cap = min(room + old, 100_000)
            while n < cap:
                m = n + 1
                nxt = [expected_excess(mean[k] + m * new[k], var[k] + m * new_var[k]) for k in range(k_n)]
                marginal = max(nxt[k] - risks[k] for k in range(k_n))
                if marginal > limit:
                    break
                n, risks = m, nxt
        risk = max(risks)
        # on a full trunk, a call that has rung min_ring seconds is rarely answered any more: its line
        # is better used by a new call
        cancel = max(0, n - room)
        self._last_room = room + cancel - n
        return PacingDecision(n, cancel=cancel, inputs={
            "ready": snap.ready, "ringing": len(snap.ringing_since), "waiting": snap.waiting,
            "talking": talking, "wrap_up": wrapping, "p_answer": round(p, 4),
            "expected_answers": round(answers, 3), "expected_freed": round(freed, 3),
            "expected_abandons": round(risk0, 4), "tau": round(tau, 5), "target_eff": round(target_eff, 5),
            "slack": round(slack, 3), "placed_risk": round(risk, 4),
            "marginal_risk": round(marginal / p_h if p_h > 0 else 0.0, 5), "cancel": cancel})

    def _threshold(self, snap: PacingSnapshot) -> tuple[float, float, float]:
        """The PI controller: a risk threshold from the slack in the campaign's abandon count."""
        target = snap.abandon_target
        answered, abandoned = snap.answered, snap.abandoned
        margin = self.margin * math.sqrt(target / (answered + 50.0))
        target_eff = max(0.5 * target, target - margin)
        # the slack left in the campaign so far, but never more than in its recent past: slack saved
        # while starting cautiously is not spent all at once later
        keep = (1.0 - 1.0 / self.recent) ** max(0, answered - self._last_answered) if self.recent > 0 else 1.0
        self._recent_answered = self._recent_answered * keep + (answered - self._last_answered)
        self._recent_abandoned = self._recent_abandoned * keep + (abandoned - self._last_abandoned)
        self._last_abandoned = abandoned
        slack = min(target_eff * answered - abandoned,
                    target_eff * self._recent_answered - self._recent_abandoned)
        self.integral += self.ki * slack * (answered - self._last_answered)
        self.integral = max(-3.0, min(3.0, self.integral))
        self._last_answered = answered
        prop = max(-4.0, min(2.0, self.kp * slack))
        tau = min(1.0, target * math.exp(self.bias + self.integral + prop))
        return tau, target_eff, slack


def _pack_row(q: list[float], first: int) -> int:
    """One row: its probabilities from field ``first`` on, their Bernoulli variances from ``_K`` on."""
    return pack(q, first) + pack([x * (1.0 - x) for x in q], _K)


def _cap(surv: list[float], n: int) -> int:
    """The largest elapsed bin with at least ``_TAIL_OBS`` observations still to end."""
    need = _TAIL_OBS / max(1, n)
    i = len(surv) - 1
    while i > 0 and surv[i] < need:
        i -= 1
    return i

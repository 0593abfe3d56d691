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

from waihu.domain.estimators import ForgettingRate, Histogram, expected_excess
from waihu.domain.pacing import Observation, ObservationKind, PacingDecision, PacingSnapshot, line_room

CHECKPOINTS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 22, 27)
_TAIL_OBS = 5  # conditional survival needs at least this many observations beyond the elapsed time


class PredictivePacer:
    def __init__(self, *, min_interval: float = 0.25, kp: float = 0.2, ki: float = 0.001,
                 bias: float = math.log(0.3), margin: float = 1.0, memory: float = 400.0,
                 warm_talks: int = 20, warm_calls: int = 20) -> None:
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
        self._last_at = -math.inf
        self._last_ready = -1
        self._talk_rows: dict[int, list[float]] = {}
        self._wrap_rows: dict[int, list[float]] = {}
        self._call_rows: dict[int, list[float]] = {}
        self._rows_p = -1.0
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
        self._st, self._sw = self.talk.survival(), self.wrap.survival()
        self._talk_cap = _cap(self._st, self.talk.n)
        self._wrap_cap = _cap(self._sw, self.wrap.n)
        self._talk_rows.clear()
        self._wrap_rows.clear()
        self._deadline = deadline

    def _talk_row(self, e: int) -> list[float]:
        e = min(e, self._talk_cap)
        row = self._talk_rows.get(e)
        if row is None:
            st, sw, d = self._st, self._sw, self._deadline
            last = len(st) - 1
            base = st[e]
            row = []
            for j in CHECKPOINTS:
                t = j + d
                acc = 0.0
                for s in range(t):
                    ends = st[min(e + s, last)] - st[min(e + s + 1, last)]
                    if ends > 0.0:
                        acc += ends * (1.0 - sw[min(t - s - 1, len(sw) - 1)])
                row.append(min(1.0, acc / base) if base > 0 else 0.0)
            self._talk_rows[e] = row
        return row

    def _wrap_row(self, w: int) -> list[float]:
        w = min(w, self._wrap_cap)
        row = self._wrap_rows.get(w)
        if row is None:
            sw, d = self._sw, self._deadline
            last = len(sw) - 1
            base = sw[w]
            row = [(base - sw[min(w + j + d, last)]) / base if base > 0 else 1.0 for j in CHECKPOINTS]
            self._wrap_rows[w] = row
        return row

    def _call_row(self, a: int, p: float) -> list[float]:
        row = self._call_rows.get(a)
        if row is None:
            sr, su = self.ring.survival(), self.noans.survival()
            last = len(sr) - 1
            a = min(a, last)
            den = p * sr[a] + (1.0 - p) * su[a]
            if den <= 1e-12:
                row = [0.0] * len(CHECKPOINTS)
            else:
                row = [p * (sr[a] - sr[min(a + j, last)]) / den for j in CHECKPOINTS]
            self._call_rows[a] = row
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
        if now - self._last_at < self.min_interval and snap.ready <= self._last_ready:
            return PacingDecision(0)
        self._last_at, self._last_ready = now, snap.ready
        self._refresh(max(0, int(snap.abandon_after)))
        p = self.p.value
        if abs(p - self._rows_p) > 0.002 or self.ring.stale() or self.noans.stale():
            self.ring.survival()
            self.noans.survival()
            self._call_rows.clear()
            self._rows_p = p
        tau, target_eff, slack = self._threshold(snap)

        k_n = len(CHECKPOINTS)
        mean = [float(snap.waiting - snap.ready)] * k_n  # D(t) - A(t)
        var = [0.0] * k_n
        ages: dict[int, int] = {}
        for t0 in snap.ringing_since:
            a = int(now - t0)
            ages[a] = ages.get(a, 0) + 1
        answers = 0.0
        for a, c in ages.items():
            row = self._call_row(a, p)
            for k in range(k_n):
                q = row[k]
                mean[k] += c * q
                var[k] += c * q * (1.0 - q)
            answers += c * row[-1]
        talking: dict[int, int] = {}
        wrapping: dict[int, int] = {}
        for ag in snap.agents:
            st = ag.state
            if st == "talking":
                e = int(now - ag.since)
                talking[e] = talking.get(e, 0) + 1
            elif st == "wrap_up":
                w = int(now - ag.since)
                wrapping[w] = wrapping.get(w, 0) + 1
        freed = 0.0
        for groups, fn in ((talking, self._talk_row), (wrapping, self._wrap_row)):
            for key, c in groups.items():
                row = fn(key)
                for k in range(k_n):
                    q = row[k]
                    mean[k] -= c * q
                    var[k] += c * q * (1.0 - q)
                freed += c * row[-1]

        new = self._call_row(0, p)
        p_h = new[-1]
        n = 0
        risks = [expected_excess(mean[k], var[k]) for k in range(k_n)]
        risk0 = max(risks)
        marginal = 0.0
        if p_h > 0:
            # the marginal call's abandon risk: the largest increase of expected overflow over the deadlines
            limit = tau * p_h
            new_var = [q * (1.0 - q) for q in new]
            cap = min(room, 100_000)
            while n < cap:
                m = n + 1
                nxt = [expected_excess(mean[k] + m * new[k], var[k] + m * new_var[k]) for k in range(k_n)]
                marginal = max(nxt[k] - risks[k] for k in range(k_n))
                if marginal > limit:
                    break
                n, risks = m, nxt
        risk = max(risks)
        return PacingDecision(n, {
            "ready": snap.ready, "ringing": len(snap.ringing_since), "waiting": snap.waiting,
            "talking": sum(talking.values()), "wrap_up": sum(wrapping.values()), "p_answer": round(p, 4),
            "expected_answers": round(answers, 3), "expected_freed": round(freed, 3),
            "expected_abandons": round(risk0, 4), "tau": round(tau, 5), "target_eff": round(target_eff, 5),
            "slack": round(slack, 3), "placed_risk": round(risk, 4),
            "marginal_risk": round(marginal / p_h if p_h > 0 else 0.0, 5)})

    def _threshold(self, snap: PacingSnapshot) -> tuple[float, float, float]:
        """The PI controller: a risk threshold from the slack in the campaign's abandon count."""
        target = snap.abandon_target
        answered, abandoned = snap.answered, snap.abandoned
        margin = self.margin * math.sqrt(target / (answered + 50.0))
        target_eff = max(0.5 * target, target - margin)
        slack = target_eff * answered - abandoned
        self.integral += self.ki * slack * (answered - self._last_answered)
        self.integral = max(-3.0, min(3.0, self.integral))
        self._last_answered = answered
        prop = max(-4.0, min(2.0, self.kp * slack))
        tau = min(1.0, target * math.exp(self.bias + self.integral + prop))
        return tau, target_eff, slack


def _cap(surv: list[float], n: int) -> int:
    """The largest elapsed bin with at least ``_TAIL_OBS`` observations still to end."""
    need = _TAIL_OBS / max(1, n)
    i = len(surv) - 1
    while i > 0 and surv[i] < need:
        i -= 1
    return i

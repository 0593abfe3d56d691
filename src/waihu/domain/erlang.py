"""Staffing and trunk sizing: Erlang B, Erlang C and Erlang A (M/M/N+M), pure and stdlib-only.

Notation: ``calls_per_hour`` offered calls, ``aht`` mean handle time in seconds (talk plus
wrap-up), ``traffic`` offered load in Erlangs = calls_per_hour * aht / 3600, ``agents`` servers,
``patience`` mean customer patience in seconds (exponential), ``sl_seconds`` the service-level
threshold T.

- Erlang B is computed with the stable recursion B(n) = A B(n-1) / (n + A B(n-1)).
- Erlang C from Erlang B: C = N B / (N - A (1 - B)); defined only for A < N.
- Erlang A follows Palm and Mandelbaum & Zeltyn ("The Palm/Erlang-A queue"): with
  x = N mu / theta, y = lambda / theta and the series A(x, y) = 1 + sum_j y^j / prod_{k<=j}(x + k)
  (summed in log space), P(W > 0) = A E / (1 + (A - 1) E) with E = Erlang B(N, lambda/mu),
  P(abandon) = (1 / (rho A) + 1 - 1 / rho) P(W > 0) with rho = lambda / (N mu), and
  E[W] = P(abandon) / theta. Its service level (calls answered within T over all offered calls)
  is computed from the queue-position distribution with uniformization.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from waihu.domain.errors import ValidationError

_TOL = 1e-15


@dataclass(frozen=True)
class QueueResult:
    model: str
    calls_per_hour: float
    aht_seconds: float
    agents: int
    traffic_erlangs: float
    p_wait: float
    service_level: float
    sl_seconds: float
    asa_seconds: float
    occupancy: float  # Erlang's occupancy: carried load / agents (handle time includes wrap-up)
    p_abandon: float | None = None
    patience_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.p_abandon is None:
            del d["p_abandon"], d["patience_seconds"]
        return d


def traffic_erlangs(calls_per_hour: float, aht: float) -> float:
    _positive(calls_per_hour=calls_per_hour, aht=aht)
    return calls_per_hour * aht / 3600.0


def _positive(**values: float) -> None:
    for name, v in values.items():
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ValidationError("staffing.invalid_input", f"{name} must be a positive finite number")


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of an M/M/N/N system (trunks, no queue)."""
    if agents < 0:
        raise ValidationError("staffing.invalid_input", "agents must be >= 0")
    if traffic < 0:
        raise ValidationError("staffing.invalid_input", "traffic must be >= 0")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (M/M/N). Requires traffic < agents."""
    if agents <= traffic:
        raise ValidationError(
            "staffing.unstable_queue",
            f"{agents} agents cannot carry {traffic:.3f} Erlangs: the queue grows without bound "
            "(Erlang C needs more agents than Erlangs)")
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1.0 - b))


def erlang_c_metrics(calls_per_hour: float, aht: float, agents: int, sl_seconds: float) -> QueueResult:
    a = traffic_erlangs(calls_per_hour, aht)
    _agents(agents)
    if sl_seconds < 0:
        raise ValidationError("staffing.invalid_input", "sl_seconds must be >= 0")
    pw = erlang_c(agents, a)
    sl = 1.0 - pw * math.exp(-(agents - a) * sl_seconds / aht)
    asa = pw * aht / (agents - a)
    return QueueResult("erlang_c", calls_per_hour, aht, agents, a, pw, _clip(sl), sl_seconds, asa, a / agents)


def _agents(agents: int) -> None:
    if not isinstance(agents, int) or agents < 1:
        raise ValidationError("staffing.invalid_input", "agents must be a positive integer")


def _clip(p: float) -> float:
    return min(1.0, max(0.0, p))


def _log_a_series(x: float, y: float) -> float:
    """log A(x, y) = log(1 + sum_{j>=1} y^j / prod_{k=1..j} (x + k)), summed in log space."""
    terms = [0.0]
    lt, j = 0.0, 0
    peak = 0.0
    while True:
        j += 1
        lt += math.log(y) - math.log(x + j)
        terms.append(lt)
        peak = max(peak, lt)
        if x + j > y and lt < peak - 40.0:
            break
    return peak + math.log(sum(math.exp(t - peak) for t in terms))


def _position_weights(n_mu: float, lam: float, theta: float) -> list[float]:
    """Distribution of an arrival's queue position j = 1, 2, ... given that it waits."""
    logs = [0.0]
    lt, peak, j = 0.0, 0.0, 1
    while True:
        lt += math.log(lam) - math.log(n_mu + j * theta)
        j += 1
        logs.append(lt)
        peak = max(peak, lt)
        if n_mu + j * theta > lam and lt < peak - 36.0:
            break
    w = [math.exp(t - peak) for t in logs]
    s = sum(w)
    return [v / s for v in w]


def _served_within(weights: list[float], n_mu: float, theta: float, t: float) -> float:
    """P(reach an agent within t) for a waiting call with its position drawn from ``weights``.

    At position k the call moves up at rate N mu + (k - 1) theta and abandons at rate theta;
    the transient distribution is computed by uniformization."""
    if t <= 0:
        return 0.0
    k_max = len(weights)
    rates = [n_mu + k * theta for k in range(k_max)]  # rates[k-1] = move-up rate at position k
    lam_u = rates[-1] + theta
    p_stay = [1.0 - (rates[k] + theta) / lam_u for k in range(k_max)]
    p_up = [rates[k] / lam_u for k in range(k_max)]
    vec = list(weights)
    served = 0.0
    mean = lam_u * t
    total, m = 0.0, 0
    limit = int(mean + 12.0 * math.sqrt(mean) + 30)
    log_mean = math.log(mean)
    for m in range(limit + 1):
        w = math.exp(-mean + m * log_mean - math.lgamma(m + 1))
        total += w * served  # served mass after m jumps, weighted by P(N(t) = m)
        served += vec[0] * p_up[0]
        vec = [vec[k] * p_stay[k] + (vec[k + 1] * p_up[k + 1] if k + 1 < k_max else 0.0) for k in range(k_max)]
    return _clip(total + (1.0 - _poisson_cdf(limit, mean)) * served)


def _poisson_cdf(n: int, mean: float) -> float:
    log_mean = math.log(mean)
    return min(1.0, sum(math.exp(-mean + m * log_mean - math.lgamma(m + 1)) for m in range(n + 1)))


def erlang_a_metrics(calls_per_hour: float, aht: float, agents: int, patience: float,
                     sl_seconds: float) -> QueueResult:
    """M/M/N+M: Erlang C with exponential patience. Stable for any load (no A < N condition)."""
    a = traffic_erlangs(calls_per_hour, aht)
    _agents(agents)
    _positive(patience=patience)
    if sl_seconds < 0:
        raise ValidationError("staffing.invalid_input", "sl_seconds must be >= 0")
    lam, mu, theta = calls_per_hour / 3600.0, 1.0 / aht, 1.0 / patience
    n_mu = agents * mu
    e = erlang_b(agents, a)
    if e <= 0.0:
        pw = 0.0
        log_a = 0.0
    else:
        log_a = _log_a_series(n_mu / theta, lam / theta)
        # P(W>0) = A E / (1 + (A - 1) E) = 1 / (1 + (1 - E) / (A E))
        pw = 1.0 / (1.0 + math.exp(math.log1p(-e) - log_a - math.log(e))) if e < 1.0 else 1.0
    rho = lam / n_mu
    p_ab = _clip((math.exp(-log_a) / rho + 1.0 - 1.0 / rho) * pw)
    asa = p_ab / theta
    served_in_t = _served_within(_position_weights(n_mu, lam, theta), n_mu, theta, sl_seconds) if pw > 0 else 0.0
    sl = (1.0 - pw) + pw * served_in_t
    carried = a * (1.0 - p_ab)
    return QueueResult("erlang_a", calls_per_hour, aht, agents, a, _clip(pw), _clip(sl), sl_seconds, asa,
                       _clip(carried / agents), p_ab, patience)


def agents_for_service_level(calls_per_hour: float, aht: float, sl_seconds: float, target_sl: float,
                             patience: float | None = None, max_agents: int = 100_000) -> QueueResult:
    """The smallest number of agents whose service level reaches ``target_sl``."""
    if not 0 < target_sl < 1:
        raise ValidationError("staffing.invalid_target", "target service level must be between 0 and 1")
    a = traffic_erlangs(calls_per_hour, aht)
    n = max(1, math.floor(a) + 1) if patience is None else max(1, math.floor(a * 0.5))
    while n <= max_agents:
        r = (erlang_c_metrics(calls_per_hour, aht, n, sl_seconds) if patience is None
             else erlang_a_metrics(calls_per_hour, aht, n, patience, sl_seconds))
        if r.service_level >= target_sl:
            return r
        n += 1
    raise ValidationError("staffing.target_unreachable", f"target not reached with {max_agents} agents")


def trunks_for_blocking(traffic: float, target_blocking: float, max_trunks: int = 100_000) -> tuple[int, float]:
    """Erlang B trunk sizing: the fewest lines whose blocking is at most ``target_blocking``."""
    _positive(traffic=traffic)
    if not 0 < target_blocking < 1:
        raise ValidationError("staffing.invalid_target", "target blocking must be between 0 and 1")
    b, n = 1.0, 0
    while b > target_blocking:
        n += 1
        if n > max_trunks:
            raise ValidationError("staffing.target_unreachable", f"target not reached with {max_trunks} trunks")
        b = traffic * b / (n + traffic * b)
    return n, b

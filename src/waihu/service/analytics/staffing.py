"""Staffing and trunk sizing (Erlang C, Erlang A, Erlang B) from offered load and handle time:
the one answer of ``waihu report staffing`` and ``GET /v1/reports/staffing``."""

from __future__ import annotations

from typing import Any

from waihu.domain.erlang import agents_for_service_level, erlang_a_metrics, erlang_c_metrics, trunks_for_blocking
from waihu.domain.errors import ErrorDetail, ValidationError

# below these the queueing formulas lose their meaning (and floating point its precision)
LIMITS = {"calls_per_hour": (0.01, 100_000.0), "aht": (1.0, 86_400.0), "patience": (1.0, 86_400.0),
          "sl_seconds": (0.0, 86_400.0)}


def staffing(calls_per_hour: float, aht: float, *, agents: int | None = None, patience: float | None = None,
             sl_seconds: float = 20.0, target_sl: float | None = None,
             target_blocking: float | None = None) -> dict[str, Any]:
    """With ``agents``: the queue that many agents make (Erlang A when ``patience`` is given,
    else Erlang C). Without: the fewest agents meeting ``target_sl``. ``target_blocking`` also
    sizes the trunks with Erlang B."""
    if agents is None and target_sl is None:
        raise ValidationError("staffing.missing_input", "give agents or a target service level")
    given = {"calls_per_hour": calls_per_hour, "aht": aht, "patience": patience, "sl_seconds": sl_seconds}
    problems = [ErrorDetail("staffing.invalid_input", f"{k} must be between {lo:g} and {hi:g}", field=k)
                for k, (lo, hi) in LIMITS.items() if (v := given[k]) is not None and not lo <= v <= hi]
    if problems:
        raise ValidationError("staffing.invalid_input", "the staffing input is out of range", problems)
    if agents is not None:
        r = (erlang_c_metrics(calls_per_hour, aht, agents, sl_seconds) if patience is None
             else erlang_a_metrics(calls_per_hour, aht, agents, patience, sl_seconds))
    else:
        assert target_sl is not None
        r = agents_for_service_level(calls_per_hour, aht, sl_seconds, target_sl, patience)
    doc = r.as_dict()
    if target_sl is not None:
        doc["target_sl"] = target_sl
    if target_blocking is not None:
        lines, blocking = trunks_for_blocking(r.traffic_erlangs, target_blocking)
        doc["trunks"] = {"lines": lines, "blocking": blocking, "target_blocking": target_blocking}
    return doc

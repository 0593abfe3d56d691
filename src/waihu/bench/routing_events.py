"""How fast a strategy reacted to each scenario event (detection and readmission times).

Definitions (docs/scenarios.md):

- ``carrying_traffic``: the strategy placed at least one non-probe call on the trunk in the
  minute before the event began.
- failure, risk_burst: ``detection_seconds`` runs from the event start to the last non-probe
  call placed on the trunk before the first pause of 30 s or more in its non-probe calls (the
  moment the strategy stopped sending it traffic); ``readmit_seconds`` from the event end to
  the first non-probe call after it.
- quality_drop: detection when the trunk's share of all non-probe calls over the trailing
  window (about 120 offered calls, at least 30 s) has fallen to half of its share over the
  5 minutes before the event; readmission when that share is back to half the pre-event share.
- capacity: detection at the last over-capacity rejection before a 30 s pause in them;
  readmission when the trunk carries more concurrent calls than the reduced capacity again.

A strategy that never reacts gets the event's length as its detection time and
``detected: false``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waihu.bench.routing_scenario import Scenario

GAP = 30.0
SHARE_CALLS = 120.0  # the share window holds about this many offered calls (at least 30 s)


class EventLog:
    def __init__(self, trunks: list[str]) -> None:
        self.calls: dict[str, list[float]] = {t: [] for t in trunks}  # non-probe dial times
        self.all_calls: list[float] = []
        self.over: dict[str, list[float]] = {t: [] for t in trunks}
        self.load: dict[str, list[tuple[float, int]]] = {t: [] for t in trunks}

    def dial(self, trunk: str, now: float, probe: bool, in_flight: int, over_capacity: bool) -> None:
        if not probe:
            self.calls[trunk].append(now)
            self.all_calls.append(now)
        if over_capacity:
            self.over[trunk].append(now)
        self.load[trunk].append((now, in_flight))


def _count(times: list[float], lo: float, hi: float) -> int:
    return bisect_right(times, hi) - bisect_left(times, lo)


def _first_pause(times: list[float], start: float, end: float) -> tuple[float, bool]:
    """(seconds from start to the last time before the first pause >= GAP, detected)."""
    i = bisect_left(times, start)
    j = bisect_left(times, end)
    prev = start
    for k in range(i, j):
        if times[k] - prev >= GAP:
            return prev - start, True
        prev = times[k]
    if end - prev >= min(GAP, end - start):
        return prev - start, True
    return end - start, False


def _share(log: EventLog, trunk: str, lo: float, hi: float) -> float:
    total = _count(log.all_calls, lo, hi)
    return _count(log.calls[trunk], lo, hi) / total if total else 0.0


def _quality(log: EventLog, trunk: str, start: float, end: float, horizon: float,
             window: float) -> dict[str, Any]:
    before = _share(log, trunk, max(0.0, start - 300.0), start)
    out: dict[str, Any] = {"share_before": round(before, 4)}
    det: float | None = None
    t = start + 1.0
    stop = end if end < horizon else horizon
    while t <= stop:
        if _share(log, trunk, t - window, t) <= before / 2:
            det = t - start
            break
        t += 1.0
    out["detection_seconds"] = round(det if det is not None else stop - start, 1)
    out["detected"] = det is not None
    return out


def event_report(sc: Scenario, log: EventLog, horizon: float) -> list[dict[str, Any]]:
    report: list[dict[str, Any]] = []
    window = max(30.0, SHARE_CALLS / sc.offered_cps)
    for ev in sc.events:
        end = ev.end if ev.end is not None else horizon
        row: dict[str, Any] = {"trunk": ev.trunk, "kind": ev.kind, "start_minute": ev.start / 60.0,
                               "end_minute": None if ev.end is None else ev.end / 60.0}
        if ev.kind == "caller_id_marked":
            row.update(carrying_traffic=None, detection_seconds=None, readmit_seconds=None)
            report.append(row)
            continue
        times = log.calls[ev.trunk]
        carrying = _count(times, ev.start - 60.0, ev.start - 1e-9) > 0
        row["carrying_traffic"] = carrying
        readmit: float | None = None
        if not carrying:
            row.update(detection_seconds=None, detected=None)
        elif ev.kind in ("failure", "risk_burst"):
            det, ok = _first_pause(times, ev.start, end)
            row.update(detection_seconds=round(det, 1), detected=ok)
        elif ev.kind == "quality_drop":
            row.update(_quality(log, ev.trunk, ev.start, end, horizon, window))
        else:
            det, ok = _first_pause(log.over[ev.trunk], ev.start, end)
            row.update(detection_seconds=round(det, 1), detected=ok)
        if ev.end is not None:
            if ev.kind in ("failure", "risk_burst"):
                k = bisect_left(times, ev.end)
                readmit = times[k] - ev.end if k < len(times) else None
            elif ev.kind == "quality_drop":
                before = row.get("share_before", 0.0)
                t = ev.end + 1.0
                while t <= horizon:
                    if _share(log, ev.trunk, t - window, t) >= before / 2:
                        readmit = t - ev.end
                        break
                    t += 1.0
            else:
                readmit = next((t - ev.end for t, n in log.load[ev.trunk] if t >= ev.end and n > ev.capacity),
                               None)
        row["readmit_seconds"] = None if readmit is None else round(readmit, 1)
        report.append(row)
    return report

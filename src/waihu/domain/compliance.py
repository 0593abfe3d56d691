"""The compliance decision for one candidate dial: pure, with reasons and the earliest allowed time.

``decide(candidate, rules, now)`` answers ALLOW, DEFER (allowed later, at ``until``) or BLOCK
(never, ``until`` is None), with every rule that holds the dial back at ``now`` as a stable
reason code (``Reason``). Calling windows are evaluated in the callee's local time; frequency
caps count the callee's attempts across every campaign of the tenant, an immediate-retry chain
(one ``chain_id``) counting once. Everything needed is passed in: the caller keeps the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from waihu.domain.compliance_rules import DAY, Reason, Rules

__all__ = ["Attempt", "Candidate", "Decision", "Reason", "Rules", "Verdict", "decide"]


class Verdict(StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One earlier dial to the same callee (from a CDR)."""

    at: float
    chain_id: str | None = None  # attempts of one immediate-retry chain count once
    campaign_id: str = ""
    marketing: bool = False
    call_id: str = ""

    @property
    def chain(self) -> str:
        return self.chain_id or self.call_id or f"@{self.at}"


@dataclass(frozen=True, slots=True)
class Candidate:
    phone_hash: str
    campaign_id: str
    timezone: str | None = None
    region: str | None = None
    caller_id: str | None = None
    attempts: int = 0  # attempts already made in this campaign
    chain_id: str | None = None  # set when this dial continues an immediate-retry chain
    history: Sequence[Attempt] = ()
    dnc_until: float | None = None  # a DNC entry: its expiry (inf: permanent); None: not listed
    consent: bool = False
    erased: bool = False  # the number no longer belongs to any contact of the tenant (erased, removed)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    until: float | None = None  # earliest time the dial is allowed (None: never)

    @property
    def allow(self) -> bool:
        return self.verdict is Verdict.ALLOW


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local_day_start(d: date, tz: ZoneInfo) -> float:
    return datetime.combine(d, time(0), tz).timestamp()


def day_kind(d: date, rules: Rules) -> Reason | None:
    """Why no call may be made on local date ``d`` (None: a calling day)."""
    if d in rules.workdays:
        return None
    if d in rules.holidays:
        return Reason.HOLIDAY
    if d.isoweekday() not in rules.weekdays:
        return Reason.OUTSIDE_WINDOW
    return None


def window_reason(t: float, rules: Rules, tz: ZoneInfo) -> Reason | None:
    local = datetime.fromtimestamp(t, tz)
    kind = day_kind(local.date(), rules)
    if kind is not None:
        return kind
    minute = local.hour * 60 + local.minute + local.second / 60.0
    if any(a <= minute < b for a, b in rules.windows):
        return None
    lb = rules.lunch_break
    if lb is not None and lb[0] <= minute < lb[1]:
        return Reason.LUNCH_BREAK
    return Reason.OUTSIDE_WINDOW


def next_window_open(t: float, rules: Rules, tz: ZoneInfo, *, max_days: int = 400) -> float | None:
    """The earliest time >= t inside a calling window (None if none within ``max_days``)."""
    local = datetime.fromtimestamp(t, tz)
    d = local.date()
    for i in range(max_days):
        day = d + timedelta(days=i)
        if day_kind(day, rules) is not None:
            continue
        start = _local_day_start(day, tz)
        for a, b in rules.windows:
            lo = datetime.combine(day, time(0), tz) + timedelta(minutes=a)
            hi = datetime.combine(day, time(0), tz) + timedelta(minutes=b) if b < 1440 else None
            lo_ts = lo.timestamp()
            hi_ts = hi.timestamp() if hi is not None else _local_day_start(day + timedelta(days=1), tz)
            if hi_ts <= t:
                continue
            cand = max(lo_ts, t)
            if cand < hi_ts and cand >= start:
                return cand
    return None


def _chains(history: Sequence[Attempt], skip: str | None) -> list[float]:
    """First-attempt time of each chain, oldest first (the chain ``skip`` is left out)."""
    first: dict[str, float] = {}
    for a in history:
        key = a.chain
        if key == skip:
            continue
        if key not in first or a.at < first[key]:
            first[key] = a.at
    return sorted(first.values())


def _cap_time(t: float, chains: list[float], history: Sequence[Attempt], c: Candidate, rules: Rules,
              tz: ZoneInfo, hits: set[Reason] | None) -> float:
    """The earliest time >= t at which no cap holds the dial back (reasons at t go to ``hits``)."""
    out = t
    if rules.max_per_day is not None:
        d = datetime.fromtimestamp(t, tz).date()
        lo, hi = _local_day_start(d, tz), _local_day_start(d + timedelta(days=1), tz)
        if sum(1 for x in chains if lo <= x < hi) >= rules.max_per_day:
            out = max(out, hi)
            if hits is not None:
                hits.add(Reason.DAILY_CAP)
    if rules.rolling_max is not None:
        w = rules.rolling_seconds
        inside = [x for x in chains if t - w < x <= t]
        if len(inside) >= rules.rolling_max:
            out = max(out, inside[len(inside) - rules.rolling_max] + w)
            if hits is not None:
                hits.add(Reason.ROLLING_CAP)
    if rules.min_gap_seconds > 0:
        last = max((a.at for a in history if a.chain != c.chain_id and a.at <= t), default=None)
        if last is not None and t < last + rules.min_gap_seconds:
            out = max(out, last + rules.min_gap_seconds)
            if hits is not None:
                hits.add(Reason.MIN_GAP)
    return out


def decide(c: Candidate, rules: Rules, now: float) -> Decision:
    """ALLOW, DEFER (until the earliest allowed time) or BLOCK, with every reason that holds at ``now``."""
    if any(a.at > now for a in c.history):  # explaining a past moment: later attempts did not exist yet
        c = replace(c, history=tuple(a for a in c.history if a.at <= now))
    reasons: set[Reason] = set()
    never = False
    earliest = now
    if c.dnc_until is not None and c.dnc_until > now:
        reasons.add(Reason.DNC)
        if c.dnc_until == float("inf"):
            never = True
        earliest = max(earliest, c.dnc_until)
    if c.erased:
        reasons.add(Reason.ERASED)
        never = True
    if c.region is not None and c.region in rules.excluded_regions:
        reasons.add(Reason.REGION_EXCLUDED)
        never = True
    if rules.require_consent and not c.consent:
        reasons.add(Reason.NO_CONSENT)
        never = True
    if rules.max_attempts is not None and c.attempts >= rules.max_attempts:
        reasons.add(Reason.MAX_ATTEMPTS)
        never = True
    if rules.marketing and rules.marketed_days is not None:
        others = [a.at for a in c.history if a.marketing and a.campaign_id != c.campaign_id
                  and now - rules.marketed_days * DAY < a.at <= now]
        if others:
            reasons.add(Reason.MARKETED_RECENTLY)
            earliest = max(earliest, max(others) + rules.marketed_days * DAY)
    tz = zone(c.timezone or rules.timezone) if _known(c.timezone) else zone(rules.timezone)
    w = window_reason(now, rules, tz)
    if w is not None:
        reasons.add(w)
    chains = _chains(c.history, c.chain_id)
    _cap_time(now, chains, c.history, c, rules, tz, reasons)
    if never:
        return Decision(Verdict.BLOCK, _ordered(reasons), None)
    until = _fixed_point(earliest, chains, c, rules, tz)
    if not reasons and until == now:
        return Decision(Verdict.ALLOW, (), now)
    if until is None:
        return Decision(Verdict.BLOCK, _ordered(reasons) or (Reason.OUTSIDE_WINDOW.value,), None)
    if not reasons:  # e.g. a rolling cap that bites only later cannot occur; be explicit anyway
        return Decision(Verdict.ALLOW, (), now)
    return Decision(Verdict.DEFER, _ordered(reasons), until)


def _fixed_point(t: float, chains: list[float], c: Candidate, rules: Rules, tz: ZoneInfo) -> float | None:
    """Alternate window and cap constraints until both hold (each only moves time forward)."""
    for _ in range(1000):
        opened = next_window_open(t, rules, tz)
        if opened is None:
            return None
        capped = _cap_time(opened, chains, c.history, c, rules, tz, None)
        if capped == opened:
            return opened
        t = capped
    return None


def _known(name: str | None) -> bool:
    if not name:
        return False
    try:
        zone(name)
    except Exception:
        return False
    return True


_ORDER = {r: i for i, r in enumerate(Reason)}


def _ordered(reasons: set[Reason]) -> tuple[str, ...]:
    return tuple(r.value for r in sorted(reasons, key=_ORDER.__getitem__))

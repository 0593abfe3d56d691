"""Property tests: no schedule of candidate dials can produce a call that breaks a rule.

A generated schedule offers dials for a few callees at arbitrary times (some continuing an
immediate-retry chain); every dial the decision allows becomes a CDR. The CDRs alone are then
checked against every rule by brute force, and every decision's reasons are compared with the
rules that an independent check finds broken at that moment.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from waihu.domain.compliance import Attempt, Candidate, decide
from waihu.domain.compliance_rules import Rules, build_rules

START = datetime.fromisoformat("2026-01-05T00:00:00+08:00").timestamp()
ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London"]
HOLIDAY = "2026-01-07"

rules_st = st.fixed_dictionaries({
    "windows": st.sampled_from([["09:00-21:00"], ["08:00-12:00", "14:00-20:00"], ["10:00-18:00"]]),
    "max_per_day": st.integers(1, 4),
    "rolling_max": st.one_of(st.none(), st.integers(1, 3)),
    "rolling_minutes": st.integers(1, 60),
    "min_gap_seconds": st.sampled_from([0, 60, 600]),
    "holidays": st.just([HOLIDAY]),
    "lunch_break": st.sampled_from([None, "12:00-13:00"]),
})
offer_st = st.tuples(st.integers(0, 3), st.floats(0, 4 * 86400), st.booleans(), st.integers(0, 2))


def local(t: float, tz: str) -> datetime:
    return datetime.fromtimestamp(t, ZoneInfo(tz))


def broken(rules: Rules, tz: str, cdrs: list[Attempt], dnc: bool, t: float, chain: str | None) -> set[str]:
    """The rules a dial at ``t`` would break, checked by brute force from the callee's CDRs."""
    out: set[str] = set()
    lt = local(t, tz)
    minute = lt.hour * 60 + lt.minute + lt.second / 60
    if dnc:
        out.add("compliance.dnc")
    if lt.date().isoformat() == HOLIDAY:
        out.add("compliance.holiday")
    elif not any(a <= minute < b for a, b in rules.windows):
        lb = rules.lunch_break
        out.add("compliance.lunch_break" if lb and lb[0] <= minute < lb[1] else "compliance.outside_calling_window")
    chains: dict[str, float] = {}
    for a in cdrs:
        if a.chain != chain:
            chains[a.chain] = min(chains.get(a.chain, a.at), a.at)
    if rules.max_per_day is not None and sum(
            1 for x in chains.values() if local(x, tz).date() == lt.date()) >= rules.max_per_day:
        out.add("compliance.daily_cap")
    if rules.rolling_max is not None and sum(
            1 for x in chains.values() if t - rules.rolling_seconds < x <= t) >= rules.rolling_max:
        out.add("compliance.rolling_cap")
    if rules.min_gap_seconds and any(a.chain != chain and t - rules.min_gap_seconds < a.at <= t for a in cdrs):
        out.add("compliance.min_gap")
    return out


@settings(max_examples=150, deadline=None)
@given(cfg=rules_st, offers=st.lists(offer_st, min_size=1, max_size=60), zones=st.lists(
    st.sampled_from(ZONES), min_size=4, max_size=4), dnc=st.sets(st.integers(0, 3), max_size=1))
def test_no_schedule_breaks_a_rule(cfg: dict[str, object], offers: list[tuple[int, float, bool, int]],
                                   zones: list[str], dnc: set[int]) -> None:
    rules = build_rules({}, cfg, "marketing")
    cdrs: dict[int, list[Attempt]] = defaultdict(list)
    for n, (callee, offset, retry, _) in enumerate(sorted(offers, key=lambda o: o[1])):
        t = START + offset
        history = cdrs[callee]
        chain = history[-1].chain if retry and history else None
        cand = Candidate(f"h{callee}", "c1", timezone=zones[callee], history=tuple(history), chain_id=chain,
                         dnc_until=float("inf") if callee in dnc else None)
        d = decide(cand, rules, t)
        expected = broken(rules, zones[callee], history, callee in dnc, t, chain)
        assert set(d.reasons) == expected  # correct and complete
        if d.allow:
            history.append(Attempt(t, chain or f"k{n}", "c1", True, f"call{n}"))
        elif d.until is not None:
            assert d.until > t
            later = decide(cand, rules, d.until)
            assert later.allow, (d, later)  # the promised time is really allowed
            assert broken(rules, zones[callee], history, False, d.until, chain) == set()
    # the CDRs alone: window, caps, gap, DNC
    for callee, history in cdrs.items():
        assert callee not in dnc or not history
        for i, a in enumerate(history):
            earlier = history[:i]
            assert broken(rules, zones[callee], earlier, False, a.at, a.chain) == set()


@settings(max_examples=60, deadline=None)
@given(cfg=rules_st, at=st.floats(0, 10 * 86400), zone=st.sampled_from(ZONES))
def test_until_is_the_earliest_allowed_time(cfg: dict[str, object], at: float, zone: str) -> None:
    rules = build_rules({}, cfg, "marketing")
    t = START + at
    d = decide(Candidate("h", "c1", timezone=zone), rules, t)
    assert d.until is not None
    step = timedelta(minutes=7).total_seconds()
    probe = t
    while probe < d.until:  # nothing earlier is allowed (sampled every 7 minutes)
        assert not decide(Candidate("h", "c1", timezone=zone), rules, probe).allow
        probe += step

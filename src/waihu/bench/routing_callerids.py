"""The caller-ID part of the routing benchmark: the pool, its answer effects and spam marks.

Each offered call gets a caller ID from the production pool (``waihu.domain.callerid``) by
local presence. The simulated callees answer a local mobile number most, then a local
landline, a number of the provincial capital, a default number (``LIFT``); a number marked
as spam by the carriers' analytics is answered half as often (``SPAM_PENALTY``) while the
mark stands. The platform hears of the mark when the event starts (a report or an import)
and the pool reduces the number at once.
"""

from __future__ import annotations

from typing import Any

from waihu.adapters.simnet.trunks import TrunkEvent
from waihu.domain.callerid import CallerId, CallerIdPool, NumberType

LIFT = {"local_mobile": 1.0, "local_landline": 0.95, "provincial_capital": 0.9, "default": 0.8}
SPAM_PENALTY = 0.5


class BenchCallerIds:
    def __init__(self, entries: list[dict[str, Any]], events: list[TrunkEvent], seed: int) -> None:
        self.pool = CallerIdPool(seed=seed, utc_offset=0.0)
        for e in entries:
            number = str(e["number"])
            self.pool.add(CallerId(
                number, number, str(e.get("province", "")), e.get("city"),
                NumberType(e.get("type", "mobile")), bool(e.get("capital", False)),
                bool(e.get("default", False)), float(e.get("weight", 1.0)),
                int(e.get("max_concurrent", 10)), int(e.get("daily_cap", 10**6))))
        self.marks = sorted((ev for ev in events if ev.kind == "caller_id_marked"), key=lambda ev: ev.start)
        self._reported = 0
        self.enabled = bool(entries)
        self.over_caps = 0
        self.by_tier: dict[str, int] = {}

    def _marked(self, number: str, now: float) -> bool:
        return any(ev.number == number and ev.active(now) for ev in self.marks)

    def pick(self, callee: str, region: str, now: float) -> tuple[str | None, float, str]:
        """(number id, answer multiplier, reason) for one call's first attempt."""
        while self._reported < len(self.marks) and self.marks[self._reported].start <= now:
            number = self.marks[self._reported].number
            if number in self.pool.numbers:
                self.pool.mark_spam(number)
            self._reported += 1
        choice = self.pool.select(callee, region, None, now)
        if choice.number_id is None or choice.tier is None:
            return None, 1.0, choice.reason
        n = self.pool.numbers[choice.number_id]
        conc, daily = n.caps()
        if n.in_use > conc or n.used_today > daily:
            self.over_caps += 1
        self.by_tier[choice.tier] = self.by_tier.get(choice.tier, 0) + 1
        mult = LIFT[choice.tier] * (SPAM_PENALTY if self._marked(choice.number_id, now) else 1.0)
        return choice.number_id, mult, choice.reason

    def release(self, number: str | None) -> None:
        if number is not None:
            self.pool.release(number)

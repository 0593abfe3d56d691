"""The caller-ID pool: which number the callee sees.

Selection by local presence, in this order: a mobile number of the callee's city (or province
when the city is unknown), a landline of the same place, a number of the provincial capital,
then a default number. Within a tier the choice is weighted at random among usable numbers.
A number is usable when it is not offline, under its concurrency cap and its daily cap (both
halved while it is ``reduced``) and has not been shown to this callee today (one caller ID is
never shown to the same callee twice in a day). A spam mark, imported or reported, reduces a
number; a second one takes it offline.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from waihu.domain.errors import ErrorDetail, NotFound, ValidationError
from waihu.domain.lifecycle import Lifecycle


class NumberType(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"


class CallerIdStatus(StrEnum):
    ACTIVE = "active"
    REDUCED = "reduced"
    OFFLINE = "offline"


CALLER_ID_LIFECYCLE: Lifecycle[CallerIdStatus] = Lifecycle(
    "caller_id",
    {
        (CallerIdStatus.ACTIVE, "mark"): CallerIdStatus.REDUCED,
        (CallerIdStatus.REDUCED, "mark"): CallerIdStatus.OFFLINE,
        (CallerIdStatus.OFFLINE, "mark"): CallerIdStatus.OFFLINE,
        (CallerIdStatus.ACTIVE, "take_offline"): CallerIdStatus.OFFLINE,
        (CallerIdStatus.REDUCED, "take_offline"): CallerIdStatus.OFFLINE,
        (CallerIdStatus.REDUCED, "clear"): CallerIdStatus.ACTIVE,
        (CallerIdStatus.OFFLINE, "clear"): CallerIdStatus.ACTIVE,
    },
)

TIERS = ("local_mobile", "local_landline", "provincial_capital", "default")


@dataclass(slots=True)
class CallerId:
    number_id: str
    display: str  # the number as shown (E.164)
    province: str
    city: str | None = None
    type: NumberType = NumberType.MOBILE
    capital: bool = False  # a number of the provincial capital
    default: bool = False  # usable anywhere as the last resort
    weight: float = 1.0
    max_concurrent: int = 1
    daily_cap: int = 200
    status: CallerIdStatus = CallerIdStatus.ACTIVE
    spam_marks: int = 0
    authenticated: bool = False  # caller card / number authentication
    owner_tenant_id: str | None = None
    in_use: int = 0
    used_today: int = 0

    def caps(self) -> tuple[int, int]:
        if self.status is CallerIdStatus.REDUCED:
            return max(1, self.max_concurrent // 2), max(1, self.daily_cap // 2)
        return self.max_concurrent, self.daily_cap

    def usable(self) -> bool:
        conc, daily = self.caps()
        return self.status is not CallerIdStatus.OFFLINE and self.in_use < conc and self.used_today < daily

    def validate(self) -> None:
        problems: list[ErrorDetail] = []
        if self.weight <= 0:
            problems.append(ErrorDetail("caller_id.not_positive", "weight must be > 0", field="weight"))
        if self.max_concurrent < 1 or self.daily_cap < 1:
            problems.append(ErrorDetail("caller_id.not_positive", "caps must be >= 1", field="daily_cap"))
        if not self.province:
            problems.append(ErrorDetail("caller_id.missing_region", "a caller ID needs a province",
                                        field="province"))
        if problems:
            raise ValidationError("caller_id.invalid", "invalid caller ID", problems)


@dataclass(frozen=True, slots=True)
class CallerIdChoice:
    number_id: str | None
    tier: str | None
    reason: str  # the tier, or no_caller_id.<why>


@dataclass(slots=True)
class CallerIdPool:
    numbers: dict[str, CallerId] = field(default_factory=dict)
    utc_offset: float = 8 * 3600.0
    seed: int = 0
    _day: int = -1
    _shown: set[tuple[str, str]] = field(default_factory=set)  # (callee key, number id) today
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"callerid:{self.seed}")

    def add(self, cid: CallerId) -> None:
        cid.validate()
        self.numbers[cid.number_id] = cid

    def day_start(self, now: float) -> float:
        """When today began, in the pool's local time."""
        return (now + self.utc_offset) // 86400 * 86400 - self.utc_offset

    def prime(self, now: float, used: dict[str, int], shown: Iterable[tuple[str, str]]) -> None:
        """Start today's counts from the calls already placed today (from CDRs: number id ->
        attempts, and (callee key, number id) pairs), so that the daily caps and the once-a-day
        rule hold across restarts and runs."""
        self._roll_day(now)
        for number_id, k in used.items():
            n = self.numbers.get(number_id)
            if n is not None:
                n.used_today = max(n.used_today, k)
        self._shown.update(shown)

    def _roll_day(self, now: float) -> None:
        day = int((now + self.utc_offset) // 86400)
        if day != self._day:
            self._day = day
            self._shown.clear()
            for n in self.numbers.values():
                n.used_today = 0

    def _tier(self, n: CallerId, province: str | None, city: str | None) -> int:
        local = (n.city == city) if city is not None and n.city is not None else n.province == province
        if local and n.province == province:
            return 0 if n.type is NumberType.MOBILE else 1
        if n.capital and n.province == province:
            return 2
        return 3 if n.default else 4

    def select(self, callee_key: str, province: str | None, city: str | None, now: float) -> CallerIdChoice:
        self._roll_day(now)
        tiers: list[list[CallerId]] = [[], [], [], []]
        seen_any = shown_only = False
        for n in self.numbers.values():
            t = self._tier(n, province, city)
            if t > 3:
                continue
            seen_any = True
            if n.usable():
                if (callee_key, n.number_id) not in self._shown:
                    tiers[t].append(n)
                else:
                    shown_only = True
        for t, group in enumerate(tiers):
            if group:
                pick = self._rng.choices(group, [n.weight for n in group])[0]
                pick.in_use += 1
                pick.used_today += 1
                self._shown.add((callee_key, pick.number_id))
                return CallerIdChoice(pick.number_id, TIERS[t], TIERS[t])
        if not seen_any:
            why = "no_caller_id.none_for_region"
        elif shown_only:
            why = "no_caller_id.shown_today"  # free numbers exist, all already shown to this callee
        else:
            why = "no_caller_id.exhausted"
        return CallerIdChoice(None, None, why)

    def next_day(self, now: float) -> float:
        """When the per-callee rule resets: the next local midnight."""
        return (int((now + self.utc_offset) // 86400) + 1) * 86400.0 - self.utc_offset

    def reuse(self, number_id: str) -> bool:
        """The same number again for an immediate retry of a line loss (the callee's phone never
        rang, so it was not shown): taken when under its concurrency cap, not counted again."""
        n = self.numbers.get(number_id)
        if n is None or n.status is CallerIdStatus.OFFLINE or n.in_use >= n.caps()[0]:
            return False
        n.in_use += 1
        return True

    def release(self, number_id: str) -> None:
        n = self.numbers.get(number_id)
        if n is not None:
            n.in_use = max(0, n.in_use - 1)

    def mark_spam(self, number_id: str) -> CallerIdStatus:
        n = self.numbers.get(number_id)
        if n is None:
            raise NotFound("caller_id.not_found", "no such caller ID")
        n.spam_marks += 1
        n.status = CALLER_ID_LIFECYCLE.next(n.status, "mark")
        return n.status

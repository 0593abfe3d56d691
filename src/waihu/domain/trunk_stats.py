"""Live trunk statistics over sliding windows: the last 5 minutes, the last hour and today.

Each finished attempt is recorded once (``record``). Windows are ring buffers of time buckets
(10 s buckets for 5 minutes, 1 min buckets for the hour); "today" runs from local midnight,
with the UTC offset given (China: +8 h). Reported per window: attempts, answer-seizure ratio
(ASR = answered / attempts), average call duration (ACD, answered calls), mean post-dial delay
(PDD, dial to first ring or failure response) and loss rates by cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waihu.domain.calls import LossCause, Side


@dataclass(slots=True)
class Counts:
    attempts: int = 0
    answered: int = 0
    talk_seconds: float = 0.0
    pdd_sum: float = 0.0
    pdd_n: int = 0
    losses: dict[LossCause, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        self.attempts += other.attempts
        self.answered += other.answered
        self.talk_seconds += other.talk_seconds
        self.pdd_sum += other.pdd_sum
        self.pdd_n += other.pdd_n
        for c, n in other.losses.items():
            self.losses[c] = self.losses.get(c, 0) + n

    def record(self, answered: bool, cause: LossCause | None, pdd: float | None, talk: float) -> None:
        self.attempts += 1
        if answered:
            self.answered += 1
            self.talk_seconds += talk
        if cause is not None:
            self.losses[cause] = self.losses.get(cause, 0) + 1
        if pdd is not None:
            self.pdd_sum += pdd
            self.pdd_n += 1


@dataclass(frozen=True, slots=True)
class WindowStats:
    window: str
    attempts: int
    answered: int
    asr: float | None
    acd: float | None
    pdd: float | None
    line_loss_rate: float | None
    loss_rates: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        return {"window": self.window, "attempts": self.attempts, "answered": self.answered,
                "asr": self.asr, "acd": self.acd, "pdd": self.pdd,
                "line_loss_rate": self.line_loss_rate, "loss_rates": dict(self.loss_rates)}


def summarise(name: str, c: Counts) -> WindowStats:
    n = c.attempts
    line = sum(v for k, v in c.losses.items() if k.side is Side.LINE)
    return WindowStats(
        window=name, attempts=n, answered=c.answered,
        asr=c.answered / n if n else None,
        acd=c.talk_seconds / c.answered if c.answered else None,
        pdd=c.pdd_sum / c.pdd_n if c.pdd_n else None,
        line_loss_rate=line / n if n else None,
        loss_rates={str(k): v / n for k, v in sorted(c.losses.items())} if n else {},
    )


class SlidingWindow:
    """Counts over the last ``span`` seconds in buckets of ``bucket`` seconds."""

    def __init__(self, span: float, bucket: float) -> None:
        self.bucket = bucket
        self.size = max(1, round(span / bucket))
        self._slots: list[tuple[int, Counts] | None] = [None] * self.size

    def _slot(self, now: float) -> Counts:
        k = int(now // self.bucket)
        i = k % self.size
        cur = self._slots[i]
        if cur is None or cur[0] != k:
            cur = (k, Counts())
            self._slots[i] = cur
        return cur[1]

    def record(self, now: float, answered: bool, cause: LossCause | None, pdd: float | None,
               talk: float) -> None:
        self._slot(now).record(answered, cause, pdd, talk)

    def total(self, now: float) -> Counts:
        k = int(now // self.bucket)
        out = Counts()
        for s in self._slots:
            if s is not None and k - self.size < s[0] <= k:
                out.add(s[1])
        return out


class TrunkStats:
    """Sliding-window statistics of one trunk."""

    def __init__(self, utc_offset_seconds: float = 8 * 3600.0) -> None:
        self.utc_offset = utc_offset_seconds
        self.five = SlidingWindow(300.0, 10.0)
        self.hour = SlidingWindow(3600.0, 60.0)
        self._day = -1
        self.today = Counts()
        self.in_flight = 0

    def _roll_day(self, now: float) -> None:
        day = int((now + self.utc_offset) // 86400)
        if day != self._day:
            self._day = day
            self.today = Counts()

    def record(self, now: float, *, answered: bool, cause: LossCause | None = None,
               pdd: float | None = None, talk_seconds: float = 0.0) -> None:
        self._roll_day(now)
        self.five.record(now, answered, cause, pdd, talk_seconds)
        self.hour.record(now, answered, cause, pdd, talk_seconds)
        self.today.record(answered, cause, pdd, talk_seconds)

    def snapshot(self, now: float) -> dict[str, WindowStats]:
        self._roll_day(now)
        return {"5m": summarise("5m", self.five.total(now)), "1h": summarise("1h", self.hour.total(now)),
                "today": summarise("today", self.today)}

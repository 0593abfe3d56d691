"""Simulated carrier lines: answer factors by region, line losses, post-dial delay, limits,
and scheduled events (a trunk fails, gets a risk-control burst, loses answer quality or
concurrency; a caller ID gets marked as spam).

``SimTrunk.attempt`` decides what one dial attempt on the line does, from uniform draws that
belong to the call (common random numbers: every routing strategy sees the same callees).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waihu.domain.calls import LossCause
from waihu.domain.errors import ErrorDetail, ValidationError

LINE_CAUSES = (LossCause.CONGESTION, LossCause.RISK_CONTROL, LossCause.BLACKLIST,
               LossCause.TECHNICAL, LossCause.TIMEOUT)
EVENT_KINDS = ("failure", "risk_burst", "quality_drop", "capacity", "caller_id_marked")

# what the network answers for each loss: SIP final response and Reason: Q.850;cause= (None: no
# Reason header). ``waihu.domain.sipcodes.loss_cause_for`` maps each back to its cause, except
# for the two causes SIP cannot tell: a suspended number answers like a powered-off one (the
# number-status check tells them apart) and a carrier blacklist like risk control (the
# carrier's reason text or its reports tell them apart).
SIGNAL: dict[LossCause, tuple[int, int | None]] = {
    LossCause.BUSY: (486, 17),
    LossCause.NO_ANSWER: (480, 19),
    LossCause.REJECTED: (603, 21),
    LossCause.EMPTY_NUMBER: (404, 1),
    LossCause.POWERED_OFF: (480, 20),
    LossCause.SUSPENDED: (480, 20),
    LossCause.UNREACHABLE: (503, 27),
    LossCause.CONGESTION: (503, 34),
    LossCause.RISK_CONTROL: (403, None),
    LossCause.BLACKLIST: (403, 55),
    LossCause.TECHNICAL: (500, 41),
    LossCause.TIMEOUT: (408, 102),
}
SIP_AMBIGUOUS = {LossCause.SUSPENDED: LossCause.POWERED_OFF, LossCause.BLACKLIST: LossCause.RISK_CONTROL}
TIMEOUT_SECONDS = 32.0  # SIP timer B: no response to the INVITE at all


@dataclass(frozen=True, slots=True)
class TrunkEvent:
    trunk: str
    kind: str
    start: float  # seconds from the start of the run
    end: float | None
    rate: float = 0.6  # risk_burst: extra share of calls rejected by risk control
    answer_factor_multiplier: float = 0.5  # quality_drop
    capacity: int = 0  # capacity: the carrier's real concurrency limit meanwhile
    number: str | None = None  # caller_id_marked: the caller ID

    def active(self, t: float) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass(frozen=True, slots=True)
class Truth:
    """The true state of a trunk at one moment (what an oracle would know)."""

    answer_multiplier: float
    loss: tuple[tuple[LossCause, float], ...]
    capacity: int
    failed: bool

    @property
    def line_loss(self) -> float:
        return 1.0 if self.failed else min(1.0, sum(p for _, p in self.loss))


@dataclass(frozen=True, slots=True)
class AttemptResult:
    line_ok: bool
    cause: LossCause | None  # None: answered
    progress_at: float  # seconds after the dial: first ring, or the failure response
    answer_at: float | None  # seconds after the dial
    end_at: float  # seconds after the dial (end of the call or the failure)
    over_capacity: bool = False


@dataclass(slots=True)
class SimTrunk:
    name: str
    capacity: int
    cps: float
    answer_factor: dict[str, float] = field(default_factory=lambda: {"*": 1.0})
    line_loss: dict[LossCause, float] = field(default_factory=dict)
    pdd: tuple[float, float] = (1.0, 3.0)
    events: list[TrunkEvent] = field(default_factory=list)

    def validate(self) -> None:
        problems: list[ErrorDetail] = []
        if sum(self.line_loss.values()) > 1.0:
            problems.append(ErrorDetail("simnet.rates_exceed_one", "line-loss rates exceed 1",
                                        field=f"trunks.{self.name}.line_loss"))
        if any(v < 0 for v in self.answer_factor.values()):
            problems.append(ErrorDetail("simnet.rate_out_of_range", "answer factors must be >= 0",
                                        field=f"trunks.{self.name}.answer_factor"))
        if self.pdd[0] < 0 or self.pdd[1] < self.pdd[0]:
            problems.append(ErrorDetail("simnet.bad_range", "pdd_seconds must be [low, high]",
                                        field=f"trunks.{self.name}.pdd_seconds"))
        if problems:
            raise ValidationError("simnet.invalid_trunk", f"invalid simulated trunk {self.name!r}", problems)

    def factor(self, region: str | None) -> float:
        if region is not None and region in self.answer_factor:
            return self.answer_factor[region]
        return self.answer_factor.get("*", 1.0)

    def truth(self, t: float) -> Truth:
        mult, cap, failed = 1.0, self.capacity, False
        loss = dict(self.line_loss)
        for ev in self.events:
            if not ev.active(t):
                continue
            if ev.kind == "failure":
                failed = True
            elif ev.kind == "risk_burst":
                loss[LossCause.RISK_CONTROL] = loss.get(LossCause.RISK_CONTROL, 0.0) + ev.rate
            elif ev.kind == "quality_drop":
                mult *= ev.answer_factor_multiplier
            elif ev.kind == "capacity":
                cap = min(cap, ev.capacity)
        return Truth(mult, tuple((c, loss.get(c, 0.0)) for c in LINE_CAUSES), cap, failed)

    def attempt(self, t: float, in_flight: int, *, region: str | None, p_answer: float, empty: bool,
                u_line: float, u_pdd: float, u_answer: float, ring: float, talk: float,
                no_answer_after: float, busy_rate: float = 0.0, rejected_rate: float = 0.0) -> AttemptResult:
        """One attempt dialed at ``t`` while ``in_flight`` other calls occupy the line."""
        lo, hi = self.pdd
        pdd = lo + (hi - lo) * u_pdd
        truth = self.truth(t)
        if in_flight >= truth.capacity:
            return AttemptResult(False, LossCause.CONGESTION, pdd * 0.3, None, pdd * 0.3, over_capacity=True)
        if truth.failed:
            return AttemptResult(False, LossCause.TECHNICAL, pdd * 0.3, None, pdd * 0.3)
        acc = 0.0
        for cause, p in truth.loss:
            acc += p
            if u_line < acc:
                end = TIMEOUT_SECONDS if cause is LossCause.TIMEOUT else pdd
                return AttemptResult(False, cause, end, None, end)
        if empty:
            return AttemptResult(True, LossCause.EMPTY_NUMBER, pdd, None, pdd + 6.0)
        p = min(1.0 - busy_rate - rejected_rate, p_answer * self.factor(region) * truth.answer_multiplier)
        if u_answer < p:
            return AttemptResult(True, None, pdd, pdd + ring, pdd + ring + talk)
        if u_answer >= 1.0 - busy_rate:
            return AttemptResult(True, LossCause.BUSY, pdd, None, pdd + 1.0)
        if u_answer >= 1.0 - busy_rate - rejected_rate:
            return AttemptResult(True, LossCause.REJECTED, pdd, None, pdd + ring)
        return AttemptResult(True, LossCause.NO_ANSWER, pdd, None, pdd + no_answer_after)


def final_response(cause: LossCause) -> str:
    code, q850 = SIGNAL[cause]
    return f"{code}" if q850 is None else f"{code} (Reason: Q.850;cause={q850})"


def signaling(result: AttemptResult, dial_at: float) -> list[tuple[float, str, str]]:
    """The SIP exchange of one attempt, synthesised: (time, direction, message)."""
    log = [(dial_at, ">", "INVITE"), (dial_at + 0.05, "<", "100 Trying")]
    if not result.line_ok and result.cause is not None:
        if result.cause is LossCause.TIMEOUT:
            log = [(dial_at, ">", "INVITE")]
        log.append((dial_at + result.end_at, "<", final_response(result.cause)))
        log.append((dial_at + result.end_at + 0.01, ">", "ACK"))
        return log
    log.append((dial_at + result.progress_at, "<", "180 Ringing" if result.cause is not LossCause.EMPTY_NUMBER
                else "183 Session Progress"))
    if result.answer_at is not None:
        log.append((dial_at + result.answer_at, "<", "200 OK"))
        log.append((dial_at + result.answer_at + 0.02, ">", "ACK"))
        log.append((dial_at + result.end_at, "<", "BYE"))
        log.append((dial_at + result.end_at + 0.02, ">", "200 OK"))
    elif result.cause is not None:
        log.append((dial_at + result.end_at, "<", final_response(result.cause)))
        log.append((dial_at + result.end_at + 0.01, ">", "ACK"))
    return log

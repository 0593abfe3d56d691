"""The call lifecycle, outcomes, loss causes and the call detail record (CDR)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from waihu.domain.lifecycle import Lifecycle


class CallState(StrEnum):
    CREATED = "created"
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"  # a person answered; no agent connected yet
    BRIDGED = "bridged"  # connected to an agent
    ABANDONED = "abandoned"  # answered, no agent within the abandon limit
    CANCELLING = "cancelling"  # we sent CANCEL; waiting for the network's final answer (487, or a crossing 200)
    FAILED = "failed"  # never answered (terminal)
    ENDED = "ended"  # terminal after an answer


CALL_LIFECYCLE: Lifecycle[CallState] = Lifecycle(
    "call",
    {
        (CallState.CREATED, "dial"): CallState.DIALING,
        (CallState.DIALING, "ring"): CallState.RINGING,
        (CallState.RINGING, "ring"): CallState.RINGING,  # 180 after 183, repeated 180s
        (CallState.DIALING, "answer"): CallState.ANSWERED,
        (CallState.RINGING, "answer"): CallState.ANSWERED,
        (CallState.DIALING, "fail"): CallState.FAILED,
        (CallState.RINGING, "fail"): CallState.FAILED,
        (CallState.DIALING, "cancel"): CallState.CANCELLING,
        (CallState.RINGING, "cancel"): CallState.CANCELLING,
        (CallState.CANCELLING, "fail"): CallState.FAILED,  # 487 Request Terminated: no answer
        (CallState.CANCELLING, "answer"): CallState.ABANDONED,  # the callee's 200 OK crossed our CANCEL
        (CallState.CANCELLING, "hangup"): CallState.ENDED,  # answered across the CANCEL and hung up at once
        (CallState.ANSWERED, "bridge"): CallState.BRIDGED,
        (CallState.ANSWERED, "abandon"): CallState.ABANDONED,
        (CallState.ANSWERED, "hangup"): CallState.ABANDONED,  # callee hung up before an agent came
        (CallState.BRIDGED, "hangup"): CallState.ENDED,
        (CallState.ABANDONED, "hangup"): CallState.ENDED,
    },
)

TERMINAL_CALL_STATES = frozenset({CallState.FAILED, CallState.ENDED})


class Side(StrEnum):
    CALLEE = "callee"
    LINE = "line"
    PLATFORM = "platform"


class LossCause(StrEnum):
    """Why an attempt did not reach a person. See docs/loss-causes.md for the SIP mapping."""

    # callee side: the callee's phone or network answered for them
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    EMPTY_NUMBER = "empty_number"
    POWERED_OFF = "powered_off"
    SUSPENDED = "suspended"
    UNREACHABLE = "unreachable"
    # line side: the carrier line lost the call; may be retried at once on another line
    CONGESTION = "congestion"
    RISK_CONTROL = "risk_control"
    BLACKLIST = "blacklist"
    TECHNICAL = "technical"
    TIMEOUT = "timeout"
    # platform side: held back before any dial attempt (decisions, never CDRs)
    NO_CALLER_ID = "no_caller_id"
    COMPLIANCE_BLOCK = "compliance_block"
    NO_LINE = "no_line"

    @property
    def side(self) -> Side:
        return _SIDE[self]


_SIDE: dict[LossCause, Side] = {
    **{c: Side.CALLEE for c in (
        LossCause.BUSY, LossCause.NO_ANSWER, LossCause.REJECTED, LossCause.EMPTY_NUMBER,
        LossCause.POWERED_OFF, LossCause.SUSPENDED, LossCause.UNREACHABLE)},
    **{c: Side.LINE for c in (
        LossCause.CONGESTION, LossCause.RISK_CONTROL, LossCause.BLACKLIST, LossCause.TECHNICAL,
        LossCause.TIMEOUT)},
    **{c: Side.PLATFORM for c in (
        LossCause.NO_CALLER_ID, LossCause.COMPLIANCE_BLOCK, LossCause.NO_LINE)},
}


class Outcome(StrEnum):
    """The outcome of one dial attempt, as written in its CDR."""

    CONNECTED = "connected"  # answered and bridged to an agent
    ABANDONED = "abandoned"  # answered, no agent within the limit (or callee left first)
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    INVALID_NUMBER = "invalid_number"  # empty, suspended or powered off
    UNREACHABLE = "unreachable"
    LINE_FAILURE = "line_failure"
    CANCELLED = "cancelled"  # withdrawn by the platform before an answer (not a no-answer)


def outcome_for_cause(cause: LossCause) -> Outcome:
    if cause.side is Side.LINE:
        return Outcome.LINE_FAILURE
    return {
        LossCause.BUSY: Outcome.BUSY,
        LossCause.NO_ANSWER: Outcome.NO_ANSWER,
        LossCause.REJECTED: Outcome.REJECTED,
        LossCause.EMPTY_NUMBER: Outcome.INVALID_NUMBER,
        LossCause.SUSPENDED: Outcome.INVALID_NUMBER,
        LossCause.POWERED_OFF: Outcome.UNREACHABLE,
        LossCause.UNREACHABLE: Outcome.UNREACHABLE,
    }.get(cause, Outcome.CANCELLED)


ANSWERED_OUTCOMES = frozenset({Outcome.CONNECTED, Outcome.ABANDONED})


@dataclass(slots=True)
class CallRecord:
    """One call detail record: exactly one per dial attempt, append-only.

    Times are POSIX seconds (UTC). ``phone_ref`` identifies the number without holding it in
    clear: the storage layer resolves it to the contact's phone row (encrypted at rest).
    """

    call_id: str
    tenant_id: str
    campaign_id: str
    contact_id: str
    phone_ref: str
    attempt: int
    dial_at: float
    end_at: float
    outcome: Outcome
    loss_cause: LossCause | None = None
    sip_code: int | None = None
    chain_id: str | None = None  # first attempt of an immediate-retry chain
    ring_at: float | None = None
    answer_at: float | None = None
    bridge_at: float | None = None
    agent_id: str | None = None
    trunk_id: str | None = None
    caller_id: str | None = None
    hangup_by: str | None = None
    mode: str = "progressive"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.outcome in ANSWERED_OUTCOMES

    @property
    def talk_seconds(self) -> float:
        return self.end_at - self.bridge_at if self.bridge_at is not None else 0.0

    @property
    def ring_seconds(self) -> float | None:
        if self.answer_at is not None:
            return self.answer_at - self.dial_at
        return None

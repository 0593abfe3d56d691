"""Pacing: how many calls to place now, as pure functions of what the dialer has observed.

A strategy sees only what a real dialer sees: the outcome and timing of its own calls, the
agents' states and how long they have been in them, and the calls in flight. It never sees
the simulator's parameters or the future. The engine feeds it observations as they happen
(``observe``) and asks it, whenever something changes, how many new calls to place
(``decide``). Strategies for predictive dialing live in ``waihu.domain.predictive``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ObservationKind(StrEnum):
    DIALED = "dialed"
    ANSWERED = "answered"  # value: ring seconds (dial to answer)
    UNANSWERED = "unanswered"  # value: seconds from dial to the failure/cancel
    TALK_ENDED = "talk_ended"  # value: talk seconds
    WRAP_ENDED = "wrap_ended"  # value: wrap-up seconds
    ABANDONED = "abandoned"  # value: seconds the call waited
    BRIDGED = "bridged"  # value: seconds the answered call waited for an agent


@dataclass(frozen=True, slots=True)
class Observation:
    kind: ObservationKind
    at: float
    value: float = 0.0


class AgentView(Protocol):
    """What a strategy may read of an agent (the engine's live record, read-only)."""

    @property
    def state(self) -> str: ...

    @property
    def since(self) -> float: ...


@dataclass(slots=True)
class PacingSnapshot:
    now: float
    ready: int  # eligible agents ready and not reserved
    agents: Collection[AgentView]  # every logged-in eligible agent (a live view: read, don't keep)
    ringing_since: Collection[float]  # dial times of this campaign's calls not yet answered or failed
    waiting: int  # answered calls waiting for an agent
    lines_in_use: int
    max_lines: int | None
    abandon_target: float
    abandon_after: float
    dialed: int = 0
    answered: int = 0
    abandoned: int = 0


@dataclass(slots=True)
class PacingDecision:
    calls: int
    inputs: dict[str, float] = field(default_factory=dict)
    cancel: int = 0  # ringing calls to hang up first, longest ringing first, to free their lines


class Pacer(Protocol):
    name: str

    def observe(self, obs: Observation) -> None: ...

    def decide(self, snap: PacingSnapshot) -> PacingDecision: ...


def line_room(snap: PacingSnapshot) -> int:
    if snap.max_lines is None:
        return 1 << 30
    return max(0, snap.max_lines - snap.lines_in_use)


GUARD_SLACK = 1.0  # abandons over target x answered before the guard holds (the first one is always "over")


def over_target(snap: PacingSnapshot) -> bool:
    """The campaign's abandons so far have reached its target: dialing must risk no more until
    enough calls are answered (the hard guard under every strategy's own control)."""
    return snap.abandoned > 0 and snap.abandoned >= snap.abandon_target * snap.answered + GUARD_SLACK


class PowerPacer:
    """A fixed number of lines per ready agent (``ratio`` 1.0 is progressive without reservation)."""

    def __init__(self, ratio: float = 2.0) -> None:
        if ratio <= 0:
            raise ValueError("power ratio must be > 0")
        self.name = "power"
        self.ratio = ratio

    def observe(self, obs: Observation) -> None:
        return None

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        # the abandon target holds for this strategy too: at 0%, or once the campaign's abandons
        # reach the target, one line per ready agent (no answered call can then wait)
        ratio = 1.0 if snap.abandon_target <= 0 or over_target(snap) else self.ratio
        want = int(snap.ready * ratio + 1e-9)
        n = max(0, want - len(snap.ringing_since) - snap.waiting)
        n = min(n, line_room(snap))
        return PacingDecision(n, {"ready": snap.ready, "ringing": len(snap.ringing_since),
                                  "ratio": ratio})

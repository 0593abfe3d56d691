"""The interfaces the dialer runtime needs. Adapters implement them; bootstrap wires them.

``Telephony`` has two implementations: the simulated telephone network
(``waihu.adapters.simnet``) and real SIP trunks (``waihu.adapters.sip``). Both report what
happens on the network by posting events to a ``Scheduler``; the runtime feeds those events to
the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from waihu.domain.calls import LossCause
from waihu.domain.messages import AgentChanged, Command, Dial, DialTarget, Event, OfferPreview
from waihu.domain.phone import PhoneNumber


class Clock(Protocol):
    def now(self) -> float:
        """POSIX seconds (UTC)."""
        ...


class Scheduler(Protocol):
    """Delivers an event to the runtime at (or as soon as possible after) time ``at``."""

    def post(self, at: float, event: Event) -> None: ...


class Telephony(Protocol):
    def dial(self, cmd: Dial, now: float) -> None: ...

    def cancel(self, call_id: str, now: float) -> None: ...

    def bridge(self, call_id: str, agent_id: str, now: float) -> None: ...

    def abandon(self, call_id: str, now: float) -> None:
        """Play the abandoned-call message where media allows, then hang up."""
        ...


class NumberStatusProvider(Protocol):
    """Whether a number can be reached: empty, suspended, powered off, or None (reachable)."""

    def check(self, phone: PhoneNumber, now: float) -> LossCause | None: ...


class AgentDesk(Protocol):
    """Where agents see offers and state changes: simulated agents or the agent desktop."""

    def offer_preview(self, cmd: OfferPreview, now: float) -> None: ...

    def agent_changed(self, cmd: AgentChanged, now: float) -> None: ...


class DialerStore(Protocol):
    """Contacts in, records out. Writes are durable once ``flush`` returns."""

    def load_contacts(
        self, campaign_id: str, limit: int, now: float
    ) -> tuple[list[DialTarget], float | None]:
        """Claim up to ``limit`` due contacts; also return the earliest due time of the rest."""
        ...

    def apply(self, commands: Sequence[Command]) -> None: ...

    def flush(self) -> None: ...

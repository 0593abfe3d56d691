"""Events the dialer engine consumes (past tense) and commands it returns (imperative).

The engine is ``handle(event, now) -> list[Command]``; adapters turn commands into effects
(a SIP INVITE, a simulated ring, a CDR row) and report what happened as new events.
Times are POSIX seconds (UTC) as floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from waihu.domain.calls import CallRecord, LossCause, Outcome
from waihu.domain.campaigns import ContactState
from waihu.domain.phone import PhoneNumber


@dataclass(slots=True)
class DialTarget:
    """A contact loaded for dialing in one campaign."""

    contact_id: str
    campaign_id: str
    phone: PhoneNumber
    phone_ref: str
    attempts: int = 0  # attempts already made in this campaign
    priority: int = 0
    owner_agent_id: str | None = None  # a personal callback
    timezone: str | None = None
    region: str | None = None
    chain_id: str | None = None
    next_attempt_at: float = 0.0
    avoid_trunks: tuple[str, ...] = ()  # trunks already tried in an immediate-retry chain
    ring_timeout: float | None = None  # overrides the campaign's (a premium second attempt)


# ---------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    agent_id: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AgentReadied:
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentPaused:
    agent_id: str
    reason: str = "break"


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    agent_id: str


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    agent_id: str
    call_id: str
    disposition: str | None = None
    note: str | None = None
    callback_at: float | None = None
    personal_callback: bool = False
    then_pause: bool = False


@dataclass(frozen=True, slots=True)
class PreviewAnswered:
    agent_id: str
    contact_id: str
    accept: bool


@dataclass(frozen=True, slots=True)
class ManualDialRequested:
    agent_id: str
    target: DialTarget
    override_reason: str | None = None  # a supervisor's recorded reason to override a hold


@dataclass(frozen=True, slots=True)
class CampaignActivated:
    campaign: Any  # waihu.engine.config.CampaignSpec (kept loose to avoid a cycle)


@dataclass(frozen=True, slots=True)
class CampaignDeactivated:
    campaign_id: str
    reason: str = "pause"


@dataclass(frozen=True, slots=True)
class ContactsLoaded:
    campaign_id: str
    targets: tuple[DialTarget, ...]
    next_due_at: float | None  # earliest due time of pending contacts still in the store


@dataclass(frozen=True, slots=True)
class CallRinging:
    call_id: str
    early_media: bool = False


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: str


@dataclass(frozen=True, slots=True)
class CallFailed:
    call_id: str
    cause: LossCause
    sip_code: int | None = None


@dataclass(frozen=True, slots=True)
class CallEnded:
    call_id: str
    by: str = "callee"  # callee | agent | system


@dataclass(frozen=True, slots=True)
class TimerFired:
    key: str


Event = (
    Tick | AgentLoggedIn | AgentReadied | AgentPaused | AgentLoggedOut | WrapUpEnded
    | PreviewAnswered | ManualDialRequested | CampaignActivated | CampaignDeactivated
    | ContactsLoaded | CallRinging | CallAnswered | CallFailed | CallEnded | TimerFired
)


# ---------------------------------------------------------------- commands
@dataclass(frozen=True, slots=True)
class Dial:
    call_id: str
    campaign_id: str
    contact_id: str
    phone: PhoneNumber
    ring_timeout: float
    agent_id: str | None = None
    trunk_id: str | None = None
    caller_id: str | None = None
    attempt: int = 1
    chain_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelDial:
    call_id: str


@dataclass(frozen=True, slots=True)
class Bridge:
    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class Abandon:
    """Play the abandoned-call message (where media allows) and hang up."""

    call_id: str


@dataclass(frozen=True, slots=True)
class SetTimer:
    key: str
    at: float


@dataclass(frozen=True, slots=True)
class WriteCdr:
    record: CallRecord


@dataclass(frozen=True, slots=True)
class WriteDisposition:
    call_id: str
    campaign_id: str
    contact_id: str
    agent_id: str
    code: str
    at: float
    note: str | None = None
    callback_at: float | None = None
    stage: str | None = None  # the funnel / follow-up stage this disposition reaches


@dataclass(frozen=True, slots=True)
class UpdateContact:
    campaign_id: str
    contact_id: str
    state: ContactState
    attempts: int
    next_attempt_at: float | None = None
    last_outcome: Outcome | None = None
    owner_agent_id: str | None = None
    disposition: str | None = None


@dataclass(frozen=True, slots=True)
class LoadContacts:
    campaign_id: str
    limit: int


@dataclass(frozen=True, slots=True)
class OfferPreview:
    agent_id: str
    target: DialTarget


@dataclass(frozen=True, slots=True)
class AgentChanged:
    agent_id: str
    state: str
    at: float
    call_id: str | None = None
    reason: str | None = None
    campaign_id: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignDrained:
    campaign_id: str


@dataclass(frozen=True, slots=True)
class RecordHold:
    """A dial the platform held back (compliance, no line, no caller ID): a decision, not a CDR."""

    campaign_id: str
    contact_id: str
    at: float
    reasons: tuple[str, ...]
    until: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogPacing:
    campaign_id: str
    at: float
    placed: int
    inputs: dict[str, float]


Command = (
    Dial | CancelDial | Bridge | Abandon | SetTimer | WriteCdr | WriteDisposition | UpdateContact
    | LoadContacts | OfferPreview | AgentChanged | CampaignDrained | RecordHold | LogPacing
)

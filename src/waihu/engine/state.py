"""The engine's live records of agents, calls and campaigns (mutable, owned by the engine)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from waihu.domain.agents import AgentState
from waihu.domain.calls import CallState
from waihu.domain.messages import DialTarget
from waihu.engine.config import CampaignSpec


@dataclass(slots=True)
class AgentRec:
    agent_id: str
    groups: frozenset[str]
    state: AgentState
    since: float
    login_at: float
    call_id: str | None = None
    campaign_id: str | None = None  # the campaign of the current reservation or call
    offered: DialTarget | None = None  # preview offer
    pause_after: str | None = None  # a break requested while busy
    logout_after: bool = False
    wrap_seq: int = 0
    talk_total: float = 0.0  # closed talk intervals
    logged_total: float = 0.0  # closed logged-in intervals
    talk_started: float | None = None

    def eligible(self, spec: CampaignSpec) -> bool:
        return spec.agent_group is None or spec.agent_group in self.groups


@dataclass(slots=True)
class CallRec:
    call_id: str
    target: DialTarget
    campaign_id: str
    mode: str
    state: CallState
    dial_at: float
    attempt: int
    agent_id: str | None = None
    trunk_id: str | None = None
    caller_id: str | None = None
    chain_id: str | None = None
    route_reason: str | None = None
    ring_at: float | None = None
    answer_at: float | None = None
    bridge_at: float | None = None
    cancel_at: float | None = None  # when we withdrew the unanswered call


@dataclass(slots=True)
class CampaignCounters:
    dialed: int = 0
    answered: int = 0
    connected: int = 0
    abandoned: int = 0
    failed: int = 0
    held: int = 0


@dataclass(slots=True)
class CampaignRun:
    spec: CampaignSpec
    active: bool = True
    buffer: deque[DialTarget] = field(default_factory=deque)
    callbacks: dict[str, deque[DialTarget]] = field(default_factory=dict)  # personal, by agent
    loaded: set[str] = field(default_factory=set)  # contact ids held by this engine
    loading: bool = False
    store_next_due: float | None = 0.0  # earliest due pending contact in the store (None: none)
    # earliest retry this engine put back into the store while a load was on its way: the load's
    # answer was read before it, so it must not hide it
    due_while_loading: float | None = None
    due_timer_at: float | None = None
    ringing: dict[str, float] = field(default_factory=dict)  # call id -> dial time
    lines: set[str] = field(default_factory=set)  # calls of this campaign occupying a line
    eligible: dict[str, AgentRec] = field(default_factory=dict)  # logged-in agents who may serve it
    counters: CampaignCounters = field(default_factory=CampaignCounters)
    drained: bool = False
    last_served: float = 0.0

    @property
    def campaign_id(self) -> str:
        return self.spec.campaign_id


"""What the engine needs to know about a campaign and the hooks it asks before dialing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from waihu.domain.campaigns import DEFAULT_DISPOSITIONS, DialMode, Disposition, RetryPolicy
from waihu.domain.messages import DialTarget
from waihu.domain.pacing import Pacer


@dataclass(frozen=True, slots=True)
class Screening:
    """The answer of the compliance layer for one candidate dial."""

    allow: bool
    reasons: tuple[str, ...] = ()
    until: float | None = None  # earliest time the dial would be allowed (None: never)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a call goes out: a trunk and a caller ID, or why none could be chosen."""

    trunk_id: str | None
    caller_id: str | None = None
    hold_reason: str | None = None  # set when no route is available (platform-side loss)
    retry_at: float | None = None
    reason: str | None = None  # why this trunk (recorded in the CDR's extra as "route")
    final: bool = False  # a hold that ends the contact (e.g. the number does not exist)


ScreenFn = Callable[[DialTarget, "CampaignSpec", float], Screening]
RouteFn = Callable[[DialTarget, "CampaignSpec", float], Route]


def allow_all(target: DialTarget, spec: CampaignSpec, now: float) -> Screening:
    return Screening(True)


def default_route(target: DialTarget, spec: CampaignSpec, now: float) -> Route:
    return Route(trunk_id=spec.default_trunk, caller_id=spec.default_caller_id)


@dataclass(slots=True)
class CampaignSpec:
    campaign_id: str
    tenant_id: str
    mode: DialMode = DialMode.PROGRESSIVE
    agent_group: str | None = None  # None: every logged-in agent may serve it
    priority: int = 0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    dispositions: dict[str, Disposition] = field(
        default_factory=lambda: {d.code: d for d in DEFAULT_DISPOSITIONS})
    ring_timeout: float = 40.0  # the dialer cancels an unanswered call after this
    abandon_after: float = 2.0  # an answered call waiting longer than this is abandoned
    abandon_target: float = 0.03
    max_lines: int | None = None
    wrap_limit: float | None = None  # seconds before an undispositioned wrap-up ends by itself
    preview_skip_delay: float = 3600.0
    callback_default_delay: float = 24 * 3600.0
    buffer_size: int = 200
    default_trunk: str | None = "sim"
    default_caller_id: str | None = None
    job_type: str = "other"  # also the business type trunks are registered for
    line_retries: int = 2  # immediate retries of a line-side loss on another trunk
    premium_retry: bool = False  # a second attempt with a longer ring for no-answer/rejected
    premium_ring_timeout: float = 60.0
    pacer: Pacer | None = None  # for power and predictive modes

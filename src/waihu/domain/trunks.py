"""Carrier lines (trunks): what a line may carry, what it costs, and its health lifecycle.

A trunk is owned by the platform (and assigned to tenants) or by one tenant. It covers some
regions, is registered (报备) for some business types, has a capacity (concurrent calls) and a
calls-per-second limit, a price, a priority and a role: ``primary`` trunks carry the traffic,
``backup`` and ``temporary`` trunks take over only when no primary can.

Health is a lifecycle of its own, driven by the router's circuit breaker::

    enabled --eject--> ejected --cooldown--> probing --probe_ok--> enabled
                                              probing --probe_fail--> ejected
    any state --disable--> disabled --enable--> enabled
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.lifecycle import Lifecycle

ANY = "*"


class TrunkRole(StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"
    TEMPORARY = "temporary"


class TrunkHealth(StrEnum):
    ENABLED = "enabled"
    EJECTED = "ejected"
    PROBING = "probing"
    DISABLED = "disabled"  # switched off by an operator; the breaker never touches it


TRUNK_LIFECYCLE: Lifecycle[TrunkHealth] = Lifecycle(
    "trunk",
    {
        (TrunkHealth.ENABLED, "eject"): TrunkHealth.EJECTED,
        (TrunkHealth.EJECTED, "cooldown"): TrunkHealth.PROBING,
        (TrunkHealth.PROBING, "probe_ok"): TrunkHealth.ENABLED,
        (TrunkHealth.PROBING, "probe_fail"): TrunkHealth.EJECTED,
        (TrunkHealth.ENABLED, "disable"): TrunkHealth.DISABLED,
        (TrunkHealth.EJECTED, "disable"): TrunkHealth.DISABLED,
        (TrunkHealth.PROBING, "disable"): TrunkHealth.DISABLED,
        (TrunkHealth.DISABLED, "enable"): TrunkHealth.ENABLED,
    },
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the circuit breaker ejects a trunk, and how it probes it back.

    A trunk is ejected when, over at least ``min_sample`` of its last ``window`` line results,
    the share of line-side losses reaches ``line_loss``; or after ``consecutive`` line losses in
    a row; or when its answer rate over at least ``answer_min_sample`` completed calls falls
    below ``min_answer_rate`` (0 disables that rule). Congestion is not counted there: it lowers
    the trunk's usable concurrency instead; but ``congestion_run`` congestion refusals in a row
    over at least ``congestion_seconds``, each while no other call of ours was in flight on the
    trunk and none getting through in between, eject it: a line full of our calls refuses new
    ones, but a carrier that refuses a lone call again and again is down, whatever it says.
    ``congestion_run`` 0 disables the rule.
    """

    line_loss: float = 0.3
    window: int = 20
    min_sample: int = 10
    consecutive: int = 3
    min_answer_rate: float = 0.0
    answer_min_sample: int = 100
    cooldown_seconds: float = 10.0
    max_cooldown_seconds: float = 20.0
    probe_successes: int = 5
    probe_concurrency: int = 5
    congestion_run: int = 10
    congestion_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class Trunk:
    trunk_id: str
    name: str
    capacity: int
    cps: float
    cost_per_minute: float = 0.0
    billing_increment: int = 60  # seconds; answered time is billed in whole increments
    cost_per_attempt: float = 0.0
    regions: frozenset[str] = frozenset({ANY})
    business: frozenset[str] = frozenset({ANY})
    priority: int = 0  # higher first (static priority order and tie-breaks)
    role: TrunkRole = TrunkRole.PRIMARY
    owner_tenant_id: str | None = None  # None: platform-owned, assigned to tenants
    thresholds: Thresholds = Thresholds()

    def covers(self, region: str | None) -> bool:
        return ANY in self.regions or (region is not None and region in self.regions)

    def allows(self, business: str) -> bool:
        return ANY in self.business or business in self.business

    def eligible(self, business: str, region: str | None) -> bool:
        return self.allows(business) and self.covers(region)

    @property
    def standby(self) -> bool:
        return self.role is not TrunkRole.PRIMARY

    def billed_seconds(self, talk_seconds: float) -> float:
        if talk_seconds <= 0:
            return 0.0
        inc = max(1, self.billing_increment)
        return math.ceil(talk_seconds / inc - 1e-9) * inc

    def call_cost(self, talk_seconds: float) -> float:
        """Cost of one attempt that was talked for ``talk_seconds`` (0 when unanswered)."""
        return self.cost_per_attempt + self.cost_per_minute * self.billed_seconds(talk_seconds) / 60.0

    def validate(self) -> None:
        problems: list[ErrorDetail] = []
        if not self.trunk_id:
            problems.append(ErrorDetail("trunk.missing_id", "a trunk needs an id", field="trunk_id"))
        if self.capacity < 0:
            problems.append(ErrorDetail("trunk.not_positive", "capacity must be >= 0", field="capacity"))
        if self.cps <= 0:
            problems.append(ErrorDetail("trunk.not_positive", "cps must be > 0", field="cps"))
        for name in ("cost_per_minute", "cost_per_attempt"):
            if getattr(self, name) < 0:
                problems.append(ErrorDetail("trunk.negative_cost", f"{name} must be >= 0", field=name))
        if self.billing_increment < 1:
            problems.append(ErrorDetail("trunk.not_positive", "billing_increment must be >= 1 s",
                                        field="billing_increment"))
        th = self.thresholds
        if not 0.0 < th.line_loss <= 1.0 or not 0.0 <= th.min_answer_rate <= 1.0:
            problems.append(ErrorDetail("trunk.threshold_out_of_range", "thresholds must be in (0, 1]",
                                        field="thresholds"))
        if problems:
            raise ValidationError("trunk.invalid", f"invalid trunk {self.name!r}", problems)


def parse_set(value: str | list[str] | tuple[str, ...] | frozenset[str] | None) -> frozenset[str]:
    """``"*"``, ``"a,b"`` or a list -> a frozenset (empty input means everything)."""
    if value is None:
        return frozenset({ANY})
    if isinstance(value, str):
        items = [v.strip() for v in value.replace("，", ",").split(",")]
    else:
        items = [str(v).strip() for v in value]
    out = frozenset(v for v in items if v)
    return out or frozenset({ANY})

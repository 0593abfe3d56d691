"""Campaigns: job types, dial modes, the lifecycle, retry policies and dispositions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from waihu.domain.calls import Outcome
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.lifecycle import Lifecycle


class JobType(StrEnum):
    MARKETING = "marketing"
    SERVICE = "service"
    CARE = "care"
    SURVEY = "survey"
    COLLECTION = "collection"
    NOTIFICATION = "notification"
    VERIFICATION = "verification"
    OTHER = "other"


class DialMode(StrEnum):
    MANUAL = "manual"
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    POWER = "power"
    PREDICTIVE = "predictive"
    ROBOT = "robot"


class CampaignState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


C = CampaignState
CAMPAIGN_LIFECYCLE: Lifecycle[CampaignState] = Lifecycle(
    "campaign",
    {
        (C.DRAFT, "start"): C.RUNNING,
        (C.PAUSED, "start"): C.RUNNING,
        (C.RUNNING, "pause"): C.PAUSED,
        (C.RUNNING, "complete"): C.COMPLETED,
        (C.PAUSED, "complete"): C.COMPLETED,  # stop
        (C.DRAFT, "archive"): C.ARCHIVED,
        (C.COMPLETED, "archive"): C.ARCHIVED,
        (C.PAUSED, "archive"): C.ARCHIVED,
        (C.COMPLETED, "start"): C.RUNNING,  # reopened after new contacts were added
    },
)


class ContactState(StrEnum):
    """A contact's state within one campaign."""

    PENDING = "pending"  # waiting for its next attempt (due at next_attempt_at)
    ACTIVE = "active"  # loaded by a dialer: being offered, dialled or wrapped up
    FINISHED = "finished"  # reached a conclusion (final disposition, invalid number, opt-out)
    EXHAUSTED = "exhausted"  # ran out of attempts without a conclusion


class RetryKind(StrEnum):
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    LINE_FAILURE = "line_failure"
    UNREACHABLE = "unreachable"


RETRY_KIND_FOR_OUTCOME: dict[Outcome, RetryKind] = {
    Outcome.BUSY: RetryKind.BUSY,
    Outcome.NO_ANSWER: RetryKind.NO_ANSWER,
    Outcome.CANCELLED: RetryKind.NO_ANSWER,
    Outcome.REJECTED: RetryKind.REJECTED,
    Outcome.ABANDONED: RetryKind.ABANDONED,
    Outcome.LINE_FAILURE: RetryKind.LINE_FAILURE,
    Outcome.UNREACHABLE: RetryKind.UNREACHABLE,
}


@dataclass(frozen=True)
class RetryRule:
    delay_seconds: float
    max_attempts: int  # attempts in total for the contact in this campaign, this one included


DEFAULT_RETRY_RULES: dict[RetryKind, RetryRule] = {
    RetryKind.BUSY: RetryRule(600, 3),
    RetryKind.NO_ANSWER: RetryRule(1800, 3),
    RetryKind.REJECTED: RetryRule(4 * 3600, 2),
    RetryKind.ABANDONED: RetryRule(300, 3),
    RetryKind.LINE_FAILURE: RetryRule(120, 4),
    RetryKind.UNREACHABLE: RetryRule(3600, 2),
}


@dataclass(frozen=True)
class RetryPolicy:
    rules: dict[RetryKind, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RETRY_RULES))

    def next_attempt(self, outcome: Outcome, attempts_made: int, now: float) -> float | None:
        """When to try again after ``outcome``, or None when the contact is exhausted."""
        kind = RETRY_KIND_FOR_OUTCOME.get(outcome)
        if kind is None:
            return None
        rule = self.rules.get(kind)
        if rule is None or attempts_made >= rule.max_attempts:
            return None
        return now + rule.delay_seconds

    @classmethod
    def from_dict(cls, raw: dict[str, dict[str, float]]) -> RetryPolicy:
        rules = dict(DEFAULT_RETRY_RULES)
        problems: list[ErrorDetail] = []
        for key, spec in raw.items():
            try:
                kind = RetryKind(key)
            except ValueError:
                problems.append(ErrorDetail("campaign.unknown_retry_outcome",
                                            f"unknown retry outcome {key!r}", field=key))
                continue
            delay = float(spec.get("delay_seconds", rules[kind].delay_seconds))
            attempts = int(spec.get("max_attempts", rules[kind].max_attempts))
            if delay < 0:
                problems.append(ErrorDetail("campaign.negative_retry_delay",
                                            "retry delay must be >= 0", field=f"{key}.delay_seconds"))
            if attempts < 1:
                problems.append(ErrorDetail("campaign.invalid_max_attempts",
                                            "max attempts must be >= 1", field=f"{key}.max_attempts"))
            rules[kind] = RetryRule(delay, attempts)
        if problems:
            raise ValidationError("campaign.invalid_retry_policy", "invalid retry policy", problems)
        return cls(rules)

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {k.value: {"delay_seconds": r.delay_seconds, "max_attempts": r.max_attempts}
                for k, r in self.rules.items()}


@dataclass(frozen=True)
class Disposition:
    """What an agent records after a connected call."""

    code: str
    label_zh: str
    label_en: str
    final: bool = True  # the contact is finished in this campaign
    success: bool = False  # counts as a conversion
    callback: bool = False  # schedule another call (personal or shared)
    stage: str | None = None  # funnel stage this disposition reaches
    weight: float = 0.0  # how often simulated agents choose it


DEFAULT_DISPOSITIONS: tuple[Disposition, ...] = (
    Disposition("success", "成功", "Success", success=True, stage="conversion", weight=0.12),
    Disposition("interested", "有意向", "Interested", final=False, callback=True, stage="intent",
                weight=0.08),
    Disposition("not_interested", "无意向", "Not interested", stage="reach", weight=0.55),
    Disposition("callback", "预约回拨", "Call back later", final=False, callback=True, stage="reach",
                weight=0.10),
    Disposition("wrong_person", "非本人", "Wrong person", weight=0.10),
    Disposition("do_not_call", "拒绝再联系", "Do not call again", weight=0.05),
)

SYSTEM_DISPOSITION_TIMEOUT = Disposition("wrap_timeout", "话后超时", "Wrap-up timed out")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str = "CNY"

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError("cannot add different currencies")
        return Money(self.amount + other.amount, self.currency)

"""Parameters of the simulated telephone network, its callees and its simulated agents."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from waihu.domain.errors import ErrorDetail, ValidationError


@dataclass(frozen=True)
class CalleeModel:
    """How the people being called behave. Rates are per dial attempt, except number states,
    which are properties of the number (an empty number stays empty on every attempt)."""

    answer_rate: float = 0.35
    answer_rate_end: float | None = None  # linear drift towards this rate over ``drift_seconds``
    drift_seconds: float = 8 * 3600.0
    busy_rate: float = 0.05
    rejected_rate: float = 0.03
    empty_rate: float = 0.04  # number states
    suspended_rate: float = 0.01
    powered_off_rate: float = 0.02
    ring_mean: float = 8.0  # dial to answer, Gamma shape 4
    no_answer_timeout: float = 25.0  # the network releases an unanswered call (480)
    talk_mean: float = 120.0  # lognormal
    talk_cv: float = 1.0
    hangup_while_waiting: float = 0.0  # share of answered callees who leave at once when no agent

    def validate(self) -> None:
        problems: list[ErrorDetail] = []
        for name in ("answer_rate", "busy_rate", "rejected_rate", "empty_rate", "suspended_rate",
                     "powered_off_rate", "hangup_while_waiting"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                problems.append(ErrorDetail("simnet.rate_out_of_range", f"{name} must be in [0, 1]",
                                            field=name))
        if self.answer_rate_end is not None and not 0.0 <= self.answer_rate_end <= 1.0:
            problems.append(ErrorDetail("simnet.rate_out_of_range", "answer_rate_end must be in [0, 1]",
                                        field="answer_rate_end"))
        if self.answer_rate + self.busy_rate + self.rejected_rate > 1.0 + 1e-9:
            problems.append(ErrorDetail("simnet.rates_exceed_one",
                                        "answer + busy + rejected rates exceed 1", field="answer_rate"))
        for name in ("ring_mean", "no_answer_timeout", "talk_mean"):
            if getattr(self, name) <= 0:
                problems.append(ErrorDetail("simnet.not_positive", f"{name} must be > 0", field=name))
        if self.talk_cv < 0:
            problems.append(ErrorDetail("simnet.not_positive", "talk_cv must be >= 0", field="talk_cv"))
        if problems:
            raise ValidationError("simnet.invalid_model", "invalid simulated-network parameters", problems)


@dataclass(frozen=True)
class AgentModel:
    wrap_mean: float = 15.0  # Gamma shape 2
    preview_mean: float = 8.0  # seconds to read a preview, Gamma shape 2
    preview_skip_rate: float = 0.05
    personal_callback_share: float = 0.5
    callback_delay: tuple[float, float] = (3600.0, 4 * 3600.0)
    disposition_weights: dict[str, float] = field(default_factory=dict)


class Draws:
    """Independent random streams, so that strategies compared on one seed see the same
    callees (common random numbers): the k-th dial, answer and wrap-up draw the same values."""

    def __init__(self, seed: int) -> None:
        self.outcome = random.Random(f"{seed}:outcome")
        self.ring = random.Random(f"{seed}:ring")
        self.talk = random.Random(f"{seed}:talk")
        self.wrap = random.Random(f"{seed}:wrap")
        self.misc = random.Random(f"{seed}:misc")
        self.seed = seed

    @staticmethod
    def gamma_mean(rng: random.Random, mean: float, shape: float) -> float:
        return rng.gammavariate(shape, mean / shape)

    @staticmethod
    def lognormal_mean(rng: random.Random, mean: float, cv: float) -> float:
        if cv <= 0:
            return mean
        s2 = math.log1p(cv * cv)
        return rng.lognormvariate(math.log(mean) - s2 / 2, math.sqrt(s2))

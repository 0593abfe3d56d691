"""Build engines and scripted events for engine tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from waihu.domain.campaigns import DialMode, Disposition, RetryPolicy
from waihu.domain.messages import Command, DialTarget
from waihu.domain.phone import PhoneNumber
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer

DISPS = {
    "sale": Disposition("sale", "成交", "Sale", success=True),
    "later": Disposition("later", "回拨", "Later", final=False, callback=True),
}


def make(mode: DialMode = DialMode.PROGRESSIVE, **kw: object) -> tuple[Dialer, CampaignSpec]:
    ids = itertools.count(1)
    d = Dialer("t1", new_id=lambda: f"call{next(ids)}")
    spec = CampaignSpec("k1", "t1", mode=mode, dispositions=dict(DISPS), **kw)  # type: ignore[arg-type]
    return d, spec


def target(n: int, attempts: int = 0, owner: str | None = None) -> DialTarget:
    return DialTarget(f"c{n}", "k1", PhoneNumber(f"+8613900{n:06d}"), f"p{n}", attempts=attempts,
                      owner_agent_id=owner)


def of(cmds: Iterable[Command], kind: type) -> list:  # type: ignore[type-arg]
    return [c for c in cmds if isinstance(c, kind)]


NO_RETRY = RetryPolicy({})

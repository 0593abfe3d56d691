"""``make_pacer(name, **params)``: the pacing strategies by name, for the runtime and the bench.

Progressive dialing is not a pacer: it is the engine's PROGRESSIVE mode (an agent is reserved
for each call), so it is not built here.
"""

from __future__ import annotations

from typing import Any

from waihu.domain.pacing import Pacer, PowerPacer
from waihu.domain.predictive import PredictivePacer
from waihu.domain.vicidial import VicidialAdaptivePacer, VicidialRatioPacer

PACER_NAMES = ("power", "vicidial_ratio", "vicidial_adaptive", "predictive")


def make_pacer(name: str, **params: Any) -> Pacer:
    if name == "power":
        return PowerPacer(**params)
    if name == "vicidial_ratio":
        return VicidialRatioPacer(**params)
    if name == "vicidial_adaptive":
        return VicidialAdaptivePacer(**params)
    if name == "predictive":
        return PredictivePacer(**params)
    raise ValueError(f"unknown pacing strategy {name!r} (known: {', '.join(PACER_NAMES)})")

"""A real campaign's abandon rate, counted from its CDRs, is the bench's: abandoned / answered."""

from __future__ import annotations

from waihu.bench.pacing import Scenario, run_once
from waihu.domain.calls import ANSWERED_OUTCOMES, Outcome
from waihu.domain.metrics import abandon_rate


def test_cdr_counts_match_the_engine_counters() -> None:
    import waihu.bench.pacing as bp

    stores = []
    real = bp.MemoryStore

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        s = real(*a, **k)
        stores.append(s)
        return s

    bp.MemoryStore = spy  # type: ignore[assignment,misc]
    try:
        r = run_once("predictive", Scenario(agents=10, hours=1.0, warmup_minutes=0.0), 2)
    finally:
        bp.MemoryStore = real  # type: ignore[misc]
    cdrs = stores[0].cdrs
    answered = sum(1 for c in cdrs if c.outcome in ANSWERED_OUTCOMES)
    abandoned = sum(1 for c in cdrs if c.outcome is Outcome.ABANDONED)
    assert abandoned > 0 and answered > 0
    # calls still in flight at the end have no CDR yet: the counters may lead by those few
    assert 0 <= r["answered"] - answered <= 10 and 0 <= r["abandoned"] - abandoned <= 2
    assert abs(abandon_rate(abandoned, answered) - r["abandon_rate"]) < 0.01

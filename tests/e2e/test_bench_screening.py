"""``waihu bench screening`` at a small size: the contract's keys and consistent counts."""

from __future__ import annotations

from tests.e2e.conftest import last_json


def test_screening_bench_small(waihu) -> None:  # type: ignore[no-untyped-def]
    doc = last_json(waihu("bench", "screening", "--contacts", "3000", "--dnc", "20000", "--json").stdout)
    assert doc["contacts"] == 3000 and doc["dnc"] == 20000
    assert doc["ready"] + doc["deferred"] + doc["blocked"] == 3000
    assert doc["blocked_by_reason"]["compliance.dnc"] > 0
    assert doc["seconds"] > 0 and doc["decisions_per_second"] > 0 and doc["peak_rss_mb"] > 0

"""The example routing scenarios reproduce the figures documented in docs/benchmarks.md.

Runs are deterministic for a seed; the tolerances only absorb harmless floating-point changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from waihu.bench.routing import bench
from waihu.bench.routing_scenario import load

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "routing"

# scenario -> documented figures: answered and net value per strategy, adaptive event times
DOCUMENTED: dict[str, dict[str, Any]] = {
    "high-traffic-failover": {
        "answered": {"round_robin": 23492, "static_priority": 22680, "adaptive": 24720, "oracle": 24852},
        "net_value": {"round_robin": 18936.59, "static_priority": 18207.10, "adaptive": 21362.23,
                      "oracle": 21560.92},
        "detection": [89.0, 1.3, 5.8, 0.7, 63.0],
        "readmit": [3.0, 14.7, 15.4, 12.0, None],
    },
    "low-traffic-failover": {
        "answered": {"round_robin": 6496, "static_priority": 6248, "adaptive": 6861, "oracle": 6922},
        "net_value": {"round_robin": 5198.78, "static_priority": 4962.85, "adaptive": 5862.51,
                      "oracle": 5964.77},
        "detection": [4.0, 68.2, 8.5, 2.5, 214.0],
        "readmit": [34.5, 2.0, 25.1, 12.0, None],
    },
    "caller-id-pool": {
        "answered": {"round_robin": 6324, "static_priority": 6423, "adaptive": 6362, "oracle": 6384},
        "net_value": {"round_robin": 5540.65, "static_priority": 5524.71, "adaptive": 5831.55,
                      "oracle": 5869.34},
        "detection": [None, 1.2, 6.6],
        "readmit": [None, 5.6, 3.8],
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_example_reproduces_the_documented_figures(name: str) -> None:
    doc = DOCUMENTED[name]
    result = bench(load(EXAMPLES / f"{name}.yaml"))
    strategies = result["strategies"]
    for strategy, answered in doc["answered"].items():
        assert strategies[strategy]["answered"] == pytest.approx(answered, rel=0.002), strategy
        assert strategies[strategy]["net_value"] == pytest.approx(doc["net_value"][strategy], rel=0.003)
        assert strategies[strategy]["violations"] == {"capacity": 0, "cps": 0, "unregistered": 0,
                                                      "caller_id_caps": 0}
    events = strategies["adaptive"]["events"]
    assert [e["detection_seconds"] for e in events] == pytest.approx(doc["detection"], abs=2.0)
    assert [e["readmit_seconds"] for e in events] == pytest.approx(doc["readmit"], abs=2.0)


@pytest.mark.slow
def test_every_example_is_pinned() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.yaml")} == set(DOCUMENTED)

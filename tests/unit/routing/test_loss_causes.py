"""The loss-cause taxonomy as routing uses it: sides, outcomes, and what the simulated network sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from waihu.adapters.simnet.trunks import SIGNAL, SIP_AMBIGUOUS, final_response
from waihu.domain.calls import LossCause, Outcome, Side, outcome_for_cause
from waihu.domain.sipcodes import loss_cause_for

DOC = Path(__file__).resolve().parents[3] / "docs" / "loss-causes.md"
SIDES = {
    Side.CALLEE: {"busy", "no_answer", "rejected", "empty_number", "powered_off", "suspended", "unreachable"},
    Side.LINE: {"congestion", "risk_control", "blacklist", "technical", "timeout"},
    Side.PLATFORM: {"no_caller_id", "compliance_block", "no_line"},
}


def _documented() -> dict[str, str]:
    """The one table of causes in docs/loss-causes.md: cause -> side."""
    text = DOC.read_text(encoding="utf-8").split("## The causes", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in text.splitlines() if line.startswith("| `")]
    return {cause.strip().strip("`"): side.strip() for cause, side in rows}


@pytest.mark.parametrize("cause", list(LossCause))
def test_each_cause_has_its_documented_side(cause: LossCause) -> None:
    assert cause.value in SIDES[cause.side]
    assert _documented().get(cause.value) == cause.side.value, "one row per cause, with its side"


def test_the_table_holds_no_cause_the_code_does_not_know() -> None:
    assert set(_documented()) == {c.value for c in LossCause}


@pytest.mark.parametrize("cause", [c for c in LossCause if c.side is not Side.PLATFORM])
def test_the_simulated_network_signals_what_the_mapping_reads_back(cause: LossCause) -> None:
    code, q850 = SIGNAL[cause]
    reason = None if q850 is None else f"Q.850;cause={q850}"
    assert loss_cause_for(code, reason) is SIP_AMBIGUOUS.get(cause, cause)
    assert final_response(cause).startswith(str(code))


def test_what_sip_cannot_tell_stays_on_the_same_side() -> None:
    for hidden, shown in SIP_AMBIGUOUS.items():
        assert hidden.side is shown.side


def test_platform_causes_are_never_signalled() -> None:
    assert not [c for c in SIGNAL if c.side is Side.PLATFORM]


@pytest.mark.parametrize(("cause", "outcome"), [
    (LossCause.BUSY, Outcome.BUSY), (LossCause.NO_ANSWER, Outcome.NO_ANSWER),
    (LossCause.REJECTED, Outcome.REJECTED), (LossCause.EMPTY_NUMBER, Outcome.INVALID_NUMBER),
    (LossCause.SUSPENDED, Outcome.INVALID_NUMBER), (LossCause.POWERED_OFF, Outcome.UNREACHABLE),
    (LossCause.UNREACHABLE, Outcome.UNREACHABLE),
    *[(c, Outcome.LINE_FAILURE) for c in LossCause if c.side is Side.LINE],
])
def test_outcome_of_each_cause(cause: LossCause, outcome: Outcome) -> None:
    assert outcome_for_cause(cause) is outcome


@pytest.mark.parametrize(("code", "reason", "retried"), [
    (486, None, False), (603, None, False), (480, "Q.850;cause=19", False), (404, None, False),
    (503, "Q.850;cause=34", True), (403, None, True), (500, None, True), (503, "Q.850;cause=27", False),
])
def test_only_line_side_failures_are_retried_on_another_line(code: int, reason: str | None, retried: bool) -> None:
    assert (loss_cause_for(code, reason).side is Side.LINE) is retried

"""The loss-cause taxonomy: the documented table, the sides, and what the simulated network sends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from waihu.adapters.simnet.trunks import SIGNAL
from waihu.domain.calls import LossCause, Outcome, Side, outcome_for_cause

DOC = Path(__file__).resolve().parents[3] / "docs" / "loss-causes.md"


def _table() -> dict[str, tuple[str, list[int], list[int]]]:
    rows: dict[str, tuple[str, list[int], list[int]]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("cause", "---"):
            continue
        sip = [int(x) for x in re.findall(r"\b[3-6]\d\d\b", cells[2])]
        q850 = [int(m.group(1)) for m in re.finditer(r"(?:^|, )(\d{1,3}) [a-z]", cells[3])]
        rows[cells[0]] = (cells[1], sip, q850)
    return rows


def test_every_cause_is_documented_once_with_its_side() -> None:
    table = _table()
    assert set(table) == {c.value for c in LossCause}
    for cause in LossCause:
        assert table[cause.value][0] == cause.side.value, cause


@pytest.mark.parametrize("cause", [c for c in LossCause if c.side is not Side.PLATFORM])
def test_simulated_network_signals_the_documented_codes(cause: LossCause) -> None:
    sip, q850 = SIGNAL[cause]
    _, doc_sip, doc_q850 = _table()[cause.value]
    assert sip == doc_sip[0], f"{cause}: the network answers with the first documented status"
    assert q850 in doc_q850


def test_platform_causes_have_no_signaling() -> None:
    table = _table()
    for cause in LossCause:
        if cause.side is Side.PLATFORM:
            assert table[cause.value][1:] == ([], [])
            assert cause not in SIGNAL


@pytest.mark.parametrize(("cause", "outcome"), [
    (LossCause.BUSY, Outcome.BUSY), (LossCause.NO_ANSWER, Outcome.NO_ANSWER),
    (LossCause.REJECTED, Outcome.REJECTED), (LossCause.EMPTY_NUMBER, Outcome.INVALID_NUMBER),
    (LossCause.SUSPENDED, Outcome.INVALID_NUMBER), (LossCause.POWERED_OFF, Outcome.UNREACHABLE),
    (LossCause.UNREACHABLE, Outcome.UNREACHABLE), *[(c, Outcome.LINE_FAILURE) for c in LossCause
                                                     if c.side is Side.LINE],
])
def test_outcome_of_each_cause(cause: LossCause, outcome: Outcome) -> None:
    assert outcome_for_cause(cause) is outcome


def test_busy_and_rejected_are_the_callees_answer() -> None:
    assert LossCause.BUSY.side is Side.CALLEE and LossCause.REJECTED.side is Side.CALLEE

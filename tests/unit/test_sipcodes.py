import pytest

from waihu.domain.calls import LossCause, Side
from waihu.domain.sipcodes import loss_cause_for, q850_cause


@pytest.mark.parametrize(("code", "reason", "cause"), [
    (486, None, LossCause.BUSY),
    (600, None, LossCause.BUSY),
    (480, None, LossCause.NO_ANSWER),
    (408, None, LossCause.NO_ANSWER),
    (487, None, LossCause.NO_ANSWER),
    (404, None, LossCause.EMPTY_NUMBER),
    (604, None, LossCause.EMPTY_NUMBER),
    (603, None, LossCause.REJECTED),
    (403, None, LossCause.RISK_CONTROL),
    (503, None, LossCause.CONGESTION),
    (500, None, LossCause.TECHNICAL),
    (502, None, LossCause.CONGESTION),
    (499, None, LossCause.TECHNICAL),
    (699, None, LossCause.REJECTED),
    # the Q.850 cause wins over the status code
    (480, "Q.850;cause=17;text=\"User busy\"", LossCause.BUSY),
    (503, "Q.850; cause=1", LossCause.EMPTY_NUMBER),
    (480, "Q.850;cause=20", LossCause.POWERED_OFF),
    (480, "Q.850;cause=19", LossCause.NO_ANSWER),
    (403, "Q.850;cause=21", LossCause.REJECTED),
    (500, "Q.850;cause=34", LossCause.CONGESTION),
    (500, "Q.850;cause=41", LossCause.TECHNICAL),
    (503, "Q.850;cause=42", LossCause.CONGESTION),
    (503, "Q.850;cause=47", LossCause.CONGESTION),
    # an unknown Q.850 cause or another protocol falls back to the status code
    (486, "Q.850;cause=250", LossCause.BUSY),
    (486, "SIP;cause=200;text=\"Call completed elsewhere\"", LossCause.BUSY),
    (404, "garbage", LossCause.EMPTY_NUMBER),
])
def test_loss_cause_for(code: int, reason: str | None, cause: LossCause) -> None:
    assert loss_cause_for(code, reason) is cause


def test_sides() -> None:
    assert loss_cause_for(486).side is Side.CALLEE
    assert loss_cause_for(503).side is Side.LINE
    assert loss_cause_for(403).side is Side.LINE
    assert loss_cause_for(603).side is Side.CALLEE


def test_q850_in_a_list_of_reasons() -> None:
    assert q850_cause('SIP;cause=480, Q.850;cause=18') == 18
    assert q850_cause(None) is None
    assert q850_cause("Q.850;text=\"no cause\"") is None


def _doc_rows(heading: str) -> list[tuple[list[int], str]]:
    """(codes, cause) of each row of one table of docs/loss-causes.md."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "loss-causes.md").read_text(encoding="utf-8")
    table = doc.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) == 4 and cells[0][:1].isdigit():
            rows.append(([int(x) for x in cells[0].split(",")], cells[2].strip("`")))
    return rows


def test_every_documented_sip_code_maps_as_the_table_says() -> None:
    rows = _doc_rows("## SIP status codes")
    assert len(rows) >= 18
    for codes, cause in rows:
        for code in codes:
            assert loss_cause_for(code, None).value == cause, code


def test_every_documented_q850_cause_maps_as_the_table_says() -> None:
    rows = _doc_rows("## Q.850 causes")
    assert len(rows) >= 23
    for codes, cause in rows:
        for q in codes:
            assert loss_cause_for(500, f"Q.850;cause={q}").value == cause, q

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

"""Table-driven tests of the call, agent and campaign lifecycles."""

from __future__ import annotations

import itertools

import pytest

from waihu.domain.agents import AGENT_LIFECYCLE, AgentState
from waihu.domain.calls import CALL_LIFECYCLE, CallState
from waihu.domain.campaigns import CAMPAIGN_LIFECYCLE, CampaignState
from waihu.domain.errors import IllegalTransition

CALL_TABLE = [
    ("created", "dial", "dialing"),
    ("dialing", "ring", "ringing"),
    ("ringing", "ring", "ringing"),
    ("dialing", "answer", "answered"),
    ("ringing", "answer", "answered"),
    ("dialing", "fail", "failed"),
    ("ringing", "fail", "failed"),
    ("dialing", "cancel", "cancelling"),
    ("ringing", "cancel", "cancelling"),
    ("cancelling", "fail", "failed"),
    ("cancelling", "answer", "abandoned"),
    ("cancelling", "hangup", "ended"),
    ("answered", "bridge", "bridged"),
    ("answered", "abandon", "abandoned"),
    ("answered", "hangup", "abandoned"),
    ("bridged", "hangup", "ended"),
    ("abandoned", "hangup", "ended"),
]
AGENT_TABLE = [
    ("offline", "login", "ready"),
    ("ready", "reserve", "reserved"),
    ("break", "reserve", "reserved"),
    ("reserved", "release", "ready"),
    ("ready", "connect", "talking"),
    ("reserved", "connect", "talking"),
    ("talking", "hangup", "wrap_up"),
    ("wrap_up", "ready", "ready"),
    ("break", "ready", "ready"),
    ("ready", "pause", "break"),
    ("wrap_up", "pause", "break"),
    ("break", "pause", "break"),
    ("ready", "logout", "offline"),
    ("break", "logout", "offline"),
    ("wrap_up", "logout", "offline"),
]
CAMPAIGN_TABLE = [
    ("draft", "start", "running"),
    ("paused", "start", "running"),
    ("running", "pause", "paused"),
    ("running", "complete", "completed"),
    ("paused", "complete", "completed"),
    ("draft", "archive", "archived"),
    ("completed", "archive", "archived"),
    ("paused", "archive", "archived"),
    ("completed", "start", "running"),
]
MACHINES = [
    (CALL_LIFECYCLE, CallState, CALL_TABLE),
    (AGENT_LIFECYCLE, AgentState, AGENT_TABLE),
    (CAMPAIGN_LIFECYCLE, CampaignState, CAMPAIGN_TABLE),
]


@pytest.mark.parametrize(("machine", "states", "row"),
                         [(m, s, r) for m, s, t in MACHINES for r in t],
                         ids=lambda x: "-".join(x) if isinstance(x, tuple) else None)
def test_allowed_transitions(machine, states, row) -> None:  # type: ignore[no-untyped-def]
    state, event, new = row
    assert machine.next(states(state), event) is states(new)


@pytest.mark.parametrize(("machine", "states", "table"), MACHINES, ids=["call", "agent", "campaign"])
def test_everything_else_is_illegal(machine, states, table) -> None:  # type: ignore[no-untyped-def]
    events = {e for _, e, _ in table} | {"bogus"}
    allowed = {(s, e) for s, e, _ in table}
    assert set(machine.table) == {(states(s), e) for s, e in allowed}, "table differs from the documented one"
    for state, event in itertools.product(states, events):
        if (state.value, event) in allowed:
            continue
        with pytest.raises(IllegalTransition) as info:
            machine.next(state, event)
        assert info.value.code == f"{machine.name}.illegal_transition"
        assert state.value in info.value.message and event in info.value.message


def test_terminal_call_states_have_no_exit() -> None:
    for state in (CallState.FAILED, CallState.ENDED):
        assert CALL_LIFECYCLE.events_from(state) == []

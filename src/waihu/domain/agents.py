"""The agent lifecycle."""

from __future__ import annotations

from enum import StrEnum

from waihu.domain.lifecycle import Lifecycle


class AgentState(StrEnum):
    OFFLINE = "offline"
    READY = "ready"
    RESERVED = "reserved"  # held for a call being dialled or offered (preview, progressive, manual)
    TALKING = "talking"
    WRAP_UP = "wrap_up"
    BREAK = "break"


A = AgentState
AGENT_LIFECYCLE: Lifecycle[AgentState] = Lifecycle(
    "agent",
    {
        (A.OFFLINE, "login"): A.READY,
        (A.READY, "reserve"): A.RESERVED,
        (A.BREAK, "reserve"): A.RESERVED,  # a manual (click-to-call) dial from not-ready
        (A.RESERVED, "release"): A.READY,  # the reserved call failed or the preview was skipped
        (A.READY, "connect"): A.TALKING,  # a predictive call bridged to a free agent
        (A.RESERVED, "connect"): A.TALKING,
        (A.TALKING, "hangup"): A.WRAP_UP,
        (A.WRAP_UP, "ready"): A.READY,
        (A.BREAK, "ready"): A.READY,
        (A.READY, "pause"): A.BREAK,
        (A.WRAP_UP, "pause"): A.BREAK,
        (A.BREAK, "pause"): A.BREAK,  # a new break reason
        (A.READY, "logout"): A.OFFLINE,
        (A.BREAK, "logout"): A.OFFLINE,
        (A.WRAP_UP, "logout"): A.OFFLINE,
    },
)

BUSY_STATES = frozenset({A.RESERVED, A.TALKING, A.WRAP_UP})

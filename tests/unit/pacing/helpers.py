"""Hand-built snapshots for pacing tests."""

from __future__ import annotations

from dataclasses import dataclass

from waihu.domain.pacing import PacingSnapshot


@dataclass
class Agent:
    state: str
    since: float


def snapshot(*, now: float = 1000.0, ready: int = 0, talking: tuple[float, ...] = (),
             wrapping: tuple[float, ...] = (), breaks: int = 0, ringing: tuple[float, ...] = (), waiting: int = 0,
             max_lines: int | None = None, target: float = 0.03, answered: int = 0,
             abandoned: int = 0) -> PacingSnapshot:
    """``talking``/``wrapping`` give the seconds each agent has been in that state; ``ringing``
    the age of each call in flight."""
    agents = ([Agent("ready", now - 5.0) for _ in range(ready)]
              + [Agent("talking", now - e) for e in talking]
              + [Agent("wrap_up", now - e) for e in wrapping]
              + [Agent("break", now - 60.0) for _ in range(breaks)])
    rings = [now - a for a in ringing]
    return PacingSnapshot(now=now, ready=ready, agents=agents, ringing_since=rings, waiting=waiting,
                          lines_in_use=len(rings) + waiting + len(talking), max_lines=max_lines,
                          abandon_target=target, abandon_after=2.0, dialed=answered * 4, answered=answered,
                          abandoned=abandoned)

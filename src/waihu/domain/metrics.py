"""Metric definitions shared by the engine's benchmarks, campaign summaries and reports.

- abandon rate = abandoned / answered by a person (connected + abandoned)
- talk occupancy = agent talk seconds / agent logged-in seconds
- connect rate (接通率) = contacts answered at least once / contacts dialled (a chain counts once)
"""

from __future__ import annotations


def ratio(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def abandon_rate(abandoned: int, answered: int) -> float:
    return ratio(abandoned, answered)


def talk_occupancy(talk_seconds: float, logged_seconds: float) -> float:
    return ratio(talk_seconds, logged_seconds)


def connect_rate(contacts_answered: int, contacts_dialled: int) -> float:
    return ratio(contacts_answered, contacts_dialled)

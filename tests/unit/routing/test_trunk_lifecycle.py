"""Table-driven tests of the trunk health lifecycle and the caller-ID status lifecycle."""

from __future__ import annotations

import itertools

import pytest

from waihu.domain.callerid import CALLER_ID_LIFECYCLE, CallerIdStatus
from waihu.domain.errors import IllegalTransition
from waihu.domain.trunks import TRUNK_LIFECYCLE, TrunkHealth

TRUNK_TABLE = [
    ("enabled", "eject", "ejected"),
    ("ejected", "cooldown", "probing"),
    ("probing", "probe_ok", "enabled"),
    ("probing", "probe_fail", "ejected"),
    ("enabled", "disable", "disabled"),
    ("ejected", "disable", "disabled"),
    ("probing", "disable", "disabled"),
    ("disabled", "enable", "enabled"),
]
CALLER_ID_TABLE = [
    ("active", "mark", "reduced"),
    ("reduced", "mark", "offline"),
    ("offline", "mark", "offline"),
    ("active", "take_offline", "offline"),
    ("reduced", "take_offline", "offline"),
    ("reduced", "clear", "active"),
    ("offline", "clear", "active"),
]


def test_trunk_table_is_exactly_the_documented_one() -> None:
    assert sorted(TRUNK_LIFECYCLE.rows()) == sorted(TRUNK_TABLE)


def test_caller_id_table_is_exactly_the_documented_one() -> None:
    assert sorted(CALLER_ID_LIFECYCLE.rows()) == sorted(CALLER_ID_TABLE)


@pytest.mark.parametrize(("state", "event", "new"), TRUNK_TABLE)
def test_trunk_allowed_moves(state: str, event: str, new: str) -> None:
    assert TRUNK_LIFECYCLE.next(TrunkHealth(state), event) is TrunkHealth(new)


EVENTS = sorted({e for _, e, _ in TRUNK_TABLE})
ILLEGAL = [(s, e) for s, e in itertools.product(TrunkHealth, EVENTS)
           if (s.value, e) not in {(a, b) for a, b, _ in TRUNK_TABLE}]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_trunk_illegal_moves_raise(state: TrunkHealth, event: str) -> None:
    with pytest.raises(IllegalTransition) as info:
        TRUNK_LIFECYCLE.next(state, event)
    assert info.value.code == "trunk.illegal_transition"


def test_an_ejected_trunk_cannot_be_readmitted_without_probing() -> None:
    assert not TRUNK_LIFECYCLE.allowed(TrunkHealth.EJECTED, "probe_ok")
    assert TRUNK_LIFECYCLE.events_from(TrunkHealth.EJECTED) == ["cooldown", "disable"]


@pytest.mark.parametrize(("state", "event", "new"), CALLER_ID_TABLE)
def test_caller_id_moves(state: str, event: str, new: str) -> None:
    assert CALLER_ID_LIFECYCLE.next(CallerIdStatus(state), event) is CallerIdStatus(new)

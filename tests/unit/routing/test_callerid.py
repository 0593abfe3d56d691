"""Caller-ID selection: local presence order, weights, caps, one number per callee per day, spam marks."""

from __future__ import annotations

import pytest

from waihu.domain.callerid import CallerId, CallerIdPool, CallerIdStatus, NumberType
from waihu.domain.errors import NotFound, ValidationError

DAY = 86400.0
T0 = 1_750_000_000.0  # some UTC moment; days roll at 16:00 UTC (midnight in China)


def pool() -> CallerIdPool:
    p = CallerIdPool(seed=3)
    p.add(CallerId("hz-mob", "+8613700000001", "浙江", "杭州", NumberType.MOBILE, capital=True, max_concurrent=2))
    p.add(CallerId("hz-land", "+8657100000001", "浙江", "杭州", NumberType.LANDLINE, capital=True))
    p.add(CallerId("nb-mob", "+8613700000002", "浙江", "宁波", NumberType.MOBILE))
    p.add(CallerId("def", "+8640000000001", "北京", None, NumberType.LANDLINE, default=True, max_concurrent=9))
    return p


def test_order_local_mobile_then_landline_then_capital_then_default() -> None:
    p = pool()
    got = [p.select(f"callee{i}", "浙江", "宁波", T0) for i in range(5)]
    # 宁波 mobile is local; its cap (1 concurrent) is then used up -> no local landline in 宁波
    # -> the provincial capital (杭州: 2 + 1 concurrent) -> the default number
    assert [c.tier for c in got] == ["local_mobile"] + ["provincial_capital"] * 3 + ["default"]
    assert got[0].number_id == "nb-mob"
    assert sorted(c.number_id or "" for c in got[1:4]) == ["hz-land", "hz-mob", "hz-mob"]


def test_local_landline_comes_after_local_mobile() -> None:
    p = pool()
    first = p.select("a", "浙江", "杭州", T0)
    second = p.select("b", "浙江", "杭州", T0)
    third = p.select("c", "浙江", "杭州", T0)
    assert (first.number_id, second.number_id, third.number_id) == ("hz-mob", "hz-mob", "hz-land")


def test_other_province_gets_the_default_number_and_none_when_no_default() -> None:
    p = pool()
    assert p.select("a", "广东", None, T0).number_id == "def"
    q = CallerIdPool()
    q.add(CallerId("x", "+8613700000009", "浙江", "杭州"))
    got = q.select("a", "广东", None, T0)
    assert got.number_id is None and got.reason == "no_caller_id.none_for_region"


def test_never_the_same_number_twice_to_a_callee_in_a_day() -> None:
    p = CallerIdPool()
    p.add(CallerId("only", "+8613700000001", "浙江", "杭州", max_concurrent=5))
    assert p.select("callee", "浙江", "杭州", T0).number_id == "only"
    p.release("only")
    again = p.select("callee", "浙江", "杭州", T0 + 60)
    assert again.number_id is None and again.reason == "no_caller_id.shown_today"
    assert p.next_day(T0) - T0 < DAY and (p.next_day(T0) + 8 * 3600) % DAY == 0
    assert p.select("other", "浙江", "杭州", T0 + 60).number_id == "only"
    assert p.select("callee", "浙江", "杭州", T0 + DAY).number_id == "only", "a new day"


def test_concurrency_and_daily_caps_are_never_exceeded() -> None:
    p = CallerIdPool()
    p.add(CallerId("n", "+8613700000001", "浙江", "杭州", max_concurrent=2, daily_cap=3))
    picks = [p.select(f"c{i}", "浙江", "杭州", T0).number_id for i in range(3)]
    assert picks == ["n", "n", None], "two at once at most"
    p.release("n")
    assert p.select("c3", "浙江", "杭州", T0).number_id == "n"
    p.release("n")
    p.release("n")
    assert p.select("c4", "浙江", "杭州", T0).number_id is None, "three a day at most"
    assert p.numbers["n"].used_today == 3


def test_weights_share_the_traffic() -> None:
    p = CallerIdPool(seed=1)
    p.add(CallerId("heavy", "+8613700000001", "浙江", "杭州", weight=3.0, max_concurrent=10**6, daily_cap=10**6))
    p.add(CallerId("light", "+8613700000002", "浙江", "杭州", weight=1.0, max_concurrent=10**6, daily_cap=10**6))
    n = 4000
    heavy = sum(p.select(f"c{i}", "浙江", "杭州", T0).number_id == "heavy" for i in range(n))
    assert 0.70 < heavy / n < 0.80


def test_spam_marks_reduce_then_take_offline() -> None:
    p = CallerIdPool()
    p.add(CallerId("n", "+8613700000001", "浙江", "杭州", max_concurrent=4, daily_cap=100))
    assert p.mark_spam("n") is CallerIdStatus.REDUCED
    assert p.numbers["n"].caps() == (2, 50)
    assert [p.select(f"c{i}", "浙江", "杭州", T0).number_id for i in range(3)] == ["n", "n", None]
    assert p.mark_spam("n") is CallerIdStatus.OFFLINE
    p.release("n")
    assert p.select("c9", "浙江", "杭州", T0).number_id is None
    with pytest.raises(NotFound):
        p.mark_spam("nope")


def test_invalid_numbers_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        CallerIdPool().add(CallerId("bad", "+8613700000001", "", weight=0))
    assert {d.code for d in info.value.details} == {"caller_id.not_positive", "caller_id.missing_region"}

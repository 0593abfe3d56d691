"""InputFirst: when a SIP timer that fell due waits for the input that arrived before it."""

from __future__ import annotations

from waihu.adapters.sip.stack import InputFirst


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def watch(readable: bool = False) -> tuple[InputFirst, Clock]:
    clock = Clock()
    w = InputFirst(clock)
    w.readable = lambda: readable
    return w, clock


def test_a_timer_fires_at_once_when_the_thread_keeps_up() -> None:
    w, clock = watch(readable=True)  # a datagram in the socket, but no stall: it came after the timer fell due
    clock.t += 0.02
    w.beat()
    w.arrived(100.03)
    clock.t = 100.031
    assert w.wait(due=100.025, held=0.0) == 0.0
    assert w.held == 0


def test_a_datagram_that_arrived_before_the_due_time_goes_first() -> None:
    w, clock = watch()
    w.arrived(100.01)
    clock.t = 100.02
    w.beat()
    assert w.wait(due=100.015, held=0.0) == w.tick
    w.handled(100.01)
    assert w.wait(due=100.015, held=w.tick) == 0.0
    assert w.held == 1


def test_after_a_stall_the_timer_waits_for_the_heartbeat_then_for_the_socket() -> None:
    readable = [True]
    clock = Clock()
    w = InputFirst(clock)
    w.readable = lambda: readable[0]
    clock.t = 100.7  # stalled 700 ms; the timer fell due at 100.5
    assert w.must_wait(100.5)  # the heartbeat has not run yet
    w.beat()
    assert (w.stalls, round(w.longest, 3)) == (1, 0.7)
    assert w.must_wait(100.5)  # the answers are still in the socket
    readable[0] = False
    w.arrived(100.72)  # read just after the stall: it arrived during it
    clock.t = 100.72
    assert w.must_wait(100.5)
    w.handled(100.72)
    assert not w.must_wait(100.5)
    assert not w.must_wait(100.9)  # a timer due after the stall does not care about it


def test_a_timer_is_put_off_by_max_hold_at_most() -> None:
    w, clock = watch(readable=True)
    clock.t = 101.0
    held = 0.0
    while (step := w.wait(due=100.5, held=held)) > 0:
        held += step
        clock.t += step  # the heartbeat never runs: the thread stays stalled
    assert w.max_hold - w.tick < held <= w.max_hold
    assert w.held == 1


def test_handled_removes_its_own_arrival() -> None:
    w, _ = watch()
    w.arrived(100.01)  # UDP
    w.arrived(100.02)  # TCP, handed over first
    w.handled(100.02)
    assert list(w.queued) == [100.01]
    w.handled(99.0)  # queued before a restart cleared the queue: nothing to remove
    assert list(w.queued) == [100.01]

"""A virtual clock and event queue: a simulated day runs in seconds."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable

from waihu.domain.messages import Event


class VirtualLoop:
    """Implements the ``Clock`` and ``Scheduler`` ports on virtual time.

    Events due at the same moment are delivered in the order they were posted.
    """

    def __init__(self, start: float) -> None:
        self._now = start
        self._queue: list[tuple[float, int, Event]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def post(self, at: float, event: Event) -> None:
        heapq.heappush(self._queue, (max(at, self._now), next(self._seq), event))

    def __len__(self) -> int:
        return len(self._queue)

    def next_time(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def run(self, deliver: Callable[[Event, float], None], *, until: float | None = None,
            stop: Callable[[], bool] | None = None) -> int:
        """Deliver events in time order until the queue is empty, ``until`` or ``stop()``."""
        delivered = 0
        q = self._queue
        while q:
            if until is not None and q[0][0] > until:
                self._now = until
                break
            at, _, event = heapq.heappop(q)
            self._now = at
            deliver(event, at)
            delivered += 1
            if stop is not None and stop():
                break
        return delivered


class InboxLoop(VirtualLoop):
    """A ``VirtualLoop`` that other threads may post to (a SIP worker thread reporting calls).

    The thread that runs the loop posts straight into the queue; any other thread's events wait
    in an inbox that the next ``run`` takes in first, and ``on_post`` is called (from that thread)
    so that the owner can run the loop without waiting for its next tick.
    """

    def __init__(self, start: float, on_post: Callable[[], None] | None = None) -> None:
        super().__init__(start)
        self.on_post = on_post
        self._owner = threading.get_ident()
        self._inbox: list[tuple[float, Event]] = []
        self._lock = threading.Lock()

    def post(self, at: float, event: Event) -> None:
        if threading.get_ident() == self._owner:
            super().post(at, event)
            return
        with self._lock:
            self._inbox.append((at, event))
        if self.on_post is not None:
            self.on_post()

    def __len__(self) -> int:
        return super().__len__() + len(self._inbox)

    def run(self, deliver: Callable[[Event, float], None], *, until: float | None = None,
            stop: Callable[[], bool] | None = None) -> int:
        self._owner = threading.get_ident()
        with self._lock:
            inbox, self._inbox = self._inbox, []
        for at, event in inbox:  # in the order the other thread posted them
            super().post(at, event)
        return super().run(deliver, until=until, stop=stop)

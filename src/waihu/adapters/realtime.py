"""The wall clock and an asyncio scheduler: the ``Clock`` and ``Scheduler`` ports in real time.

Every event reaches the engine through the asyncio loop, so the engine stays single-threaded
even when adapters (the SIP worker thread) report from other threads: ``post`` may be called
from any thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from waihu.domain.messages import Event

Deliver = Callable[[Event, float], None]


class WallClock:
    def now(self) -> float:
        return time.time()


class AsyncioScheduler:
    """Delivers posted events to ``deliver(event, now)`` on the asyncio loop, at their time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Deliver | None = None,
                 clock: WallClock | None = None) -> None:
        self.loop = loop
        self.deliver = deliver
        self.clock = clock or WallClock()
        self._loop_thread: int | None = None
        self.delivered = 0

    def now(self) -> float:
        return self.clock.now()

    def bind(self, deliver: Deliver) -> None:
        """Set the receiver (the runtime's ``feed``) once it exists."""
        self.deliver = deliver

    def post(self, at: float, event: Event) -> None:
        if self._in_loop():
            self._schedule(at, event)
        else:
            self.loop.call_soon_threadsafe(self._schedule, at, event)

    def _in_loop(self) -> bool:
        if self._loop_thread is None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                return False
            if running is not self.loop:
                return False
            self._loop_thread = threading.get_ident()
        return threading.get_ident() == self._loop_thread

    def _schedule(self, at: float, event: Event) -> None:
        delay = at - self.clock.now()
        if delay <= 0.0:
            self.loop.call_soon(self._fire, event)
        else:
            self.loop.call_later(delay, self._fire, event)

    def _fire(self, event: Event) -> None:
        deliver = self.deliver
        if deliver is None:
            raise RuntimeError("AsyncioScheduler has no receiver: call bind() first")
        self.delivered += 1
        deliver(event, self.clock.now())

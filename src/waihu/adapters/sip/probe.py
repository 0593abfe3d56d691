"""Trunk health: SIP OPTIONS probes on an interval, and the up/down state they feed.

A trunk goes down after ``down_after`` failed probes in a row (no answer within the probe's
own timeout, or a 5xx/6xx) and comes back up after ``up_after`` good ones (any response below
500: a 404 or 405 still proves the trunk is alive). sippy's own transaction timeout for
OPTIONS is 32 s, far too long for a probe, so each probe has its own timer; a response that
arrives after it is ignored. The next probe goes out ``options_interval`` after the previous
one's result, so there is never more than one probe in flight per trunk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack, Timer, options_request


class TrunkHealth:
    """Up/down state of one trunk from probe results (thread-safe to read)."""

    def __init__(self, name: str, down_after: int = 3, up_after: int = 2,
                 on_change: Callable[[str, bool], None] | None = None) -> None:
        self.name = name
        self.down_after = down_after
        self.up_after = up_after
        self.on_change = on_change
        self.up = True  # by the OPTIONS probes
        self.registered: bool | None = None  # the REGISTER binding (None: the trunk does not register)
        self.good = 0
        self.bad = 0
        self.probes = 0
        self.last_code: int | None = None
        self._lock = threading.Lock()

    @property
    def usable(self) -> bool:
        """Up by the probes, and registered if the trunk must register (a carrier refuses calls
        from an address whose binding it rejected or lost)."""
        return self.up and self.registered is not False

    def record(self, ok: bool, code: int | None) -> None:
        with self._lock:
            before = self.usable
            self.probes += 1
            self.last_code = code
            if ok:
                self.good, self.bad = self.good + 1, 0
                if not self.up and self.good >= self.up_after:
                    self.up = True
            else:
                self.bad, self.good = self.bad + 1, 0
                if self.up and self.bad >= self.down_after:
                    self.up = False
            state = self.usable
        self._tell(before, state)

    def registration(self, ok: bool) -> None:
        """The REGISTER binding was granted (or renewed), or refused."""
        with self._lock:
            before = self.usable
            self.registered = ok
            state = self.usable
        self._tell(before, state)

    def _tell(self, before: bool, state: bool) -> None:
        if state != before and self.on_change is not None:
            self.on_change(self.name, state)


class TrunkProber:
    """Sends OPTIONS to one trunk every ``options_interval`` seconds (SIP thread)."""

    def __init__(self, stack: SipStack, trunk: SipTrunk, health: TrunkHealth) -> None:
        self.stack = stack
        self.trunk = trunk
        self.health = health
        self._next: Timer | None = None
        self._deadline: Timer | None = None
        self._seq = 0
        self._stopped = False

    def start(self) -> None:
        self._probe()

    def stop(self) -> None:
        self._stopped = True
        for t in (self._next, self._deadline):
            if t is not None:
                t.cancel()

    def _probe(self) -> None:
        if self._stopped:
            return
        self._seq += 1
        seq = self._seq
        t = self.trunk
        try:
            req = options_request(t.host, t.port, t.from_user, t.transport)
            self.stack.send_request(req, lambda resp: self._answered(seq, resp))
        except Exception:  # e.g. the host does not resolve: a failed probe
            self._result(seq, False, None)
        else:
            self._deadline = Timer(lambda: self._result(seq, False, None), t.options_timeout)

    def _answered(self, seq: int, resp: Any) -> None:
        code = resp.getSCode()[0]
        if code < 200:
            return
        self._result(seq, code < 500 and code != 408, code)

    def _result(self, seq: int, ok: bool, code: int | None) -> None:
        if seq != self._seq or self._stopped:
            return  # a late answer to an earlier probe
        self._seq += 1  # one result per probe
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.health.record(ok, code)
        self._next = Timer(self._probe, self.trunk.options_interval)  # one probe in flight at a time

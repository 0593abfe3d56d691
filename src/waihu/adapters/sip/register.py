"""Registration with carriers that require it: a REGISTER binding kept up per trunk.

sippy's registration agent does the work (digest answers to 401/407, another try 60 s after a
failure), renewing the binding before it runs out (halfway through a short one, a minute early
for a long one); ``Registration`` keeps its state where other threads can read it. Runs in the
SIP thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack, registration


class Registration:
    def __init__(self, stack: SipStack, trunk: SipTrunk, on_state: Callable[[bool], None] | None = None) -> None:
        self.stack = stack
        self.trunk = trunk
        self.on_state = on_state  # the trunk's health: registered or refused
        self.registered = False
        self.ok = 0  # successful REGISTERs (the first and every refresh)
        self.failures = 0
        self.last_status: str | None = None  # e.g. "SIP/2.0 403 Forbidden" after a failure
        self.expires_at: float | None = None  # wall-clock time the binding runs out
        self.last_ok_at: float | None = None
        self.unregistered = threading.Event()  # set once stopped (the binding removed, or none held)
        self.unregister_status: int | None = None  # the registrar's answer to the removal
        self._agent: Any = None

    def start(self) -> None:
        t = self.trunk
        if t.username is None:
            raise ValueError(f"trunk {t.name}: registering needs a username")
        self._agent = registration(self.stack.global_config, t.username, t.host, t.port, t.password,
                                   t.register_expires, on_ok=self._ok, on_fail=self._fail, transport=t.transport)
        self._agent.doregister()

    def stop(self) -> None:
        """Stop renewing; a binding held is removed (REGISTER with expires=0), so the carrier
        stops routing to an address that no longer answers."""
        agent, self._agent = self._agent, None
        if agent is not None and self.registered:
            agent.unregister(self._unregistered)
        else:
            if agent is not None:
                agent.stopregister()
            self.unregistered.set()
        self.registered = False

    def _unregistered(self, status: int) -> None:
        self.unregister_status = status
        self.unregistered.set()

    def _ok(self, expires_at: Any, contact: Any, arg: Any) -> None:
        self.registered = True
        self.ok += 1
        self.last_status = None
        self.expires_at = float(expires_at)
        self.last_ok_at = time.time()
        if self.on_state is not None:
            self.on_state(True)

    def _fail(self, status_line: Any, arg: Any) -> None:
        self.registered = False
        self.failures += 1
        self.last_status = str(status_line).strip()
        if self.on_state is not None:
            self.on_state(False)

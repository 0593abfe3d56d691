"""One lane of the live runtime: a dialer engine, a virtual loop and the simulated network for
one tenant. ``main`` lanes run campaigns and people; ``robot`` lanes place API calls that no
person takes, with simulated robot seats answering them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from waihu.adapters.simnet.agents import SimAgents
from waihu.adapters.simnet.loop import VirtualLoop
from waihu.adapters.simnet.model import AgentModel, CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.bootstrap import Platform
from waihu.domain.campaigns import DialMode, Disposition
from waihu.domain.messages import CampaignActivated, Command, DialTarget, Event, RecordHold
from waihu.engine.config import CampaignSpec
from waihu.engine.dialer import Dialer
from waihu.service.runtime import DialerRuntime
from waihu.service.screen import ScreenedStore, load_screen


class _NoLoadStore(SqlDialerStore):
    """A robot lane never claims a campaign's contacts: it only dials what the API hands it."""

    def load_contacts(self, campaign_id: str, limit: int, now: float) -> tuple[list[DialTarget], float | None]:
        return [], None


class Lane:
    def __init__(self, platform: Platform, tenant_id: str, kind: str, start: float, *, seed: int,
                 callee: CalleeModel, agent_model: AgentModel,
                 observe_event: Callable[[Lane, Event, float], None],
                 observe_command: Callable[[Lane, Command, float], None],
                 on_drained: Callable[[Lane, str, float], None]) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.loop = VirtualLoop(start)
        draws = Draws(seed)
        self.network = SimNetwork(self.loop, callee, draws, start)
        store_cls = _NoLoadStore if kind == "robot" else SqlDialerStore
        self.store = store_cls(platform.engine, platform.codec, tenant_id, autoflush=True)
        self.preset_id: str | None = None
        self.last_hold: RecordHold | None = None  # why the latest dial was held back
        # every dial, automatic or requested through the API, passes the tenant's compliance rules
        self.screen = load_screen(platform.engine, platform.codec.phone_hash, tenant_id)
        self.engine = Dialer(tenant_id, new_id=self._new_id, log_pacing=True, screen=self.screen)
        self.robots = SimAgents(self.loop, agent_model, draws, [], {})
        self.campaigns: set[str] = set()
        self._observe_event = observe_event
        self.runtime = DialerRuntime(
            self.engine, self.network, ScreenedStore(self.store, self.screen), self.loop, [self.robots],
            on_drained=lambda cid, now: on_drained(self, cid, now),
            observers=[self.screen.observe, self._note_hold, lambda cmd, now: observe_command(self, cmd, now)])

    def _note_hold(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, RecordHold):
            self.last_hold = cmd

    def _new_id(self) -> str:
        if self.preset_id is not None:
            cid, self.preset_id = self.preset_id, None
            return cid
        return uuid.uuid4().hex

    def feed(self, event: Event, now: float) -> None:
        """An action handed in now: a refusal raises to the caller."""
        self._observe_event(self, event, now)
        self.runtime.feed(event, now)

    def _deliver(self, event: Event, now: float) -> None:
        """An event from the loop: a late action of a (simulated) person is counted, not fatal."""
        self._observe_event(self, event, now)
        self.runtime.deliver(event, now)

    def activate(self, spec: CampaignSpec, dispositions: Sequence[Disposition], now: float) -> None:
        if self.kind == "robot":
            spec = dataclasses.replace(spec, mode=DialMode.MANUAL, pacer=None)
            self.robots.dispositions[spec.campaign_id] = list(dispositions)
            self.robots._cache.pop(spec.campaign_id, None)
        self.campaigns.add(spec.campaign_id)
        self.screen.reload()  # rules changed since the last start apply from now on
        self.feed(CampaignActivated(spec), now)

    def run_until(self, until: float, on_error: Callable[[Lane, Exception], Any]) -> None:
        while True:
            try:
                self.loop.run(self._deliver, until=until)
                return
            except Exception as e:  # one bad event must not stop the lane
                on_error(self, e)

"""One lane of the live runtime: a dialer engine, a virtual loop and the simulated network for
one tenant. ``main`` lanes run campaigns and people; ``robot`` lanes place API calls that no
person takes, with simulated robot seats answering them.

When the tenant has an enabled trunk, every dial goes through the router and the caller-ID
pool (``lines_runtime``), as in ``waihu demo``: the engine's route hook picks a trunk and a
caller ID (or holds the call back, with the reason), each CDR feeds the trunk's health and
statistics, a line-side loss is retried at once on another trunk, and the simulated line in
front of the callees writes the call's signaling log, which is stored a few seconds after
its CDR and then dropped from memory. The host hands each lane the tenant's router (one per
tenant, shared by its lanes, so a trunk's capacity and a caller ID's caps hold across them)
with the tenant's current trunks (``use_lines``). Without an enabled trunk, calls take the
default route, as before.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from waihu.adapters.simnet.agents import SimAgents
from waihu.adapters.simnet.loop import InboxLoop
from waihu.adapters.simnet.model import AgentModel, CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.adapters.simnet.trunked import TrunkedNetwork
from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.bootstrap import Platform
from waihu.domain.campaigns import DialMode, Disposition
from waihu.domain.messages import CampaignActivated, Command, DialTarget, Event, RecordHold, WriteCdr
from waihu.domain.trunks import Trunk
from waihu.engine.config import CampaignSpec, Route, default_route
from waihu.engine.dialer import Dialer
from waihu.ports import Telephony
from waihu.service.lines_runtime import LineModel, default_line, save_traces, trunked_network
from waihu.service.live_sip import LaneSip, SwitchedTelephony
from waihu.service.routing import RoutedLines
from waihu.service.runtime import DialerRuntime
from waihu.service.screen import ScreenedStore, load_screen

log = logging.getLogger("waihu.live")
TRACE_GRACE = 10.0  # a call's signaling log is stored this long after its CDR (late BYEs land first)
TRACE_EVERY = 2.0  # seconds between two writes of signaling logs
MAX_PENDING_TRACES = 20000  # logs kept while the database cannot take them; the oldest go first


class _NoLoadStore(SqlDialerStore):
    """A robot lane never claims a campaign's contacts: it only dials what the API hands it."""

    def load_contacts(self, campaign_id: str, limit: int, now: float) -> tuple[list[DialTarget], float | None]:
        return [], None


class Lane:
    def __init__(self, platform: Platform, tenant_id: str, kind: str, start: float, *, seed: int,
                 callee: CalleeModel, agent_model: AgentModel,
                 observe_event: Callable[[Lane, Event, float], None],
                 observe_command: Callable[[Lane, Command, float], None],
                 on_drained: Callable[[Lane, str, float], None],
                 line_model: LineModel = default_line, on_post: Callable[[], None] | None = None) -> None:
        self.platform = platform
        self.tenant_id = tenant_id
        self.kind = kind
        self.seed = seed
        self.loop = InboxLoop(start, on_post)  # the SIP thread reports calls into it
        draws = Draws(seed)
        self.network = SimNetwork(self.loop, callee, draws, start)
        self.line_model = line_model
        self.lines: RoutedLines | None = None  # the tenant's router (shared by its lanes), once it has trunks
        self.trunked: TrunkedNetwork | None = None  # this lane's simulated lines in front of the callees
        self.routing = False  # the next calls go through the tenant's trunks
        self.sip: LaneSip | None = None  # the tenant's SIP side, while it dials over SIP trunks
        # the SIP side it had last: its calls, agents' phones and signaling logs outlive a move
        # back to the simulated network
        self.sip_side: LaneSip | None = None
        self.switched: SwitchedTelephony | None = None  # once it has dialled over SIP
        self.ended: deque[tuple[float, str]] = deque()  # (CDR time, call id) of logs to store
        self._traces_at = start
        self._sip_traces_at = start
        store_cls = _NoLoadStore if kind == "robot" else SqlDialerStore
        self.store = store_cls(platform.engine, platform.codec, tenant_id, autoflush=True)
        self.preset_id: str | None = None
        self.last_hold: RecordHold | None = None  # why the latest dial was held back
        # every dial, automatic or requested through the API, passes the tenant's compliance rules
        self.screen = load_screen(platform.engine, platform.codec.phone_hash, tenant_id)
        self.engine = Dialer(tenant_id, new_id=self._new_id, log_pacing=True, screen=self.screen, route=self._route)
        self.robots = SimAgents(self.loop, agent_model, draws, [], {})
        self.campaigns: set[str] = set()
        self._observe_event = observe_event
        self.runtime = DialerRuntime(
            self.engine, self.network, ScreenedStore(self.store, self.screen), self.loop, [self.robots],
            on_drained=lambda cid, now: on_drained(self, cid, now),
            observers=[self.screen.observe, self._note_hold, self._observe_lines,
                       lambda cmd, now: observe_command(self, cmd, now)])

    # ------------------------------------------------------------------ trunks and caller IDs
    def use_lines(self, lines: RoutedLines | None, trunks: Sequence[Trunk], now: float, *,
                  sip: LaneSip | None = None) -> None:
        """Route the next calls with ``lines`` over ``trunks`` (None: the default route), on the
        simulated network, or over SIP with ``sip`` (the trunks are then the SIP ones)."""
        self.sip = sip
        self.sip_side = sip or self.sip_side
        if lines is None:
            self.routing = False
            if self.switched is not None:  # back from SIP: the default route, simulated
                self.switched.current = self.trunked or self.network
            return
        self.lines = lines
        if sip is not None:
            self._use_telephony(sip.tel)
        elif self.trunked is None:
            self.trunked = trunked_network(list(trunks), self.network, now, self.seed, self.line_model)
            self._use_telephony(self.trunked)
        else:
            for t in trunks:
                self.trunked.add_trunk(self.line_model(t))
            self._use_telephony(self.trunked)
        self.routing = True

    def _use_telephony(self, tel: Telephony) -> None:
        """Dial the next calls on ``tel``; once SIP is in play, each call ends where it started."""
        if self.switched is not None:
            self.switched.current = tel
        elif self.sip is not None:
            self.switched = SwitchedTelephony(tel)
            self.runtime.telephony = self.switched
        else:
            self.runtime.telephony = tel

    def _route(self, target: DialTarget, spec: CampaignSpec, now: float) -> Route:
        if self.routing and self.lines is not None:
            return self.lines.route(target, spec, now)
        return default_route(target, spec, now)

    def _observe_lines(self, cmd: Command, now: float) -> None:
        if self.sip_side is not None:
            self.sip_side.observe(cmd, now)
        if self.switched is not None and isinstance(cmd, WriteCdr):
            self.switched.ended(cmd.record.call_id)
        if self.lines is None:
            return
        self.lines.observe(cmd, now)  # trunk health and statistics; the trunk and the caller ID freed
        if isinstance(cmd, WriteCdr) and self.trunked is not None and cmd.record.call_id in self.trunked.traces:
            self.ended.append((now, cmd.record.call_id))

    def save_traces(self, now: float, *, force: bool = False) -> int:
        """Store the signaling logs of calls that ended ``TRACE_GRACE`` ago (all of them with
        ``force``), then drop them from memory. Returns how many were stored."""
        n = 0
        if self.sip_side is not None and (force or now >= self._sip_traces_at + TRACE_EVERY):
            self._sip_traces_at = now
            n = self.sip_side.save_traces(now if force else now - TRACE_GRACE)
        return n + self._save_sim_traces(now, force)

    def _save_sim_traces(self, now: float, force: bool) -> int:
        net = self.trunked
        if net is None or not self.ended or (not force and now < self._traces_at + TRACE_EVERY):
            return 0
        self._traces_at = now
        limit = now if force else now - TRACE_GRACE
        due: list[str] = []
        while self.ended and self.ended[0][0] <= limit:
            due.append(self.ended.popleft()[1])
        if not due:
            return 0
        try:
            with self.platform.uow(self.tenant_id, actor="system:dialer") as uow:
                n = save_traces(uow, net, due)
                uow.commit()
        except Exception:  # the database is away: try again next time, within bounds
            log.exception("could not store signaling logs")
            self.ended.extendleft(reversed([(limit, cid) for cid in due]))
            while len(self.ended) > MAX_PENDING_TRACES:
                net.forget(self.ended.popleft()[1])
            return 0
        for cid in due:
            net.forget(cid)
        return n

    def _note_hold(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, RecordHold):
            self.last_hold = cmd

    def _new_id(self) -> str:
        if self.preset_id is not None:
            cid, self.preset_id = self.preset_id, None
            return cid
        return uuid.uuid4().hex

    def feed(self, event: Event, now: float) -> None:
        """An action handed in now: a refusal raises to the caller. Over SIP an agent's login
        waits until the agent's phone answers (``LaneSip``)."""
        if self.sip is not None:
            held = self.sip.intercept(event, now)
            if held is None:
                return
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
        if self.sip_side is not None:
            for event in self.sip_side.poll(until):  # agents whose phone answered: logged in now
                try:
                    self._observe_event(self, event, until)
                    self.runtime.feed(event, until)
                except Exception as e:
                    on_error(self, e)
        while True:
            try:
                self.loop.run(self._deliver, until=until)
                return
            except Exception as e:  # one bad event must not stop the lane
                on_error(self, e)

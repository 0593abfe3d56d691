"""The live runtime host: the dialer of every tenant on the simulated network, in real time.

One asyncio task owns every engine: it maps wall-clock time to virtual time (``speed`` x the
wall clock) and runs each lane's virtual loop up to that moment every ``tick`` seconds. Others
(API requests, the web console) never touch an engine: they ``submit`` actions, which the task
applies in order, and read the snapshots (agent states, campaign counters, call states) that
the task keeps up to date. Tests drive time themselves with ``advance``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from waihu.adapters.simnet.model import AgentModel, CalleeModel
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.storage.models import Agent, Campaign, Tenant
from waihu.bootstrap import Platform
from waihu.domain.campaigns import CampaignState
from waihu.domain.errors import WaihuError
from waihu.domain.messages import Event
from waihu.service.campaigns import dispositions_of, spec_for
from waihu.service.dnc_follow import DncFollower
from waihu.service.lines_runtime import (
    LineModel,
    build_lines,
    default_line,
    lines_of,
    lines_signature,
    prime_caller_ids,
)
from waihu.service.live_lane import Lane
from waihu.service.live_observe import Observer
from waihu.service.live_sip import PHONE_ANSWER, LaneSip, SipHost, phone_address
from waihu.service.routing import RoutedLines
from waihu.service.sip_lines import has_sip_trunks, sip_trunks_of

log = logging.getLogger("waihu.live")
Action = Callable[["LiveHost", float], None]


@dataclass
class Submitted:
    tenant_id: str
    action: Action
    on_error: Callable[[WaihuError], None] | None = None


@dataclass
class TenantLive:
    lanes: dict[str, Lane] = field(default_factory=dict)
    robots: int = 0
    lines: RoutedLines | None = None  # the router over the tenant's trunks, shared by its lanes
    lines_sig: str | None = None  # what its trunks and caller IDs were when last read
    trunk_states: dict[str, dict[str, Any]] = field(default_factory=dict)  # the router's view, per trunk


def with_trunk_health(live: LiveHost | None, tenant_id: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trunk documents with the running router's view of each (``live``: health, in flight,
    ejections, reason; None when it does not route the tenant's calls over the trunk)."""
    health = live.trunks(tenant_id) if live is not None else {}
    for d in docs:
        d["live"] = health.get(d["name"])
    return docs


class _HostClock:
    """The ``Clock`` port on the host's time, read from any thread (the SIP adapter's clock)."""

    def __init__(self, host: LiveHost) -> None:
        self.host = host

    def now(self) -> float:
        return self.host.virtual_now()


class LiveHost:
    def __init__(self, platform: Platform, *, speed: float = 1.0, tick: float = 0.05, seed: int = 1,
                 callee: CalleeModel | None = None, agent_model: AgentModel | None = None,
                 start: float | None = None, line_model: LineModel = default_line,
                 sip_listen: tuple[str, int] | None = None, sip_stack: SipStack | None = None) -> None:
        if sip_listen is not None and speed != 1.0:
            raise ValueError("SIP trunks run in real time: speed must be 1")
        self.platform = platform
        self.line_model = line_model  # the simulated carrier behind each of a tenant's trunks
        self.speed = speed
        self.tick = tick
        self.seed = seed
        self.callee = callee or CalleeModel()
        self.agent_model = agent_model or AgentModel()
        self.wall0 = platform.clock.now()
        self.virtual0 = self.wall0 if start is None else start
        self.now = self.virtual0
        self.tenants: dict[str, TenantLive] = {}
        self.observer = Observer(self)
        self._queue: deque[Submitted] = deque()
        self._lock = threading.Lock()
        self.running = False
        self.errors = 0
        # DNC changes made before the host started are in the database already: not replayed
        self._dnc = DncFollower(platform.engine)
        # real SIP trunks (``service/live_sip.py``): the SIP stack binds at ``start_sip``
        self.sip = SipHost(platform, sip_listen, _HostClock(self), sip_stack) if sip_listen is not None else None
        self._sip_unavailable: set[str] = set()  # tenants told that their SIP trunks cannot be dialled
        self._aio: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    # ------------------------------------------------------------------ time
    def virtual_now(self) -> float:
        return self.virtual0 + self.speed * (self.platform.clock.now() - self.wall0)

    def wake(self) -> None:
        """Any thread: run the lanes now rather than at the next tick (a SIP event came in)."""
        aio, woken = self._aio, self._woken
        if aio is not None and woken is not None:
            aio.call_soon_threadsafe(woken.set)

    def start_sip(self) -> None:
        """Bind the SIP address (before serving: a taken port stops serve with an error)."""
        if self.sip is not None:
            self.sip.start()

    # ------------------------------------------------------------------ lanes
    def lane(self, tenant_id: str, kind: str = "main") -> Lane:
        t = self.tenants.setdefault(tenant_id, TenantLive())
        lane = t.lanes.get(kind)
        if lane is None:
            ob = self.observer
            lane = Lane(self.platform, tenant_id, kind, self.now, seed=self.seed + len(t.lanes),
                        callee=self.callee, agent_model=self.agent_model, observe_event=ob.event,
                        observe_command=ob.command, on_drained=ob.drained, line_model=self.line_model,
                        on_post=self.wake)
            t.lanes[kind] = lane
            self._reload_lines(tenant_id, self.now)
        return lane

    def _reload_lines(self, tenant_id: str, now: float) -> None:
        """Runtime task: the tenant's lanes route the next calls over its current trunks and caller
        IDs: over SIP when its enabled trunks have SIP addresses and the host has a SIP stack
        (then only those trunks), else on the simulated network."""
        t = self.tenants[tenant_id]
        first = next(iter(t.lanes.values()))
        with self.platform.uow(tenant_id) as uow:
            sig = lines_signature(uow)
            trunks, cids = lines_of(uow)
            sip_trunks = sip_trunks_of(uow)
            on_sip = bool(sip_trunks) and self.sip is not None
            if sip_trunks:  # a tenant with real lines dials only them; never the simulated network
                names = {x.name for x in sip_trunks}
                trunks = [x for x in trunks if x.name in names] if on_sip else []
                if not on_sip and tenant_id not in self._sip_unavailable:
                    self._sip_unavailable.add(tenant_id)
                    self.observer.alert(tenant_id, "line.sip_unavailable", "the tenant's trunks have SIP addresses "
                                        "but serve runs without --sip-listen: its calls are held", now,
                                        trunks=sorted(names))
            routed = bool(trunks) or bool(sip_trunks)  # with no trunk it can use, its calls are held
            status = None if on_sip else first.network  # number checks of the simulated network
            fresh = routed and t.lines is None
            if fresh:  # today's caller-ID use so far (CDRs) counts against the caps
                t.lines = build_lines(trunks, cids, self.seed, number_status=status)
                prime_caller_ids(uow, t.lines, now)
        t.lines_sig = sig
        if routed and not fresh and t.lines is not None:
            t.lines.reconfigure(trunks, cids)
        if t.lines is not None:
            t.lines.number_status = status
        ls: LaneSip | None = None
        if on_sip and self.sip is not None and "main" in t.lanes:
            ls = self.sip.lane_sip(tenant_id, sip_trunks, t.lanes["main"].loop, self._trunk_state(tenant_id))
        elif self.sip is not None:
            self.sip.release(tenant_id)
        for kind, lane in t.lanes.items():
            lane.use_lines(t.lines if routed else None, trunks, now, sip=ls if kind == "main" else None)

    def _trunk_state(self, tenant_id: str) -> Callable[[str, bool], None]:
        """What the SIP thread calls when OPTIONS probes or registration find a trunk down or up."""
        def changed(name: str, up: bool) -> None:
            def act(host: LiveHost, now: float) -> None:
                lines = host.tenants[tenant_id].lines
                if lines is not None:
                    lines.trunk_signal(name, up, now)
            self.submit(tenant_id, act)
            self.wake()
        return changed

    def check_login(self, tenant_id: str, agent: Agent) -> None:
        """Any thread: refuse at once the login of an agent whose phone cannot be called (none,
        or its SIP account's phone not registered) when the tenant dials over SIP trunks (the
        dialer would refuse it later, out of the caller's sight)."""
        if self.sip is not None and self.dials_over_sip(tenant_id):
            phone_address(self.sip.registrar, tenant_id, agent.id, agent.phone_uri, agent.sip_user)

    def dials_over_sip(self, tenant_id: str) -> bool:
        """Any thread: the tenant's calls go out over SIP trunks (a SIP stack and SIP trunks)."""
        if self.sip is None:
            return False
        with self.platform.uow(tenant_id) as uow:
            return has_sip_trunks(uow)

    def load_running(self) -> int:
        """Activate every tenant's running campaigns (at start-up). Returns how many."""
        n = 0
        with self.platform.uow("") as uow:
            tids = list(uow.session.scalars(select(Tenant.id)))
            rows = list(uow.session.scalars(select(Campaign).where(
                Campaign.state == CampaignState.RUNNING.value, Campaign.tenant_id.in_(tids))))
        for c in rows:
            self.lane(c.tenant_id).activate(spec_for(c), dispositions_of(c), self.now)
            n += 1
        return n

    # ------------------------------------------------------------------ the queue
    def submit(self, tenant_id: str, action: Action, on_error: Callable[[WaihuError], None] | None = None) -> None:
        """Thread-safe: queue an action for the runtime task (``action(host, now)``)."""
        with self._lock:
            self._queue.append(Submitted(tenant_id, action, on_error))

    def feed(self, tenant_id: str, event: Event, kind: str = "main") -> Action:
        def act(host: LiveHost, now: float) -> None:
            host.lane(tenant_id, kind).feed(event, now)
        return act

    def _each_lane(self, tenant_id: str, fn: Callable[[Lane], None]) -> None:
        """Thread-safe: apply ``fn`` to each of the tenant's lanes, on the runtime task."""
        def act(host: LiveHost, now: float) -> None:
            for lane in host.tenants.get(tenant_id, TenantLive()).lanes.values():
                fn(lane)
        self.submit(tenant_id, act)

    def dnc_changed(self, tenant_id: str, hashes: Collection[str] | None) -> None:
        """Thread-safe: numbers joined or left a DNC list (None: many did); the tenant's dialers
        read them again."""
        self._each_lane(tenant_id, lambda lane: lane.screen.refresh_changed(hashes))

    def rules_changed(self, tenant_id: str) -> None:
        """Thread-safe: the tenant's compliance rules changed; its dialers apply them from now on."""
        self._each_lane(tenant_id, lambda lane: lane.screen.reload())

    def lines_changed(self, tenant_id: str) -> None:
        """Thread-safe: the tenant's trunks or caller IDs changed; its dialers route the next calls
        over the current ones (calls in flight end on the lines they took)."""
        def act(host: LiveHost, now: float) -> None:
            if host.tenants.get(tenant_id, TenantLive()).lanes:
                host._reload_lines(tenant_id, now)
        self.submit(tenant_id, act)

    def check_lines(self) -> int:
        """Any thread: find the tenants whose trunks or caller IDs changed elsewhere (another
        process, e.g. the CLI) and have their dialers take them. Returns how many changed."""
        changed = 0
        for tid, t in list(self.tenants.items()):
            if t.lines_sig is None:
                continue
            with self.platform.uow(tid) as uow:
                sig = lines_signature(uow)
            if sig != t.lines_sig:
                self.lines_changed(tid)
                changed += 1
        return changed

    def check_dnc(self) -> int:
        """Any thread (one at a time): find the DNC changes made since the last look (by any
        process: the CLI, another API worker, a dialer's disposition) and have the dialers of the
        tenants concerned read those numbers again (the global list: every tenant's). Returns how
        many changes were found."""
        found, wanted = self._dnc.poll(list(self.tenants))
        for tid, hashes in wanted.items():
            self.dnc_changed(tid, hashes)
        return found

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    return
                item = self._queue.popleft()
            try:
                item.action(self, self.now)
            except WaihuError as e:
                if item.on_error is not None:
                    item.on_error(e)
                else:
                    log.info("live action rejected: %s", e.code)
            except Exception:
                self.errors += 1
                log.exception("live action failed")

    def _lane_error(self, lane: Lane, e: Exception) -> None:
        self.errors += 1
        code = e.code if isinstance(e, WaihuError) else type(e).__name__
        log.warning("live event failed: %s", code)
        self.observer.alert(lane.tenant_id, "dialer.event_failed", f"the dialer could not process an event ({code})",
                            self.now)

    # ------------------------------------------------------------------ driving time
    def advance(self, to: float) -> None:
        """Run every lane up to virtual time ``to``, then apply the queued actions at ``to``.

        Only the runtime task (or a test driving time itself) may call this."""
        self.now = max(self.now, to)
        self._run_lanes()
        self._drain()
        self._run_lanes()

    def _run_lanes(self) -> None:
        for tid, t in list(self.tenants.items()):
            for lane in list(t.lanes.values()):
                lane.run_until(self.now, self._lane_error)
                lane.save_traces(self.now)
                if lane.sip_side is not None:
                    for agent_id, reason in lane.sip_side.failures:
                        self.observer.alert(tid, "agent.phone_unreachable", "the agent's phone did not take the "
                                            "login call: the agent stays logged out", self.now, agent_id=agent_id,
                                            reason=reason)
                    lane.sip_side.failures.clear()
            if t.lines is not None:
                self._lines_news(tid, t, t.lines)

    def _lines_news(self, tid: str, t: TenantLive, lines: RoutedLines) -> None:
        """Keep the router's view of each trunk for readers; tell of trunks it ejected and of calls
        no line could take (alert webhooks; the router reports a business and region once until a
        line takes its calls again)."""
        router = lines.router
        for at, trunk, event, reason in router.transitions:
            if event in ("eject", "probe_fail"):
                self.observer.alert(tid, "trunk.ejected", f"trunk {trunk} was taken out of routing", at,
                                    trunk=trunk, reason=reason)
        router.transitions.clear()
        for a in router.alerts:
            self.observer.alert(tid, "line.none_available", f"no line can take {a.business} calls"
                                f"{' to ' + a.region if a.region else ''}: {a.reason}", a.at,
                                business=a.business, region=a.region, reason=a.reason)
        router.alerts.clear()
        t.trunk_states = {name: {"health": tl.breaker.state.value, "in_flight": tl.in_flight,
                                 "usable_concurrency": int(tl.usable), "ejections": tl.breaker.ejections,
                                 "reason": tl.breaker.last_reason or None}
                          for name, tl in router.live.items()}

    async def run(self) -> None:
        """The one task that owns the engines (started by ``waihu serve``)."""
        self.running = True
        self._aio = asyncio.get_running_loop()
        woken = self._woken = asyncio.Event()
        try:
            while self.running:
                woken.clear()  # an event posted from now on wakes the wait below at once
                self.advance(self.virtual_now())
                with contextlib.suppress(TimeoutError):  # the next tick, or at once on a SIP event
                    await asyncio.wait_for(woken.wait(), self.tick)
        finally:
            self.running = False
            self._aio = self._woken = None

    def stop(self) -> None:
        self.running = False
        if self.sip is not None:  # agents' phones hung up, probes and registrations stopped
            self.sip.stop()
        for t in self.tenants.values():
            for lane in t.lanes.values():
                lane.store.flush()
                try:
                    lane.save_traces(self.now, force=True)
                except Exception:
                    log.exception("could not store signaling logs")

    # ------------------------------------------------------------------ reads (any thread)
    def agents(self, tenant_id: str) -> list[dict[str, Any]]:
        return [dict(v) for v in self.observer.agents.get(tenant_id, {}).values()]

    def agent(self, tenant_id: str, agent_id: str) -> dict[str, Any] | None:
        a = self.observer.agents.get(tenant_id, {}).get(agent_id)
        if a is None or a["state"] == "offline":  # over SIP: logging in, the agent's phone rings
            lane = self.tenants.get(tenant_id, TenantLive()).lanes.get("main")
            pending = lane.sip_side.pending.get(agent_id) if lane is not None and lane.sip_side is not None else None
            if pending is not None:
                return {"agent_id": agent_id, "state": "phone_ringing", "since": pending.deadline - PHONE_ANSWER,
                        "call_id": None, "campaign_id": None, "reason": None, "offer": None}
        return dict(a) if a is not None else None

    def trunks(self, tenant_id: str) -> dict[str, dict[str, Any]]:
        """The router's view of each trunk the tenant routes over now (health: enabled, ejected,
        probing); empty when its calls take the default route."""
        t = self.tenants.get(tenant_id)
        return {k: dict(v) for k, v in t.trunk_states.items()} if t is not None else {}

    def counters(self, tenant_id: str) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.observer.counters.get(tenant_id, {}).items()}

    def call(self, tenant_id: str, call_id: str) -> dict[str, Any] | None:
        calls = self.observer.calls.get(tenant_id)
        c = calls.get(call_id) if calls is not None else None
        return dict(c) if c is not None else None

    def notify(self, tenant_id: str, kind: str, doc: dict[str, Any]) -> None:
        """Tell the listeners of a change found outside the engines (e.g. an alert fired)."""
        self.observer._tell(tenant_id, kind, doc)

    def listen(self, fn: Callable[[str, str, dict[str, Any]], None]) -> Callable[[], None]:
        """Be told of every change (``fn(tenant_id, kind, doc)``, kind: agent, call or campaign), on
        the runtime task; e.g. to feed a wallboard. Returns a function that stops it."""
        self.observer.listeners.append(fn)
        return lambda: self.observer.listeners.remove(fn) if fn in self.observer.listeners else None

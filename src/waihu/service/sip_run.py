"""Run a campaign over real SIP trunks, in real time (``waihu run``).

The same engine, store, compliance screen and router as everywhere else, driven by asyncio
and the wall clock, with ``SipTelephony`` as the telephone network: the campaign's contacts
are dialled through the given SIP trunks (routed by the tenant's trunk records of the same
names when it has any), answered calls are bridged to the agents' SIP phones (nailed-up legs
called when the run starts), every CDR is written as the call ends and every call's SIP
signaling log is kept next to it (``waihu call trace``). Agents' wrap-up ends after the
campaign's wrap-up limit (or ``wrap_seconds``): this headless runner has no agent desk.

The run ends when the campaign has nothing left to dial, after ``max_seconds``, or on
``stop()`` (SIGINT/SIGTERM from the command line); agents' phones are hung up and every
record is flushed before it returns.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk, parse_sip_uri
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.adapters.storage.models import Agent, Cdr
from waihu.bootstrap import Platform
from waihu.domain.campaigns import CampaignState
from waihu.domain.errors import Conflict, ErrorDetail, ValidationError
from waihu.domain.messages import AgentLoggedIn, AgentLoggedOut, CampaignActivated, Command, WriteCdr
from waihu.domain.timeutil import to_dt
from waihu.engine.config import default_route
from waihu.engine.dialer import Dialer
from waihu.service.campaigns import find_campaign, spec_for
from waihu.service.directory import create_agent
from waihu.service.dnc_follow import DNC_EVERY, DncFollower
from waihu.service.lines import visible_trunks
from waihu.service.lines_runtime import build_lines, lines_of, prime_caller_ids
from waihu.service.live_sip import sip_trace_row
from waihu.service.routing import RoutedLines
from waihu.service.runtime import DialerRuntime
from waihu.service.screen import ScreenedStore, load_screen

UNREGISTER_WAIT = 3.0  # seconds the run waits at its end for carriers to confirm removed bindings
TRACE_BATCH = 500  # signaling logs are stored in batches of this many calls

log = logging.getLogger(__name__)


@dataclass
class SipRunConfig:
    campaign: str
    trunks: list[SipTrunk]
    agents: dict[str, str]  # agent code -> SIP URI of the agent's phone
    listen: tuple[str, int] = ("127.0.0.1", 5060)
    wrap_seconds: float = 10.0  # agents' wrap-up when the campaign sets no limit
    max_seconds: float | None = None
    login_timeout: float = 10.0  # how long the agents' phones may take to answer the login call


def parse_pairs(values: Sequence[str], what: str) -> dict[str, str]:
    """``NAME=sip:...`` options -> {name: uri}; every bad one reported."""
    out: dict[str, str] = {}
    problems: list[ErrorDetail] = []
    for i, v in enumerate(values, 1):
        name, sep, uri = v.partition("=")
        name = name.strip()
        if not sep or not name or not uri.strip():
            problems.append(ErrorDetail(f"run.invalid_{what}", f"expected NAME=sip:..., got {v!r}", row=i,
                                        field=what))
            continue
        try:
            parse_sip_uri(uri.strip())
        except ValueError as e:
            problems.append(ErrorDetail(f"run.invalid_{what}", str(e), row=i, field=what))
            continue
        if name in out:
            problems.append(ErrorDetail(f"run.duplicate_{what}", f"{name} is given twice", row=i, field=what))
        out[name] = uri.strip()
    if problems:
        raise ValidationError(f"run.invalid_{what}s", f"bad --{what} options", problems)
    return out


def sip_trunks(pairs: dict[str, str], *, use_pai: bool = False, register: bool = False,
               options_interval: float = 30.0) -> list[SipTrunk]:
    """``{name: sip URI}`` -> trunks (registering only those with a user); every bad one reported."""
    out: list[SipTrunk] = []
    problems: list[ErrorDetail] = []
    for i, (name, uri) in enumerate(pairs.items(), 1):
        try:
            t = SipTrunk.from_uri(name, uri, use_pai=use_pai, options_interval=options_interval)
            out.append(dataclasses.replace(t, register=register and bool(t.username)))
        except ValueError as e:
            problems.append(ErrorDetail("run.invalid_trunk", str(e), row=i, field="trunk"))
    if problems:
        raise ValidationError("run.invalid_trunks", "bad --trunk options", problems)
    return out


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError("run.invalid_listen", "--listen takes HOST:PORT, e.g. 0.0.0.0:5060",
                              [ErrorDetail("run.invalid_listen", f"not HOST:PORT: {value!r}", field="listen")])
    return host, int(port)


@dataclass
class SipRun:
    """One run: build with ``prepare`` (validates everything first), then ``await run()``."""

    platform: Platform
    tenant_id: str
    cfg: SipRunConfig
    campaign_id: str = ""
    agent_ids: dict[str, str] = field(default_factory=dict)  # code -> agent id
    created_agents: list[str] = field(default_factory=list)
    routed_trunks: list[str] = field(default_factory=list)
    _stop: asyncio.Event | None = None
    _traces: list[str] = field(default_factory=list)  # calls whose signaling log is not stored yet
    _saved: int = 0
    _tel: SipTelephony | None = None

    def prepare(self) -> None:
        """Check the campaign, the agents and the trunks; create missing agents. Nothing is dialled."""
        now = self.platform.clock.now()
        with self.platform.uow(self.tenant_id, actor="local-operator:run") as uow:
            c = find_campaign(uow, self.cfg.campaign)
            if c is None:
                raise ValidationError("campaign.not_found", f"no campaign named {self.cfg.campaign!r}")
            if c.state != CampaignState.RUNNING.value:
                raise Conflict("campaign.not_running", "start the campaign first (waihu campaign start NAME)")
            self.campaign_id = c.id
            db_trunks = {t.name: t for t in visible_trunks(uow) if t.enabled}
            names = [t.name for t in self.cfg.trunks]
            if db_trunks:
                unknown = [n for n in names if n not in db_trunks]
                if unknown:
                    raise ValidationError("run.unknown_trunk", "every --trunk must name one of the tenant's "
                                          "enabled trunks (waihu trunks list)",
                                          [ErrorDetail("run.unknown_trunk", f"no enabled trunk {n!r}", field="trunk")
                                           for n in unknown])
                self.routed_trunks = names
            elif len(names) > 1:
                raise ValidationError("run.trunks_not_registered", "several trunks need the tenant's trunk records "
                                      "(capacity, cps, regions) to route between them: waihu trunks add NAME ...")
            for code in self.cfg.agents:
                a = uow.session.scalar(select(Agent).where(Agent.tenant_id == self.tenant_id, Agent.code == code))
                if a is None:
                    a = create_agent(uow, code, code, [], now)
                    self.created_agents.append(code)
                self.agent_ids[code] = a.id
            uow.commit()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def run(self) -> dict[str, Any]:
        p, tid, cfg = self.platform, self.tenant_id, self.cfg
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        sched = AsyncioScheduler(loop)
        with p.uow(tid) as uow:
            c = find_campaign(uow, cfg.campaign)
            assert c is not None
            spec = spec_for(c)
            trunks, cids = lines_of(uow)
            db_trunks = [t for t in trunks if t.name in self.routed_trunks]
        if spec.wrap_limit is None:
            spec = dataclasses.replace(spec, wrap_limit=cfg.wrap_seconds)
        lines: RoutedLines | None = None
        if db_trunks:
            by_name = {t.name: t.trunk_id for t in db_trunks}
            lines = build_lines(db_trunks, cids, seed=1)
            with p.uow(tid) as uow:
                prime_caller_ids(uow, lines, sched.now())
            sip_trunks = [dataclasses.replace(t, name=by_name[t.name]) for t in cfg.trunks]
        else:
            sip_trunks = list(cfg.trunks)
            spec = dataclasses.replace(spec, default_trunk=sip_trunks[0].name)

        def trunk_state(name: str, up: bool) -> None:  # SIP thread -> the loop
            if lines is not None:
                loop.call_soon_threadsafe(lines.trunk_signal, name, up, sched.now())

        stack = SipStack(cfg.listen[0], cfg.listen[1])
        stack.start()
        tel = SipTelephony(stack, sip_trunks, sched, sched.clock, on_trunk_state=trunk_state)
        self._tel = tel
        screen = load_screen(p.engine, p.codec.phone_hash, tid, [self.campaign_id])
        store = SqlDialerStore(p.engine, p.codec, tid, autoflush=True)
        engine = Dialer(tid, screen=screen, route=lines.route if lines is not None else default_route)
        observers: list[Callable[[Command, float], None]] = [screen.observe, self._note_cdr]
        if lines is not None:
            observers.append(lines.observe)
        follower = DncFollower(p.engine)

        async def follow_dnc() -> None:  # DNC entries added or removed meanwhile (CLI, API, console)
            while True:
                await asyncio.sleep(DNC_EVERY)
                try:
                    _, wanted = await asyncio.to_thread(follower.poll, [tid])
                    if tid in wanted:
                        screen.refresh_changed(wanted[tid])
                except Exception:
                    log.exception("dnc check failed")

        drained = asyncio.Event()
        runtime = DialerRuntime(engine, tel, ScreenedStore(store, screen), sched, observers=observers,
                                on_drained=lambda _c, _t: drained.set())
        sched.bind(runtime.deliver)
        t0, started = time.monotonic(), sched.now()
        logged_in: list[str] = []
        try:
            tel.start()
            for code, uri in cfg.agents.items():
                tel.login_agent(self.agent_ids[code], uri)
            deadline = time.monotonic() + cfg.login_timeout
            while time.monotonic() < deadline and any(
                    tel.agent_state(a) not in ("idle",) for a in self.agent_ids.values()):
                await asyncio.sleep(0.05)
            logged_in = [code for code, a in self.agent_ids.items() if tel.agent_state(a) == "idle"]
            runtime.feed(CampaignActivated(spec), sched.now())
            for code in logged_in:
                runtime.feed(AgentLoggedIn(self.agent_ids[code]), sched.now())
            dnc_task = asyncio.create_task(follow_dnc())
            waits = [asyncio.create_task(drained.wait()), asyncio.create_task(self._stop.wait())]
            _, pending = await asyncio.wait(waits, timeout=cfg.max_seconds, return_when=asyncio.FIRST_COMPLETED)
            for t in [*pending, dnc_task]:
                t.cancel()
            reason = "drained" if drained.is_set() else ("stopped" if self._stop.is_set() else "max_seconds")
            for code in logged_in:  # finish the calls in progress, then let the agents go
                runtime.feed(AgentLoggedOut(self.agent_ids[code]), sched.now())
            settle = time.monotonic() + 60
            while (engine.calls or engine.wrapping) and time.monotonic() < settle and reason != "stopped":
                await asyncio.sleep(0.05)
            for a in self.agent_ids.values():
                tel.logout_agent(a)
            off = time.monotonic() + 5
            while time.monotonic() < off and any(tel.agent_state(a) != "offline" for a in self.agent_ids.values()):
                await asyncio.sleep(0.05)
        finally:
            tel.stop()
            await asyncio.to_thread(tel.wait_unregistered, UNREGISTER_WAIT)  # bindings removed at the carriers
            store.flush()
            self._save_traces(tel)
            stack.stop()
        with p.uow(tid) as uow:
            rows = list(uow.session.execute(select(Cdr.outcome, Cdr.trunk_id).where(
                Cdr.tenant_id == tid, Cdr.campaign_id == self.campaign_id, Cdr.dial_at >= to_dt(started - 1.0))))
        return {"campaign": cfg.campaign, "campaign_id": self.campaign_id, "ended": reason,
                "seconds": round(time.monotonic() - t0, 1), "agents": sorted(cfg.agents),
                "agents_logged_in": sorted(logged_in), "agents_created": self.created_agents,
                "trunks": [t.name for t in cfg.trunks], "routed": bool(db_trunks),
                "cdrs": len(rows), "outcomes": dict(sorted(Counter(o for o, _ in rows).items())),
                "signaling_logs": self._saved, "refused_actions": len(runtime.refused)}

    def _note_cdr(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, WriteCdr):
            self._traces.append(cmd.record.call_id)
            if len(self._traces) >= TRACE_BATCH and self._tel is not None:
                self._save_traces(self._tel)  # long runs: stored as they go, memory stays bounded

    def _save_traces(self, tel: SipTelephony) -> None:
        found = (sip_trace_row(self.tenant_id, call_id, tel) for call_id in self._traces)
        rows = [r for r in found if r is not None]
        self._traces.clear()
        self._saved += len(rows)
        if rows:
            with self.platform.uow(self.tenant_id, actor="local-operator:run") as uow:
                uow.session.add_all(rows)
                uow.commit()


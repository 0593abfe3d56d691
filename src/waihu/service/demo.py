"""``waihu demo``: a whole campaign on the simulated telephone network, in virtual time."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from waihu.adapters.simnet.agents import SimAgents
from waihu.adapters.simnet.loop import VirtualLoop
from waihu.adapters.simnet.model import AgentModel, CalleeModel, Draws
from waihu.adapters.simnet.network import SimNetwork
from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.adapters.storage.models import Agent, AgentSession, AuditEntry, CampaignContact
from waihu.adapters.storage.uow import UnitOfWork
from waihu.bootstrap import Platform
from waihu.domain.campaigns import CampaignState, ContactState, Disposition
from waihu.domain.errors import Conflict, ValidationError
from waihu.domain.messages import (
    AgentChanged,
    AgentLoggedIn,
    AgentLoggedOut,
    CampaignActivated,
    CampaignDeactivated,
    Command,
    Dial,
    UpdateContact,
)
from waihu.domain.phone import PhoneNumber
from waihu.domain.timeutil import to_dt
from waihu.engine.config import CampaignSpec, allow_all, default_route
from waihu.engine.dialer import Dialer
from waihu.numbering import NumberInfo, normalize
from waihu.ports import DialerStore
from waihu.service.campaigns import (
    create_campaign,
    dispositions_of,
    find_campaign,
    get_campaign,
    spec_for,
    transition,
)
from waihu.service.contacts import merge_rows
from waihu.service.importing.mapping import ParsedRow
from waihu.service.lines_runtime import routed_simulation, save_traces
from waihu.service.runtime import DialerRuntime
from waihu.service.screen import ScreenedStore, load_screen
from waihu.service.summary import campaign_summary
from waihu.service.tenants import audit, ensure_tenant, find_tenant

DEFAULT_START = datetime.fromisoformat("2026-01-05T09:00:00+08:00").timestamp()  # a Monday, 09:00 Shanghai
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "185", "186",
                   "187", "188", "189")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏辉玲"


@dataclass
class DemoConfig:
    agents: int = 20
    contacts: int = 2000
    mode: str = "progressive"
    seed: int = 7
    start: float = DEFAULT_START
    hours: float | None = None  # stop the shift after this long (None: run until every contact ends)
    callee: CalleeModel = field(default_factory=CalleeModel)
    agent: AgentModel = field(default_factory=AgentModel)
    tenant: str = "demo"
    compliance: bool = True  # screen every dial with the tenant's compliance rules (calling window, caps)
    shift: tuple[str, str] | None = ("09:00", "21:00")  # simulated agents' working hours (None: around the clock)
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class ShiftChange:
    """Simulated agents start (``on``) or end their working day."""

    on: bool


def next_shift_change(t: float, shift: tuple[str, str], tz: str) -> tuple[float, bool]:
    """The first shift boundary after ``t``: (time, True for a start / False for an end)."""
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(t, zone)
    (h0, m0), (h1, m1) = (map(int, x.split(":")) for x in shift)
    for days in range(0, 3):
        day = (local + timedelta(days=days)).date()
        for h, m, on in ((h0, m0, True), (h1, m1, False)):
            at = datetime(day.year, day.month, day.day, h, m, tzinfo=zone).timestamp()
            if at > t:
                return at, on
    raise ValueError("no shift boundary within two days")


def on_shift(t: float, shift: tuple[str, str], tz: str) -> bool:
    return not next_shift_change(t, shift, tz)[1]


def seeded_ids(seed: int, salt: str = "") -> Callable[[], str]:
    """Record ids drawn from the seed (the same run gives the same ids on a fresh database); a
    ``salt`` names a later run on the same database, so its ids differ from the earlier ones'."""
    rng = random.Random(f"{seed}:ids{':' + salt if salt else ''}")
    return lambda: uuid.UUID(int=rng.getrandbits(128), version=4).hex


def demo_rows(n: int, seed: int) -> list[ParsedRow]:
    rng = random.Random(f"{seed}:contacts")
    rows: list[ParsedRow] = []
    seen: set[str] = set()
    # numbers come from a few hundred 7-digit mobile blocks (a list clusters by region, as real ones do);
    # every number of a block shares its validity, region, carrier and time zone
    blocks: list[NumberInfo] = []
    while len(blocks) < max(1, min(400, n // 20)):
        raw = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        try:
            blocks.append(normalize(raw))
        except ValidationError:
            continue
    while len(rows) < n:
        template = rng.choice(blocks)
        raw = template.phone.e164[3:10] + f"{rng.randrange(10**4):04d}"
        if raw in seen:
            continue
        info = replace(template, phone=PhoneNumber("+86" + raw))
        seen.add(raw)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        fields: dict[str, str | int | list[str]] = {"age": rng.randint(20, 65), "source": "demo"}
        rows.append(ParsedRow(row=len(rows) + 2, phones=[info], name=name, fields=fields, attributes={}))
    return rows


def run_demo(platform: Platform, cfg: DemoConfig,
             progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    if cfg.agents < 1 or cfg.contacts < 1:
        raise ValidationError("demo.invalid_size", "the demo needs at least one agent and one contact")
    start = cfg.start
    base = f"demo-{cfg.mode}-seed{cfg.seed}"
    name, n = base, 1
    with platform.uow("") as uow:  # a demo run again on the same database is its own campaign
        known = find_tenant(uow, cfg.tenant.strip())
        if known is not None:
            uow.tenant_id = known
            while find_campaign(uow, name) is not None:
                n += 1
                name = f"{base}-{n}"
    new_id = seeded_ids(cfg.seed, "" if n == 1 else name)
    with platform.uow("") as uow:
        uow.new_id = new_id
        tid = ensure_tenant(uow, cfg.tenant, start)
        campaign = create_campaign(uow, name, start, job_type="marketing", mode=cfg.mode)
        merge_rows(uow, demo_rows(cfg.contacts, cfg.seed), start, campaign_id=campaign.id, filename="demo")
        agent_ids = simulated_agents(uow, cfg.agents, start, new_id)
        transition(uow, campaign, "start", start)
        spec = spec_for(campaign)
        disps = dispositions_of(campaign)
        uow.commit()

    summary = simulate(platform, tid, campaign.id, spec, disps, agent_ids, cfg, new_id, progress)
    summary["agents"] = cfg.agents
    summary["seed"] = cfg.seed
    return summary


def simulated_agents(uow: UnitOfWork, count: int, now: float, new_id: Callable[[], str]) -> list[str]:
    """Ids of ``count`` simulated agents of the tenant (SIM0001, ...), created when missing."""
    ids = []
    for i in range(count):
        code = f"SIM{i + 1:04d}"
        a = uow.session.scalar(select(Agent).where(Agent.tenant_id == uow.tenant_id, Agent.code == code))
        if a is None:
            a = Agent(id=new_id(), tenant_id=uow.tenant_id, code=code, name=f"模拟座席 {code}", groups=[],
                      simulated=True, created_at=to_dt(now))
            uow.session.add(a)
        ids.append(a.id)
    return ids


def run_campaign_simulated(platform: Platform, tid: str, name: str, cfg: DemoConfig,
                           progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """Dial a running campaign on the simulated network with simulated agents (virtual time)."""
    with platform.uow(tid) as uow:
        c = get_campaign(uow, name)
        if c.state != CampaignState.RUNNING.value:
            raise Conflict("campaign.not_running", "start the campaign first (waihu campaign start)")
        runs = int(uow.session.scalar(select(func.count()).where(  # earlier runs of it, on this database
            AuditEntry.tenant_id == tid, AuditEntry.action == "campaign.simulated_run",
            AuditEntry.object_id == c.id)) or 0)
        new_id = seeded_ids(cfg.seed, f"{c.id}:{runs}" if runs else "")
        uow.new_id = new_id
        audit(uow, "campaign.simulated_run", "campaign", c.id, cfg.start, seed=cfg.seed, agents=cfg.agents)
        agent_ids = simulated_agents(uow, cfg.agents, cfg.start, new_id)
        spec = spec_for(c)
        disps = dispositions_of(c)
        cfg.contacts = int(uow.session.scalar(select(func.count()).where(
            CampaignContact.campaign_id == c.id, CampaignContact.tenant_id == tid)) or 0)
        uow.commit()
    summary = simulate(platform, tid, c.id, spec, disps, agent_ids, cfg, new_id, progress)
    summary["agents"] = cfg.agents
    summary["seed"] = cfg.seed
    return summary


def simulate(platform: Platform, tid: str, campaign_id: str, spec: CampaignSpec, disps: list[Disposition],
             agent_ids: list[str], cfg: DemoConfig, new_id: Callable[[], str],
             progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """Run one campaign on the simulated network with simulated agents, in virtual time."""
    start = cfg.start
    spec.buffer_size = max(spec.buffer_size, 2 * len(agent_ids), 1000)  # fewer, larger claims
    loop = VirtualLoop(start)
    draws = Draws(cfg.seed)
    network = SimNetwork(loop, cfg.callee, draws, start)
    with platform.uow(tid) as uow:  # the tenant's trunks and caller IDs, when it has any
        routed = routed_simulation(uow, network, start, cfg.seed)
    sim_agents = SimAgents(loop, cfg.agent, draws, agent_ids, {campaign_id: disps})
    screen = load_screen(platform.engine, platform.codec.phone_hash, tid, [campaign_id]) if cfg.compliance else None
    engine = Dialer(tid, new_id=new_id, screen=screen or allow_all,
                    route=default_route if routed is None else routed.lines.route,
                    log_pacing=spec.pacer is not None)  # `waihu campaign pacing-log` explains each decision
    store: DialerStore = SqlDialerStore(platform.engine, platform.codec, tid, new_id=new_id)
    if screen is not None:
        store = ScreenedStore(store, screen)
    state = {"drained": False, "dials": 0, "ended": 0}

    def observe(cmd: Command, now: float) -> None:
        if isinstance(cmd, Dial):
            state["dials"] += 1
        elif isinstance(cmd, UpdateContact) and cmd.state in (ContactState.FINISHED, ContactState.EXHAUSTED):
            state["ended"] += 1
            if progress is not None and state["ended"] % 50 == 0:
                progress(state["ended"], cfg.contacts, now - start)

    def drained(_cid: str, now: float) -> None:
        state["drained"] = True

    sessions: list[tuple[str, float, float, float]] = []  # agent, login, logout, talk seconds
    open_at: dict[str, float] = {}
    talk_from: dict[str, float] = {}
    talk_acc: dict[str, float] = {}

    def sessions_of(cmd: Command, now: float) -> None:
        if not isinstance(cmd, AgentChanged) or cmd.agent_id not in agent_set:
            return
        aid = cmd.agent_id
        if aid in talk_from:
            talk_acc[aid] = talk_acc.get(aid, 0.0) + now - talk_from.pop(aid)
        if cmd.state == "talking":
            talk_from[aid] = now
        if cmd.state == "offline":
            if aid in open_at:
                sessions.append((aid, open_at.pop(aid), now, talk_acc.pop(aid, 0.0)))
        elif aid not in open_at:
            open_at[aid] = now

    agent_set = set(agent_ids)

    observers = [observe, sessions_of]
    if screen is not None:
        observers.append(screen.observe)
    if routed is not None:
        observers.append(routed.lines.observe)
    telephony = network if routed is None else routed.network
    runtime = DialerRuntime(engine, telephony, store, loop, [sim_agents], on_drained=drained, observers=observers)
    runtime.feed(CampaignActivated(spec), start)
    shift = cfg.shift
    if shift is None or on_shift(start, shift, cfg.timezone):
        for aid in agent_ids:
            runtime.feed(AgentLoggedIn(aid), start)
    if shift is not None:
        at, on = next_shift_change(start, shift, cfg.timezone)
        loop.post(at, ShiftChange(on))  # type: ignore[arg-type]

    def deliver(ev: Any, now: float) -> None:
        if not isinstance(ev, ShiftChange):
            runtime.deliver(ev, now)
            return
        for aid in agent_ids:  # a logout asked for during a call takes effect after its wrap-up
            runtime.deliver(AgentLoggedIn(aid) if ev.on else AgentLoggedOut(aid), now)
        assert shift is not None
        at, on = next_shift_change(now, shift, cfg.timezone)
        loop.post(at, ShiftChange(on))  # type: ignore[arg-type]

    until = start + cfg.hours * 3600 if cfg.hours is not None else None
    loop.run(deliver, until=until, stop=lambda: bool(state["drained"]))
    finished = bool(state["drained"])
    if not finished:  # end of the shift: no new dials; calls in flight and wrap-ups finish
        runtime.feed(CampaignDeactivated(campaign_id, "stop"), loop.now())
        if engine.calls or engine.wrapping:
            loop.run(deliver, stop=lambda: not engine.calls and not engine.wrapping)
    end = loop.now()
    for aid in agent_ids:
        if aid in engine.agents and engine.agents[aid].state.value in ("ready", "break"):
            runtime.feed(AgentLoggedOut(aid), end)
    for aid, t0 in list(open_at.items()):  # still busy at the very end (a cut shift): close at the end
        sessions.append((aid, t0, end, talk_acc.pop(aid, 0.0) + (end - talk_from.pop(aid, end))))
    store.flush()
    with platform.uow(tid) as uow:
        uow.new_id = new_id
        if routed is not None:
            save_traces(uow, routed.network)
        for aid, t0, t1, talk in sessions:
            uow.session.add(AgentSession(id=new_id(), tenant_id=tid, agent_id=aid, campaign_id=campaign_id,
                                         login_at=to_dt(t0), logout_at=to_dt(t1), talk_seconds=round(talk, 3)))
        c = find_campaign(uow, campaign_id)
        assert c is not None
        if finished:
            transition(uow, c, "complete", end)
        uow.commit()
        summary = campaign_summary(uow, c)
    if progress is not None:
        progress(state["ended"], cfg.contacts, end - start)
    summary["attempts"] = state["dials"]
    summary["sim_seconds"] = round(end - start, 3)
    summary["events"] = runtime.events
    return summary

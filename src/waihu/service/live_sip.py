"""Real SIP trunks in the live host (``waihu serve --sip-listen HOST:PORT``).

A tenant whose enabled trunks have SIP addresses (``service/sip_lines.py``) dials its calls
through them: its main lane's telephone network is a ``SipTelephony`` over those trunks on the
host's one SIP stack, instead of the simulated network. Everything else is as on the simulated
network: the same engine, compliance screen, router and caller-ID pool, CDRs and webhooks.

- **Time.** SIP runs in real time, so the host must too (``speed`` 1). The SIP worker thread
  reports call events into the lane's ``InboxLoop``, which wakes the host at once.
- **Agents.** Over SIP an agent takes calls on a phone: logging in calls the agent's SIP phone
  (``phone_uri``) and keeps that call up for the session; the agent is ready once the phone
  answers (an alert ``agent.phone_unreachable`` if it does not within ``PHONE_ANSWER`` seconds).
  When the engine lets the agent go (after the current call), the phone is hung up; a phone that
  hangs up logs the agent out.
- **Switching.** A tenant may move between simulated and SIP lines while serve runs (a trunk
  gains or loses its SIP address): calls in flight end on the network they started on
  (``SwitchedTelephony``).
- **Signaling logs.** Every SIP call's messages are stored next to its CDR, as in ``waihu run``.
- **Robot calls** (``POST /v1/outbound`` with no agent) need a robot endpoint to talk to the
  callee; over SIP trunks there is none yet, so they are refused (``outbound.robot_over_sip``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.registrar import REALM, Binding, Registrar
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.adapters.storage.models import Agent
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.bootstrap import Platform
from waihu.domain.errors import Conflict
from waihu.domain.messages import AgentChanged, AgentLoggedIn, AgentLoggedOut, Command, Dial, Event, WriteCdr
from waihu.ports import Clock, Scheduler, Telephony
from waihu.service.sip_lines import sip_account

log = logging.getLogger("waihu.live")
PHONE_ANSWER = 30.0  # seconds an agent's phone may ring at login


def account_binding(registrar: Registrar | None, tenant_id: str, agent_id: str,
                    sip_user: str | None) -> Binding | None:
    """The live binding of the agent's SIP account, if its phone is registered (under the
    account's current name, for this tenant's agent)."""
    b = registrar.binding(sip_user) if registrar is not None and sip_user is not None else None
    return b if b is not None and (b.tenant_id, b.agent_id) == (tenant_id, agent_id) else None


def phone_address(registrar: Registrar | None, tenant_id: str, agent_id: str, phone_uri: str | None,
                  sip_user: str | None) -> str:
    """Where the agent's phone is called at login: its static address, else where the phone of its
    SIP account registered (the account's current name only: a reissued account's old phone
    is not called)."""
    if phone_uri is not None:
        return phone_uri
    if sip_user is None:
        raise no_phone()
    b = account_binding(registrar, tenant_id, agent_id, sip_user)
    if b is None:
        raise Conflict("agent.phone_not_registered",
                       f"the agent's SIP phone is not registered: register it as {sip_user} "
                       f"(realm {REALM}) with this server, then log in again")
    return b.uri


def no_phone() -> Conflict:
    return Conflict("agent.no_phone", "this tenant dials over SIP trunks: the agent needs a SIP phone "
                    "(PATCH /v1/agents/{id} {\"phone\": \"sip:ext@host\"} or waihu agent phone CODE URI)")


class SwitchedTelephony:
    """The ``Telephony`` port over whichever network is current, each call staying on the one it
    was dialled on (a tenant moved between simulated and SIP lines while calls were up)."""

    def __init__(self, current: Telephony) -> None:
        self.current = current
        self._of: dict[str, Telephony] = {}

    def _net(self, call_id: str) -> Telephony:
        return self._of.get(call_id, self.current)

    def dial(self, cmd: Dial, now: float) -> None:
        self._of[cmd.call_id] = self.current
        self.current.dial(cmd, now)

    def cancel(self, call_id: str, now: float) -> None:
        self._net(call_id).cancel(call_id, now)

    def bridge(self, call_id: str, agent_id: str, now: float) -> None:
        self._net(call_id).bridge(call_id, agent_id, now)

    def abandon(self, call_id: str, now: float) -> None:
        self._net(call_id).abandon(call_id, now)

    def ended(self, call_id: str) -> None:
        self._of.pop(call_id, None)


@dataclass
class PendingLogin:
    event: AgentLoggedIn
    deadline: float


@dataclass
class LaneSip:
    """One lane's SIP side: its telephony, the agents whose phones are ringing, the calls whose
    signaling logs are due. Runs on the host's task (the SIP thread only posts events)."""

    platform: Platform
    tenant_id: str
    tel: SipTelephony
    active: bool = True  # the tenant dials over SIP now (else its calls in flight end, nothing new)
    pending: dict[str, PendingLogin] = field(default_factory=dict)
    on_phone: set[str] = field(default_factory=set)  # agents whose phone this lane called
    ended: deque[tuple[float, str]] = field(default_factory=deque)  # (CDR time, call) of logs to store
    failures: list[tuple[str, str]] = field(default_factory=list)  # (agent id, reason) to alert on

    registrar: Registrar | None = None

    def phone_of(self, agent_id: str) -> str:
        with self.platform.uow(self.tenant_id) as uow:
            a = uow.session.get(Agent, agent_id)
            if a is None or a.tenant_id != self.tenant_id:
                raise no_phone()
            return phone_address(self.registrar, self.tenant_id, a.id, a.phone_uri, a.sip_user)

    def intercept(self, event: Event, now: float) -> Event | None:
        """An agent's action before the engine sees it: a login waits for the agent's phone."""
        if isinstance(event, AgentLoggedIn):
            aid = event.agent_id
            if aid in self.pending:
                return None
            if self.tel.agent_state(aid) == "idle":
                return event  # the phone is up already
            self.tel.login_agent(aid, self.phone_of(aid))
            self.on_phone.add(aid)
            self.pending[aid] = PendingLogin(event, now + PHONE_ANSWER)
            return None
        if isinstance(event, AgentLoggedOut) and event.agent_id in self.pending:
            del self.pending[event.agent_id]
            self._hang_up(event.agent_id)
            return None
        return event

    def poll(self, now: float) -> list[Event]:
        """Logins whose phone answered (to hand to the engine now); phones that did not answer are
        given up and noted in ``failures``."""
        ready: list[Event] = []
        for aid, p in list(self.pending.items()):
            state = self.tel.agent_state(aid)
            if state == "idle":
                ready.append(p.event)
            elif state in ("failed", "gone") or now >= p.deadline:  # offline: not called yet
                self._hang_up(aid)
                self.failures.append((aid, "no_answer" if state == "calling" else state))
            else:
                continue
            del self.pending[aid]
        return ready

    def observe(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, AgentChanged) and cmd.state == "offline" and cmd.agent_id in self.on_phone:
            self._hang_up(cmd.agent_id)  # the engine let the agent go: the session's call ends
        elif isinstance(cmd, WriteCdr):
            self.ended.append((now, cmd.record.call_id))

    def _hang_up(self, agent_id: str) -> None:
        self.on_phone.discard(agent_id)
        self.tel.logout_agent(agent_id)

    def save_traces(self, limit: float) -> int:
        """Store the signaling logs of calls whose CDR was written by ``limit`` (a late BYE's
        response lands in the log first). Returns how many were stored."""
        due: list[str] = []
        while self.ended and self.ended[0][0] <= limit:
            due.append(self.ended.popleft()[1])
        rows = [r for r in (sip_trace_row(self.tenant_id, cid, self.tel) for cid in due) if r is not None]
        if rows:
            try:
                with self.platform.uow(self.tenant_id, actor="system:dialer") as uow:
                    uow.session.add_all(rows)
                    uow.commit()
            except Exception:  # the database is away: try again next time (the telephony keeps
                log.exception("could not store signaling logs")  # the last calls' logs)
                self.ended.extendleft((limit, cid) for cid in reversed(due))
                return 0
        return len(rows)

    def stop(self) -> None:
        for aid in list(self.on_phone):
            self._hang_up(aid)
        self.pending.clear()
        self.tel.stop()


def sip_trace_row(tenant_id: str, call_id: str, tel: SipTelephony) -> CallSignaling | None:
    """A SIP call's signaling log as stored (None when the telephony no longer has it)."""
    tr = tel.trace(call_id)
    if tr is None:
        return None
    return CallSignaling(call_id=call_id, tenant_id=tenant_id, trunk_id=tr.trunk, log=[
        [round(t, 3), ">" if d == "out" else "<", f"{code} {method}".strip() if code else method]
        for t, d, method, code in tr.entries])


class SipHost:
    """The host's one SIP stack (sippy's loop is one per process) and each tenant's telephony."""

    def __init__(self, platform: Platform, listen: tuple[str, int], clock: Clock,
                 stack: SipStack | None = None) -> None:
        self.platform = platform
        self.listen = listen
        self.clock = clock
        self.owns_stack = stack is None  # else the stack is someone else's to start and stop
        self.stack = stack or SipStack(listen[0], listen[1])
        self.registrar = Registrar(self.stack, lambda user: sip_account(platform, user))
        self.tenants: dict[str, LaneSip] = {}
        self.started = False

    def start(self) -> None:
        """Bind the SIP address (an error here, e.g. the port is taken, stops serve at start)."""
        if self.owns_stack:
            self.stack.start()
            self.started = True

    def lane_sip(self, tenant_id: str, trunks: list[SipTrunk], scheduler: Scheduler,
                 on_trunk_state: Callable[[str, bool], None]) -> LaneSip:
        """The tenant's SIP side, dialling over ``trunks`` from now on."""
        ls = self.tenants.get(tenant_id)
        if ls is None:
            tel = SipTelephony(self.stack, trunks, scheduler, self.clock, on_trunk_state=on_trunk_state)
            tel.start()
            ls = self.tenants[tenant_id] = LaneSip(self.platform, tenant_id, tel, registrar=self.registrar)
        else:
            ls.tel.set_trunks(trunks)
            if not ls.active:
                ls.tel.start()
                ls.active = True
        return ls

    def release(self, tenant_id: str) -> None:
        """The tenant no longer dials over SIP: stop probing and registering (calls in flight end)."""
        ls = self.tenants.get(tenant_id)
        if ls is not None and ls.active:
            ls.active = False
            ls.tel.stop()

    def stop(self, unregister_wait: float = 3.0) -> None:
        for ls in self.tenants.values():
            ls.stop()
        for ls in self.tenants.values():
            ls.tel.wait_unregistered(unregister_wait)
        if self.started:
            self.stack.stop()
            self.started = False

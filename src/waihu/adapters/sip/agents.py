"""Agents' phones over SIP: nailed-up legs and third-party call control (RFC 3725).

When an agent logs in, we call the agent's phone (a static SIP URI) and keep that call up for
the whole session, parked on an inactive SDP. To bridge an answered customer to the agent:

1. re-INVITE the customer leg with the agent phone's SDP (the customer now sends media to the
   agent's phone);
2. when the customer answers the re-INVITE with its SDP, re-INVITE the agent leg with it.

When the customer hangs up, the agent leg is parked again (re-INVITE with the inactive SDP):
the agent goes to wrap-up without losing the line. If the agent's phone hangs up during a
call, the customer is hung up too (``CallEnded(by="agent")``). All of this runs in the SIP
thread. There is no media relay: the two endpoints talk to each other directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from waihu.adapters.sip.config import parse_sip_uri
from waihu.adapters.sip.leg import CallLeg, LogEntry
from waihu.adapters.sip.stack import CCEventDisconnect, CCEventTry, CCEventUpdate, new_call_id, sdp_body
from waihu.domain.messages import AgentLoggedOut

if TYPE_CHECKING:
    from waihu.adapters.sip.telephony import SipTelephony


@dataclass(slots=True)
class AgentLeg:
    agent_id: str
    uri: str
    state: str = "calling"  # calling | idle | bridging | bridged | failed | gone
    call_id: str | None = None  # the customer's call while bridged
    ua: Any = None
    sdp_version: int = 1
    entries: list[LogEntry] = field(default_factory=list)


class AgentLegs:
    def __init__(self, tel: SipTelephony) -> None:
        self.tel = tel
        self.legs: dict[str, AgentLeg] = {}
        self.bridges = 0  # completed two-sided bridges (both re-INVITEs answered)

    def state(self, agent_id: str) -> str:
        leg = self.legs.get(agent_id)
        return leg.state if leg is not None else "offline"

    # ------------------------------------------------------------------ login / logout
    def login(self, agent_id: str, uri: str) -> None:
        old = self.legs.get(agent_id)
        if old is not None and old.state not in ("failed", "gone"):
            return
        user, host, port = parse_sip_uri(uri)
        leg = AgentLeg(agent_id, uri)
        self.legs[agent_id] = leg
        stack = self.tel.stack

        def log(direction: str, method: str, code: int) -> None:
            leg.entries.append((self.tel.clock.now(), direction, method, code))

        leg.ua = stack.new_ua(log, lambda ev, ua: self._on_agent_event(leg, ev), host, port)
        leg.ua.recvEvent(CCEventTry((new_call_id(), "waihu", user or "agent", self._parked_sdp(leg), None,
                                     "waihu")))

    def logout(self, agent_id: str) -> None:
        leg = self.legs.pop(agent_id, None)
        if leg is not None and leg.ua is not None and not leg.ua.isDead():
            leg.state = "gone"
            leg.ua.recvEvent(CCEventDisconnect())

    def _parked_sdp(self, leg: AgentLeg) -> Any:
        leg.sdp_version += 1
        return sdp_body(self.tel.stack.address, self.tel.media_port, "inactive", leg.sdp_version)

    # ------------------------------------------------------------------ bridge
    def bridge(self, call_id: str, agent_id: str) -> None:
        cust = self.tel.calls.get(call_id)
        leg = self.legs.get(agent_id)
        if cust is None or not cust.answered:
            return
        cust.agent_id = agent_id
        if leg is not None and leg.state in ("failed", "gone"):
            cust.hangup("agent")  # the agent's phone is gone: nobody would talk to the customer
            return
        if leg is None or leg.state != "idle" or leg.ua.rSDP is None:
            return  # no nailed-up leg to connect: the engine's bookkeeping stands, no media path
        leg.state = "bridging"
        leg.call_id = call_id
        cust.ua.recvEvent(CCEventUpdate(leg.ua.rSDP.getCopy()))  # step 1: customer <- agent SDP

    def reinvite_answered(self, cust: CallLeg, event: Any) -> None:
        """The customer answered our re-INVITE: give the agent the customer's SDP (step 2)."""
        leg = self.legs.get(cust.agent_id or "")
        if leg is None or leg.call_id != cust.call_id or leg.state != "bridging":
            return
        if cust.ua.rSDP is None:
            return
        leg.state = "bridged"
        leg.ua.recvEvent(CCEventUpdate(cust.ua.rSDP.getCopy()))

    def reinvite_failed(self, cust: CallLeg, event: Any) -> None:
        leg = self.legs.get(cust.agent_id or "")
        if leg is not None and leg.call_id == cust.call_id:
            leg.state, leg.call_id = "idle", None  # keep the call; media will not flow

    def customer_gone(self, cust: CallLeg) -> None:
        """The customer's call ended: park the agent's leg, keep it up."""
        leg = self.legs.get(cust.agent_id or "")
        if leg is None or leg.call_id != cust.call_id:
            return
        was_bridged = leg.state == "bridged"
        leg.call_id = None
        if leg.state in ("bridging", "bridged"):
            leg.state = "idle"
            if was_bridged and leg.ua is not None and leg.ua.isConnected():
                leg.ua.recvEvent(CCEventUpdate(self._parked_sdp(leg)))

    # ------------------------------------------------------------------ agent leg events
    def _on_agent_event(self, leg: AgentLeg, event: Any) -> None:
        name = event.name
        if name in ("CCEventConnect", "CCEventPreConnect"):
            if leg.state == "calling":
                leg.state = "idle"
            elif leg.state == "bridged" and leg.call_id is not None:
                self.bridges += 1
        elif name in ("CCEventFail", "CCEventRedirect"):
            if leg.state == "calling":
                leg.state = "failed"
                self._phone_lost(leg)
        elif name == "CCEventDisconnect":
            if leg.state in ("failed", "gone"):
                return
            call_id = leg.call_id
            leg.state, leg.call_id = "gone", None
            if call_id is not None:
                cust = self.tel.calls.get(call_id)
                if cust is not None:
                    cust.hangup("agent")
            self._phone_lost(leg)

    def _phone_lost(self, leg: AgentLeg) -> None:
        """The agent's phone hung up (or never answered): without it the agent cannot take calls,
        so the agent is logged out of the dialer (after the current call's wrap-up) and must log
        in again. Not after our own ``logout`` (the leg is no longer the agent's)."""
        if self.legs.get(leg.agent_id) is leg:
            self.tel.emit(AgentLoggedOut(leg.agent_id))

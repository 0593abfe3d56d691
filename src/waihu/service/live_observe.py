"""What the live runtime shows to others: agent states, campaign counters and call states,
kept up to date from the engine's events and commands; webhooks for the tenant's events."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from waihu.domain.campaigns import CampaignState
from waihu.domain.messages import (
    Abandon,
    AgentChanged,
    Bridge,
    CallAnswered,
    CallRinging,
    Command,
    Dial,
    Event,
    OfferPreview,
    RecordHold,
    WriteCdr,
    WriteDisposition,
)
from waihu.domain.timeutil import to_dt
from waihu.service.webhooks import cdr_payload, emit

if TYPE_CHECKING:
    from waihu.service.live import LiveHost
    from waihu.service.live_lane import Lane

log = logging.getLogger("waihu.live")
KEEP_CALLS = 5000
ADHOC_NAME = "_adhoc"


def _counter() -> dict[str, Any]:
    return {"dialed": 0, "answered": 0, "connected": 0, "abandoned": 0, "ended": 0, "held": 0, "outcomes": {}}


class Observer:
    def __init__(self, host: LiveHost) -> None:
        self.host = host
        self.agents: dict[str, dict[str, dict[str, Any]]] = {}
        self.robots: dict[str, dict[str, str]] = {}
        self.counters: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        self.requested: set[str] = set()  # call ids asked for through the API (and their retries)
        self.chains: dict[str, str] = {}  # a retry on another trunk of a requested call -> the request's id
        self._ended_requests: OrderedDict[str, None] = OrderedDict()  # requests whose latest attempt ended
        # called on the runtime task for every change (tenant id, kind, document): the wallboard's feed
        self.listeners: list[Callable[[str, str, dict[str, Any]], None]] = []

    def _tell(self, tid: str, kind: str, doc: dict[str, Any]) -> None:
        for fn in list(self.listeners):
            try:
                fn(tid, kind, dict(doc))
            except Exception:
                log.exception("live listener failed")

    def _count(self, tid: str, cid: str, key: str) -> None:
        c = self.counters.setdefault(tid, {}).setdefault(cid, _counter())
        c[key] += 1
        self._tell(tid, "campaign", {"campaign_id": cid, **c})

    # ------------------------------------------------------------------ events fed to an engine
    def event(self, lane: Lane, ev: Event, now: float) -> None:
        if not isinstance(ev, CallRinging | CallAnswered):
            return
        call = self.calls.get(lane.tenant_id, OrderedDict()).get(ev.call_id)
        if call is None or call["status"] not in ("dialing", "ringing"):
            return
        if isinstance(ev, CallRinging):
            if call["status"] != "ringing":
                call["status"] = "ringing"
                self._tell(lane.tenant_id, "call", call)
            return
        call["status"] = "answered"
        call["answer_at"] = now
        self._tell(lane.tenant_id, "call", call)
        self._count(lane.tenant_id, call["campaign_id"], "answered")
        self._emit(lane.tenant_id, "call.answered", {"call_id": ev.call_id, "campaign_id": call["campaign_id"],
                                                      "contact_id": call["contact_id"],
                                                      "answer_at": to_dt(now).isoformat()}, now)

    # ------------------------------------------------------------------ commands from an engine
    def command(self, lane: Lane, cmd: Command, now: float) -> None:
        tid = lane.tenant_id
        calls = self.calls.setdefault(tid, OrderedDict())
        if isinstance(cmd, Dial):
            calls[cmd.call_id] = {"call_id": cmd.call_id, "campaign_id": cmd.campaign_id,
                                  "contact_id": cmd.contact_id, "agent_id": cmd.agent_id, "status": "dialing",
                                  "dial_at": now, "answer_at": None, "outcome": None}
            origin = cmd.chain_id
            if origin is not None and origin != cmd.call_id and origin in self._ended_requests:
                del self._ended_requests[origin]
                # a requested call lost on the line goes out again on another trunk: the request
                # follows its retry (its live state is the retry's)
                self.requested.add(cmd.call_id)
                self.chains[cmd.call_id] = origin
                calls.pop(origin, None)
                calls[origin] = calls[cmd.call_id]
            while len(calls) > KEEP_CALLS:
                calls.popitem(last=False)
            self._tell(tid, "call", calls[cmd.call_id])
            self._count(tid, cmd.campaign_id, "dialed")
            self._persist(tid, cmd.call_id, "dialing", now)
        elif isinstance(cmd, Bridge):
            if cmd.call_id in calls:
                calls[cmd.call_id]["status"] = "bridged"
                self._tell(tid, "call", calls[cmd.call_id])
                self._count(tid, calls[cmd.call_id]["campaign_id"], "connected")
        elif isinstance(cmd, Abandon):
            if cmd.call_id in calls:
                calls[cmd.call_id]["status"] = "abandoned"
                self._tell(tid, "call", calls[cmd.call_id])
                self._count(tid, calls[cmd.call_id]["campaign_id"], "abandoned")
        elif isinstance(cmd, WriteCdr):
            self._ended(tid, cmd, now)
        elif isinstance(cmd, WriteDisposition):
            self._emit(tid, "disposition.set", {
                "call_id": cmd.call_id, "campaign_id": cmd.campaign_id, "contact_id": cmd.contact_id,
                "agent_id": cmd.agent_id, "code": cmd.code, "note": cmd.note,
                "callback_at": to_dt(cmd.callback_at).isoformat() if cmd.callback_at else None}, now)
        elif isinstance(cmd, AgentChanged):
            if lane.kind == "robot":
                self.robots.setdefault(tid, {})[cmd.agent_id] = cmd.state
            else:
                doc = {"agent_id": cmd.agent_id, "state": cmd.state, "since": cmd.at, "call_id": cmd.call_id,
                       "campaign_id": cmd.campaign_id, "reason": cmd.reason, "offer": None}
                self.agents.setdefault(tid, {})[cmd.agent_id] = doc
                self._tell(tid, "agent", doc)
        elif isinstance(cmd, OfferPreview):
            a = self.agents.setdefault(tid, {}).get(cmd.agent_id)
            if a is not None:
                t = cmd.target
                a["offer"] = {"contact_id": t.contact_id, "campaign_id": t.campaign_id, "phone": t.phone.masked(),
                              "attempts": t.attempts}
                self._tell(tid, "agent", a)
        elif isinstance(cmd, RecordHold):
            self._count(tid, cmd.campaign_id, "held")

    def _ended(self, tid: str, cmd: WriteCdr, now: float) -> None:
        r = cmd.record
        call = self.calls.setdefault(tid, OrderedDict()).get(r.call_id)
        if call is not None:
            call["status"] = "ended"
            call["outcome"] = r.outcome.value
        c = self.counters.setdefault(tid, {}).setdefault(r.campaign_id, _counter())
        c["outcomes"][r.outcome.value] = c["outcomes"].get(r.outcome.value, 0) + 1
        self._count(tid, r.campaign_id, "ended")
        if call is not None:
            self._tell(tid, "call", call)
        self._persist(tid, r.call_id, "ended", now)
        self._emit(tid, "call.ended", {"call_id": r.call_id, "cdr": cdr_payload(r)}, now)

    def drained(self, lane: Lane, campaign_id: str, now: float) -> None:
        if lane.kind != "main":
            return
        from waihu.service.campaigns import find_campaign, transition

        with self.host.platform.uow(lane.tenant_id, actor="system:dialer") as uow:
            c = find_campaign(uow, campaign_id)
            if c is None or c.name == ADHOC_NAME or c.state != CampaignState.RUNNING.value:
                return
            transition(uow, c, "complete", now)
            uow.commit()
        self._emit(lane.tenant_id, "campaign.finished", {"campaign_id": campaign_id, "name": c.name}, now)

    def alert(self, tid: str, code: str, message: str, now: float, **data: Any) -> None:
        """Something a supervisor should know about (the ``alert`` webhook event)."""
        self._emit(tid, "alert", {"code": code, "message": message, **data}, now)

    # ------------------------------------------------------------------ side effects
    def _persist(self, tid: str, call_id: str, status: str, now: float) -> None:
        if call_id not in self.requested:
            return
        from waihu.service.outbound import set_call_status

        request_id = self.chains.get(call_id, call_id)
        set_call_status(self.host.platform, tid, request_id, status, now)
        if status == "ended":
            self.requested.discard(call_id)
            self.chains.pop(call_id, None)
            self._ended_requests[request_id] = None  # a retry may follow at once
            while len(self._ended_requests) > KEEP_CALLS:
                self._ended_requests.popitem(last=False)

    def _emit(self, tid: str, event: str, payload: dict[str, Any], now: float) -> None:
        try:
            emit(self.host.platform, tid, event, payload, now)
        except Exception:  # webhooks must never stop the dialer
            log.exception("could not queue webhook %s", event)

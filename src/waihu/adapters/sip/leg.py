"""One outbound call attempt over SIP: a sippy UA, its timers, its signaling log.

Runs entirely in the SIP thread. Whatever the far end sends (or fails to send), the leg ends
with exactly one final event: ``CallFailed``, or ``CallAnswered`` followed by ``CallEnded``.
The final event is decided here, once (``_finish``); anything arriving later is only logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import CCEventDisconnect, CCEventTry, Timer, header, new_call_id, sdp_body
from waihu.domain.calls import LossCause
from waihu.domain.messages import CallAnswered, CallEnded, CallFailed, CallRinging, Dial, Event
from waihu.domain.sipcodes import loss_cause_for

if TYPE_CHECKING:
    from waihu.adapters.sip.telephony import SipTelephony

# (time, direction "out"|"in", method, status code or 0 for a request)
LogEntry = tuple[float, str, str, int]


def called_number(cmd: Dial, number_format: str) -> str:
    if number_format == "national":
        return cmd.phone.national
    if number_format == "plus":
        return cmd.phone.e164
    return cmd.phone.e164.lstrip("+")


class CallLeg:
    __slots__ = ("_t_cancel", "_t_noresp", "_t_ring", "agent_id", "answered", "call_id", "cancelled", "entries",
                 "final", "rang", "sip_call_id", "tel", "trunk", "ua")

    def __init__(self, tel: SipTelephony, cmd: Dial, trunk: SipTrunk) -> None:
        self.tel = tel
        self.call_id = cmd.call_id
        self.trunk = trunk
        self.entries: list[LogEntry] = []
        self.rang = False
        self.answered = False
        self.cancelled = False
        self.final = False
        self.agent_id: str | None = None
        self.sip_call_id = ""  # the Call-ID header of the dialog, to match the carrier's records
        self._t_noresp: Timer | None = None
        self._t_ring: Timer | None = None
        self._t_cancel: Timer | None = None
        self.ua: Any = None

    # ------------------------------------------------------------------ signaling log
    def log(self, direction: str, method: str, code: int) -> None:
        self.entries.append((self.tel.clock.now(), direction, method, code))
        if self.cancelled and code >= 200 and method == "INVITE" and not self.final and direction == "in":
            # sippy reports no event for the final answer to a cancelled INVITE
            if code < 300:
                # a 200 OK crossed our CANCEL: a person picked up; sippy ACKs it and hangs up (BYE)
                self.answered = True
                self._emit(CallAnswered(self.call_id))
                self._finish(CallEnded(self.call_id, "system"))
            else:
                self._fail(code, None)  # 487 Request Terminated

    # ------------------------------------------------------------------ start
    def start(self, cmd: Dial) -> None:
        t, tel = self.trunk, self.tel
        caller = cmd.caller_id or t.from_user
        self.ua = tel.stack.new_ua(self.log, self.on_event, t.host, t.port, t.username, t.password, t.transport)
        sip_call_id = new_call_id()
        self.sip_call_id = str(sip_call_id)
        event = CCEventTry((sip_call_id, caller, called_number(cmd, tel.number_format),
                            sdp_body(tel.stack.address, tel.media_port), None, None))
        if t.use_pai:
            event.extra_headers = (header("P-Asserted-Identity", f"<sip:{caller}@{t.host}>"),)
        self.ua.recvEvent(event)
        self._t_noresp = Timer(self._no_response, t.no_response_timeout)
        self._t_ring = Timer(self._ring_expired, cmd.ring_timeout)

    # ------------------------------------------------------------------ sippy events
    def on_event(self, event: Any, ua: Any) -> None:
        name = event.name
        if name == "CCEventRing":
            if self._t_noresp is not None:
                self._t_noresp.cancel()
                self._t_noresp = None
            code = event.getData()[0]
            if 100 < code < 200 and not self.rang and not self.final:
                self.rang = True
                body = event.getData()[2]
                self._emit(CallRinging(self.call_id, early_media=code == 183 or body is not None))
        elif name in ("CCEventConnect", "CCEventPreConnect"):
            if self.answered:
                self.tel.agents.reinvite_answered(self, event)
            elif not self.final:
                self.answered = True
                self._cancel_timers()
                self._emit(CallAnswered(self.call_id))
                if self.cancelled:  # answered while our CANCEL crossed it: a person is there; hang up
                    self.hangup("system")
        elif name in ("CCEventFail", "CCEventRedirect"):
            if self.answered:
                self.tel.agents.reinvite_failed(self, event)
                return
            data = event.getData()
            code = data[0] if data and isinstance(data[0], int) else None
            self._fail(code, _reason(event))
        elif name == "CCEventDisconnect":
            if self.answered:
                self._finish(CallEnded(self.call_id, "callee"))
            else:
                self._fail(None, None)

    # ------------------------------------------------------------------ our actions
    def cancel(self) -> None:
        """Withdraw an unanswered call (CANCEL); an answered one is hung up instead."""
        if self.final:
            return
        if self.answered:
            self.hangup("system")
            return
        if self.cancelled:
            return
        self.cancelled = True
        self._cancel_timers()
        self.log("out", "CANCEL", 0)  # sent by the transaction layer, past the UA's log hook
        self.ua.recvEvent(CCEventDisconnect())
        self._t_cancel = Timer(self._cancel_expired, self.trunk.cancel_grace)

    def hangup(self, by: str) -> None:
        if self.final:
            return
        if self.ua is not None and not self.ua.isDead():
            self.ua.recvEvent(CCEventDisconnect())
        if self.answered:
            self._finish(CallEnded(self.call_id, by))
        else:
            self._finish(CallFailed(self.call_id, LossCause.NO_ANSWER, None))

    # ------------------------------------------------------------------ timers
    def _no_response(self) -> None:
        """Not even a 100 Trying: the trunk is not answering (line side)."""
        if self.final or self.answered:
            return
        self.cancelled = True
        self.ua.recvEvent(CCEventDisconnect())
        self._finish(CallFailed(self.call_id, LossCause.TIMEOUT, None))

    def _ring_expired(self) -> None:
        if not self.final and not self.answered:
            self.cancel()

    def _cancel_expired(self) -> None:
        if not self.final:
            self._finish(CallFailed(self.call_id, LossCause.NO_ANSWER, None))

    # ------------------------------------------------------------------ ending
    def _fail(self, code: int | None, reason: str | None) -> None:
        if self.final:
            return
        if self.cancelled:
            cause = LossCause.NO_ANSWER
        elif code is None:
            cause = LossCause.TECHNICAL
        else:
            cause = loss_cause_for(code, reason)
        self._finish(CallFailed(self.call_id, cause, code))

    def _finish(self, event: Event) -> None:
        if self.final:
            return
        self.final = True
        self._cancel_timers()
        self.tel.leg_finished(self, event)
        self._emit(event)

    def _emit(self, event: Event) -> None:
        self.tel.emit(event)

    def _cancel_timers(self) -> None:
        for t in (self._t_noresp, self._t_ring, self._t_cancel):
            if t is not None:
                t.cancel()
        self._t_noresp = self._t_ring = self._t_cancel = None


def _reason(event: Any) -> str | None:
    r = getattr(event, "reason_rfc3326", None)
    if r is None:
        return None
    try:
        return str(r)
    except Exception:  # a Reason header sippy could not parse
        return None


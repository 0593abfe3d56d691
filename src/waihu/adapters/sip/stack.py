"""A small typed facade over sippy: its event loop thread, the transaction manager, user agents.

sippy's event loop (``ED2``) is global to the process and not thread-safe. It runs in one
dedicated thread started here; other threads hand it work with :meth:`SipStack.call` (sippy's
``callFromThread``). Everything that touches a sippy object runs in that thread. sippy has no
type hints: its objects are ``Any`` here and do not leak past this package.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("SIPLOG_BEND", "none")  # before sippy is imported: no per-message logging

from sippy.CCEvents import (
    CCEventConnect,
    CCEventDisconnect,
    CCEventFail,
    CCEventPreConnect,
    CCEventRedirect,
    CCEventRing,
    CCEventTry,
    CCEventUpdate,
)
from sippy.Core.EventDispatcher import ED2
from sippy.MsgBody import MsgBody
from sippy.SipAddress import SipAddress
from sippy.SipCallId import SipCallId
from sippy.SipFrom import SipFrom
from sippy.SipHeader import SipHeader
from sippy.SipLogger import SipLogger
from sippy.SipRegistrationAgent import SipRegistrationAgent
from sippy.SipRequest import SipRequest
from sippy.SipTo import SipTo
from sippy.SipTransactionManager import SipTransactionManager
from sippy.SipURL import SipURL
from sippy.Time.Timeout import Timeout
from sippy.UA import UA
from sippy.UacStateCancelling import UacStateCancelling
from sippy.Udp_server import Udp_server, Udp_server_opts

__all__ = [
    "CCEventConnect", "CCEventDisconnect", "CCEventFail", "CCEventPreConnect", "CCEventRedirect",
    "CCEventRing", "CCEventTry", "CCEventUpdate", "LoggingUA", "SipStack", "Timer", "sdp_body",
]

# Signaling log hook: (direction "out" | "in", method or "", status code or 0)
LogFn = Callable[[str, str, int], None]


class AckFirstCancelling(UacStateCancelling):  # type: ignore[misc]
    """sippy's cancelling state, except that a 200 OK which crossed our CANCEL is ACKed before the
    BYE that ends it leaves: sippy's transaction layer sends the ACK only after this state has
    handled the response, so the BYE waits one turn of the event loop (RFC 3261 13.2.2.4 then
    15; a far end may reject a BYE that comes before the ACK)."""

    def recvResponse(self, resp: Any, tr: Any) -> Any:
        ua = self.ua
        send = ua.newTransaction
        ua.newTransaction = lambda *a, **kw: ED2.callFromThread(send, *a, **kw)
        try:
            return super().recvResponse(resp, tr)
        finally:
            del ua.newTransaction  # the class's method again


class LoggingUA(UA):  # type: ignore[misc]
    """A sippy UA that reports every message of its dialog to ``log`` (method and code only).

    It also asks for the response to a BYE, which sippy does not report by itself, and ACKs a
    200 OK that crossed its CANCEL before it hangs up (``AckFirstCancelling``).
    """

    UacStateCancelling = AckFirstCancelling
    # sippy keeps an ended dialog 32 s to answer a retransmitted BYE; the BYE's server transaction
    # already absorbs those (Timer J, 64*T1), so 5 s is enough, and the dialogs of the last half
    # minute no longer weigh on the garbage collector (its pauses grow with the calls held: at
    # 3,000 calls in flight a full collection took 0.55 s with 32 s, 0.36 s with 5 s, docs/sip.md)
    godead_timeout = 5.0

    def __init__(self, global_config: dict[str, Any], log: LogFn, **kw: Any) -> None:
        super().__init__(global_config, **kw)
        self.waihu_log = log

    def recvResponse(self, resp: Any, tr: Any) -> None:
        self.waihu_log("in", resp.getHFBody("cseq").getCSeq()[1], resp.getSCode()[0])
        super().recvResponse(resp, tr)

    def recvRequest(self, req: Any, sip_t: Any) -> Any:
        self.waihu_log("in", req.getMethod(), 0)
        return super().recvRequest(req, sip_t)

    def newTransaction(self, req: Any, req_extra_headers: Any = None, **kwa: Any) -> Any:
        method = req.getMethod()
        self.waihu_log("out", method, 0)
        if method == "BYE" and kwa.get("resp_cb") is None:
            kwa["resp_cb"] = self._bye_response
        return super().newTransaction(req, req_extra_headers, **kwa)

    def _bye_response(self, resp: Any) -> None:
        self.waihu_log("in", "BYE", resp.getSCode()[0])


class Timer:
    """A one-shot timer on the SIP thread (create and cancel it there)."""

    __slots__ = ("_t",)

    def __init__(self, fn: Callable[[], None], seconds: float) -> None:
        self._t: Any = Timeout(fn, seconds)

    def cancel(self) -> None:
        if self._t is not None:
            self._t.cancel()
            self._t = None


def sdp_body(address: str, port: int, direction: str = "sendrecv", version: int = 1) -> Any:
    """An SDP offer for a leg we do not relay media for yet (PCMA/PCMU, telephone-event)."""
    text = (f"v=0\r\no=waihu 1 {version} IN IP4 {address}\r\ns=waihu\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
            f"a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n")
    return MsgBody(text)


def header(name: str, value: str) -> Any:
    return SipHeader(name=name, bodys=value)


def sip_url(user: str | None, host: str, port: int) -> Any:
    return SipURL(username=user, host=host, port=port)


def new_call_id() -> Any:
    return SipCallId()


def options_request(host: str, port: int, from_user: str) -> Any:
    """An out-of-dialog OPTIONS request to ``host:port``."""
    ruri = SipURL(host=host, port=port)
    fr0m = SipFrom(address=SipAddress(url=SipURL(username=from_user)))
    fr0m.genTag()
    to = SipTo(address=SipAddress(url=SipURL(host=host, port=port)))
    return SipRequest(method="OPTIONS", ruri=ruri, fr0m=fr0m, to=to, callid=SipCallId(), target=((host, port), "udp"))


def refresh_after(expires: float) -> float:
    """When to renew a binding granted for ``expires`` seconds: halfway for short ones, a
    minute early for long ones, so that it never lapses while the REGISTER is on its way."""
    return max(expires / 2.0, expires - 60.0)


class RefreshingRegistration(SipRegistrationAgent):  # type: ignore[misc]
    """sippy's registration agent, renewing the binding before it runs out (sippy's own
    renews when it does) and reporting the binding's real expiry time to ``rok_cb``."""

    on_unregistered: Callable[[int], None] | None = None  # set while removing the binding

    def set_expires(self, seconds: int) -> None:
        """The binding asked for: an ``Expires`` header (sippy does not print the Contact's param)."""
        for h in self.rmsg.getHFs("expires"):
            self.rmsg.removeHeader(h)
        self.rmsg.appendHeader(SipHeader(name="expires", bodys=str(seconds)))

    def unregister(self, done: Callable[[int], None]) -> None:
        """Remove the binding (REGISTER with expires=0, a challenge answered): ``done(status)``
        once the registrar has answered; nothing is renewed afterwards."""
        if self.dead or self.rmsg is None:
            done(0)
            return
        self.on_unregistered = done
        self.set_expires(0)
        self.atries = 0
        self.doregister()

    def gotreply(self, resp: Any) -> None:
        if self.dead or resp.scode < 200:
            return
        done = self.on_unregistered
        if done is not None:
            if resp.scode in (401, 407) and self.atries < 3:
                super().gotreply(resp)  # answer the challenge: REGISTER again
                return
            self.stopregister()
            done(resp.scode)
            return
        if not (200 <= resp.scode < 300) or resp.reason == "Auth Failed":
            super().gotreply(resp)  # challenges, failures (and the retry 60 s later)
            return
        contact = resp.getHFBody("contact") if resp.countHFs("contact") > 0 else None
        if contact is not None and "expires" in contact.address.params:
            granted = float(contact.address.params["expires"])
        elif resp.countHFs("expires") > 0:
            granted = float(resp.getHFBody("expires").getNum())
        else:
            granted = float(self.exp)
        Timeout(self.doregister, refresh_after(granted))
        self.atries = 0
        if self.rok_cb is not None:
            self.rok_cb(time.time() + granted, contact, self.cb_arg)


def registration(global_config: dict[str, Any], user: str, host: str, port: int, password: str | None,
                 expires: int = 300, on_ok: Callable[..., None] | None = None,
                 on_fail: Callable[..., None] | None = None) -> Any:
    """A REGISTER agent: ``on_ok(expires_at, contact, None)`` after each 2xx (it renews the
    binding by itself before ``expires_at``), ``on_fail(status_line, None)`` after a final
    failure (it tries again 60 s later). 401/407 challenges are answered with the credentials."""
    aor = SipURL(username=user, host=host, port=port)
    contact = SipURL(username=user, host=global_config["_sip_address"], port=global_config["_sip_port"])
    agent = RefreshingRegistration(global_config, aor, contact, user=user, passw=password, exp=expires,
                                   rok_cb=on_ok, rfail_cb=on_fail, target=((host, port), "udp"))
    agent.set_expires(expires)
    return agent


def transaction_manager_class(workers: int) -> type[Any]:
    """sippy's transaction manager reading and writing its UDP socket with ``workers`` threads each.

    sippy uses three of each by default, and those threads hand datagrams on in whatever order
    they win the GIL: a 180 sent just before a 200 can be processed after it (and dropped as
    stale), and our ACK can leave after the re-INVITE that bridges the call (the far end then
    rejects the re-INVITE). One thread each keeps every message in order; it costs throughput
    (docs/benchmarks.md).
    """

    class Opts(Udp_server_opts):  # type: ignore[misc]
        nworkers = workers

    class Manager(SipTransactionManager):  # type: ignore[misc]
        model_udp_server = (Udp_server, Opts)

    return Manager


class SipStack:
    """sippy's transaction manager and event loop, running in a dedicated thread."""

    def __init__(self, address: str = "127.0.0.1", port: int = 5060, *, user_agent: str = "waihu",
                 workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.address = address
        self.port = port
        self.user_agent = user_agent
        self.workers = workers
        self.global_config: dict[str, Any] = {}
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._requests: dict[str, Callable[[Any], Any]] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            return
        # what exists now (modules, the application, settings) lives as long as the process: out of
        # the collector's sight, a full collection scans only the calls (a pause of the SIP thread
        # longer than T1 makes the far end see retransmissions)
        gc.freeze()
        self._thread = threading.Thread(target=self._run, name="sip-ed2", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the SIP thread did not start")
        if self._error is not None:
            raise RuntimeError(f"the SIP stack could not start: {self._error}") from self._error

    def _run(self) -> None:
        ED2.my_ident = threading.get_ident()  # sippy's timers belong to the thread running its loop
        try:
            gc: dict[str, Any] = {"_sip_address": self.address, "_sip_port": self.port,
                                  "_sip_logger": SipLogger("waihu")}
            gc["_sip_tm"] = transaction_manager_class(self.workers)(gc, self._incoming_request)
            self.global_config = gc
        except BaseException as ex:  # reported to start()
            self._error = ex
            self._ready.set()
            return
        self._ready.set()
        ED2.loop()
        gc["_sip_tm"].shutdown()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        ED2.callFromThread(ED2.breakLoop)
        self._thread.join(timeout)
        self._thread = None
        self._ready.clear()

    # ------------------------------------------------------------------ threading
    def call(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` in the SIP thread (from any thread)."""
        ED2.callFromThread(fn, *args)

    def in_sip_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    # ------------------------------------------------------------------ out-of-dialog
    def on_request(self, method: str, handler: Callable[[Any], Any]) -> None:
        self._requests[method] = handler

    def _incoming_request(self, req: Any, sip_t: Any) -> Any:
        if req.getHFBody("to").getTag() is not None:
            return (req.genResponse(481, "Call Leg/Transaction Does Not Exist"), None, None)
        method = req.getMethod()
        handler = self._requests.get(method)
        if handler is not None:
            return handler(req)
        if method == "OPTIONS":
            return (req.genResponse(200, "OK"), None, None)
        if method == "INVITE":  # an outbound dialer takes no inbound calls (yet)
            return (req.genResponse(603, "Decline"), None, None)
        return (req.genResponse(501, "Not Implemented"), None, None)

    def send_request(self, req: Any, on_response: Callable[[Any], None]) -> Any:
        return self.global_config["_sip_tm"].newTransaction(req, resp_cb=on_response)

    def new_ua(self, log: LogFn, event_cb: Callable[[Any, Any], None], host: str, port: int,
               username: str | None = None, password: str | None = None) -> Any:
        return LoggingUA(self.global_config, log, event_cb=event_cb, username=username, password=password,
                         nh_address=(host, port))

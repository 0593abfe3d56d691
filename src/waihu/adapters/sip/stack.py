"""A small typed facade over sippy: its event loop thread, the transaction manager, user agents.

sippy's event loop (``ED2``) is global to the process and not thread-safe. It runs in one
dedicated thread started here; other threads hand it work with :meth:`SipStack.call` (sippy's
``callFromThread``). Everything that touches a sippy object runs in that thread. sippy has no
type hints: its objects are ``Any`` here and do not leak past this package.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import threading
import time
from collections import deque
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
from sippy.Network_server import Remote_address
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
from sippy.Time.clock_dtime import CLOCK_MONOTONIC as SIPPY_MONOTONIC
from sippy.Time.clock_dtime import clock_getdtime
from sippy.Time.Timeout import Timeout
from sippy.UA import UA
from sippy.UacStateCancelling import UacStateCancelling
from sippy.Udp_server import Udp_server, Udp_server_opts

from waihu.adapters.sip.tcp import TcpServer

__all__ = [
    "INPUT_FIRST",
    "CCEventConnect",
    "CCEventDisconnect",
    "CCEventFail",
    "CCEventPreConnect",
    "CCEventRedirect",
    "CCEventRing",
    "CCEventTry",
    "CCEventUpdate",
    "InputFirst",
    "LoggingUA",
    "SipStack",
    "Timer",
    "sdp_body",
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


T1 = 0.5  # RFC 3261 17.1.1.1: the round-trip estimate, the first retransmission interval


def sippy_now() -> float:
    """sippy's monotonic clock (CLOCK_MONOTONIC_RAW on Linux, not ``time.monotonic``'s): the
    clock of its timers' due times and of the datagrams' arrival times."""
    return float(clock_getdtime(SIPPY_MONOTONIC))


class InputFirst:
    """Timers on the SIP thread wait for the input that arrived before they fell due.

    sippy's event loop fires every due timer before it handles the datagrams its reader thread
    has queued, and after the thread was stalled (a full garbage collection stops every thread
    of the process; other processes may take the CPU) many timers are due at once while the
    answers that came meanwhile are still unread. A retransmission sent then is a duplicate the
    far end may reject (SIPp aborts a call on an INVITE that arrives after its 200 OK); a
    timeout fired then ends a call, or counts a probe as lost, whose answer is already here.

    So a timer that falls due is put off by one ``tick`` (``wait``) while:

    * the heartbeat (every ``tick`` on the SIP thread) is more than ``stall`` late: the thread
      is catching up after a stall and its reader has not run yet;
    * a datagram received at or before the timer's due time is still queued for the loop (the
      reader thread records each arrival, the loop each datagram it handles: both in order);
    * the timer fell due during a stall, and the socket still holds unread datagrams, or the
      queue holds one read within ``stall`` of the stall's end (they arrived during it).

    A timer is put off by ``max_hold`` at most in all, so a thread that stays behind still fires.
    """

    tick = 0.02
    stall = 0.1
    max_hold = 2 * T1

    def __init__(self, clock: Callable[[], float] = sippy_now) -> None:
        self.clock = clock
        self.last_beat = clock()
        self.stall_end = -1.0
        self.queued: deque[float] = deque()  # arrival times of the datagrams not handled yet
        self.readable: Callable[[], bool] = lambda: False
        self.stalls = 0
        self.longest = 0.0
        self.held = 0  # timers put off at least once

    def reset(self) -> None:
        """A new start of the SIP thread: no stall, nothing queued."""
        self.last_beat = self.clock()
        self.stall_end = -1.0
        self.queued.clear()

    def beat(self) -> None:
        now = self.clock()
        gap = now - self.last_beat
        if gap > self.stall:
            self.stalls += 1
            self.longest = max(self.longest, gap)
            self.stall_end = now
        self.last_beat = now

    def arrived(self, at: float) -> None:  # the reader thread
        self.queued.append(at)

    def handled(self, at: float) -> None:  # the SIP thread
        """The datagram that arrived at ``at`` is being handled (with several reader threads,
        or TCP beside UDP, not always the oldest)."""
        q = self.queued
        if q and q[0] == at:
            q.popleft()
        else:
            with contextlib.suppress(ValueError):  # queued before a restart cleared the queue
                q.remove(at)

    def must_wait(self, due: float) -> bool:
        """Whether a timer that fell due at ``due`` should let the input go first."""
        now = self.clock()
        if now - self.last_beat > self.stall:
            return True
        oldest = self.queued[0] if self.queued else None
        if oldest is not None and oldest <= due:
            return True
        if due <= self.stall_end:
            return self.readable() or (oldest is not None and oldest <= self.stall_end + self.stall)
        return False

    def wait(self, due: float, held: float) -> float:
        """How long a timer that fell due at ``due``, already put off ``held`` s, waits more (0: fire)."""
        if held + self.tick > self.max_hold or not self.must_wait(due):
            return 0.0
        if held == 0.0:
            self.held += 1
        return self.tick


INPUT_FIRST = InputFirst()  # sippy's event loop is one per process, and so is its thread


class Timer:
    """A one-shot timer on the SIP thread (create and cancel it there). It lets the input that
    arrived before it fell due go first (``InputFirst``)."""

    __slots__ = ("_due", "_fn", "_held", "_t")

    def __init__(self, fn: Callable[[], None], seconds: float) -> None:
        self._fn = fn
        self._held = 0.0
        self._t: Any = Timeout(self._fire, seconds)
        self._due: float = self._t.etime.monot

    def _fire(self) -> None:
        wait = INPUT_FIRST.wait(self._due, self._held)
        if wait > 0:
            self._held += wait
            self._t = Timeout(self._fire, wait)
            return
        self._t = None
        self._fn()

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


def options_request(host: str, port: int, from_user: str, transport: str = "udp") -> Any:
    """An out-of-dialog OPTIONS request to ``host:port``."""
    ruri = SipURL(host=host, port=port)
    fr0m = SipFrom(address=SipAddress(url=SipURL(username=from_user)))
    fr0m.genTag()
    to = SipTo(address=SipAddress(url=SipURL(host=host, port=port)))
    return SipRequest(method="OPTIONS", ruri=ruri, fr0m=fr0m, to=to, callid=SipCallId(),
                      target=((host, port), transport))


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
                 on_fail: Callable[..., None] | None = None, transport: str = "udp") -> Any:
    """A REGISTER agent: ``on_ok(expires_at, contact, None)`` after each 2xx (it renews the
    binding by itself before ``expires_at``), ``on_fail(status_line, None)`` after a final
    failure (it tries again 60 s later). 401/407 challenges are answered with the credentials."""
    aor = SipURL(username=user, host=host, port=port)
    contact = SipURL(username=user, host=global_config["_sip_address"], port=global_config["_sip_port"])
    agent = RefreshingRegistration(global_config, aor, contact, user=user, passw=password, exp=expires,
                                   rok_cb=on_ok, rfail_cb=on_fail, target=((host, port), transport))
    agent.set_expires(expires)
    return agent


class InputRecordingUdpServer(Udp_server):  # type: ignore[misc]
    """sippy's UDP server, recording each datagram's arrival for ``InputFirst``: its reader
    thread calls ``handle_read`` directly, which queues the datagram for the SIP thread."""

    def handle_read(self, data: bytes, address: Any, rtime: Any, delayed: bool = False) -> None:
        if delayed:  # sippy's simulated delay (never set here), already on the SIP thread
            super().handle_read(data, address, rtime, delayed)
            return
        INPUT_FIRST.arrived(rtime.monot)
        ED2.callFromThread(self._handle, data, Remote_address(address, self.transport), rtime)

    def _handle(self, data: bytes, address: Any, rtime: Any) -> None:
        INPUT_FIRST.handled(rtime.monot)
        super().handle_read(data, address, rtime)

    def readable(self) -> bool:
        """Whether datagrams wait in the socket, not read yet."""
        poller = select.poll()
        try:
            poller.register(self.skt, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):  # the socket is closed: nothing to read
            return False


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
        direct_dispatch = True  # the reader calls InputRecordingUdpServer.handle_read itself

    class Manager(SipTransactionManager):  # type: ignore[misc]
        """Its client transactions' retransmissions (Timer A) and timeouts (Timer B) let the
        input that arrived before they fell due go first (``InputFirst``)."""

        model_udp_server = (InputRecordingUdpServer, Opts)

        def newTransaction(self, msg: Any, resp_cb: Any = None, laddress: Any = None, userv: Any = None,
                           *args: Any, **kw: Any) -> Any:
            if userv is None and laddress is None and str(msg.getTarget()[1]) == "tcp":
                userv = self.global_config["_tcp_server"]  # sippy knows UDP and WebSocket only
            return super().newTransaction(msg, resp_cb, laddress, userv, *args, **kw)

        def timerA(self, t: Any) -> None:
            if t.userv.transport == "tcp":  # a reliable transport: no retransmissions (RFC 3261 17.1.1.2)
                t.teA = None
                return
            if not _put_off(t, "teA", self.timerA):
                super().timerA(t)

        def timerB(self, t: Any) -> None:
            if not _put_off(t, "teB", self.timerB):
                super().timerB(t)

    return Manager


def _put_off(t: Any, timer: str, fire: Callable[[Any], None]) -> bool:
    """Re-arm the transaction's timer (``teA``, ``teB``) that just fell due if ``InputFirst``
    says to wait; False: fire it now (its next firing starts afresh)."""
    held: float = getattr(t, f"waihu_held_{timer}", 0.0)
    if held == 0.0:
        setattr(t, f"waihu_due_{timer}", getattr(t, timer).etime.monot)
    wait = INPUT_FIRST.wait(getattr(t, f"waihu_due_{timer}"), held)
    if wait > 0:
        setattr(t, f"waihu_held_{timer}", held + wait)
        setattr(t, timer, Timeout(fire, wait, 1, t))
        return True
    setattr(t, f"waihu_held_{timer}", 0.0)
    return False


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
        self._beat: Any = None

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
            INPUT_FIRST.reset()  # before the reader threads start
            gc["_sip_tm"] = tm = transaction_manager_class(self.workers)(gc, self._incoming_request)
            gc["_tcp_server"] = TcpServer((self.address, self.port), tm.handleIncoming, INPUT_FIRST.arrived,
                                          INPUT_FIRST.handled)
            self.global_config = gc
        except BaseException as ex:  # reported to start()
            self._error = ex
            self._ready.set()
            return
        INPUT_FIRST.readable = self._readable
        self._heartbeat()
        self._ready.set()
        ED2.loop()
        gc["_tcp_server"].shutdown()
        gc["_sip_tm"].shutdown()

    def _heartbeat(self) -> None:
        INPUT_FIRST.beat()
        self._beat = Timeout(self._heartbeat, INPUT_FIRST.tick)

    def _readable(self) -> bool:
        servers = self.global_config["_sip_tm"].l4r.cache_l2s.values()
        return any(s.readable() for s in servers if isinstance(s, InputRecordingUdpServer))

    def _halt(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None
        ED2.breakLoop()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        ED2.callFromThread(self._halt)
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
               username: str | None = None, password: str | None = None, transport: str = "udp") -> Any:
        return LoggingUA(self.global_config, log, event_cb=event_cb, username=username, password=password,
                         nh_address=(host, port), nh_transport=transport)

"""Outbound calls through SipTelephony against SIPp playing the carrier / the callee."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sip.conftest import Recorder, answered_once, dial, finals, make_telephony, settle, until
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack, refresh_after
from waihu.domain.calls import LossCause
from waihu.domain.messages import CallAnswered, CallEnded, CallFailed, CallRinging

Start = Callable[..., Any]


def trunk(port: int, **kw: Any) -> SipTrunk:
    kw.setdefault("options_interval", 0)
    return SipTrunk("carrier", "127.0.0.1", port, **kw)


def test_answer_and_hold_then_callee_hangs_up(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("answer.xml", hold_ms=300, calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port, from_user="4008001234", use_pai=True), rec)
        tel.dial(dial("c1"), sched.now())
        events = await rec.final("c1")
        await settle(sip_stack, sched)
        assert rec.kinds("c1") == ["CallRinging", "CallAnswered", "CallEnded"]
        assert events[-1] == CallEnded("c1", "callee")
        trace = tel.trace("c1")
        assert trace is not None and trace.number == "139****5678"
        assert [(d, m, c) for _, d, m, c in trace.entries][:3] == [
            ("out", "INVITE", 0), ("in", "INVITE", 180), ("in", "INVITE", 200)]
        assert ("in", "BYE", 0) in [(d, m, c) for _, d, m, c in trace.entries]

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_provisional_and_final_responses_keep_their_order(sip_stack: SipStack, sipp: Start) -> None:
    """The far end sends 180 and 200 back to back; every call must see them in that order.

    sippy's default of several UDP reader threads could hand the 200 to the event loop first
    (the 180 was then dropped as stale); a stack with one reader keeps socket order.
    """
    calls = 30
    uas = sipp("answer.xml", hold_ms=50, calls=calls)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port), rec)
        for i in range(calls):
            tel.dial(dial(f"o{i}"), sched.now())
        for i in range(calls):
            await rec.final(f"o{i}")
        await settle(sip_stack, sched)
        out_of_order = [i for i in range(calls)
                        if rec.kinds(f"o{i}") != ["CallRinging", "CallAnswered", "CallEnded"]]
        assert out_of_order == []

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_the_stack_needs_at_least_one_worker() -> None:
    with pytest.raises(ValueError, match="workers"):
        SipStack("127.0.0.1", 0, workers=0)


@pytest.mark.parametrize(("scenario", "subs", "cause", "code"), [
    ("reject.xml", {"CODE": "486", "REASON": "Busy Here"}, LossCause.BUSY, 486),
    ("reject.xml", {"CODE": "404", "REASON": "Not Found"}, LossCause.EMPTY_NUMBER, 404),
    ("reject.xml", {"CODE": "503", "REASON": "Service Unavailable"}, LossCause.CONGESTION, 503),
    ("reject.xml", {"CODE": "500", "REASON": "Server Internal Error"}, LossCause.TECHNICAL, 500),
    ("reject.xml", {"CODE": "403", "REASON": "Forbidden"}, LossCause.RISK_CONTROL, 403),
    ("reject.xml", {"CODE": "603", "REASON": "Decline"}, LossCause.REJECTED, 603),
    ("reject_q850.xml", {"CODE": "480", "REASON": "User busy", "Q850": "17"}, LossCause.BUSY, 480),
    ("reject_q850.xml", {"CODE": "480", "REASON": "Subscriber absent", "Q850": "20"}, LossCause.POWERED_OFF, 480),
])
def test_failures_map_to_one_loss_cause(sip_stack: SipStack, sipp: Start, scenario: str, subs: dict[str, str],
                                        cause: LossCause, code: int) -> None:
    uas = sipp(scenario, subs=subs, calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port), rec)
        tel.dial(dial("c1"), sched.now())
        events = await rec.final("c1")
        await settle(sip_stack, sched)
        assert finals(events) == [CallFailed("c1", cause, code)]
        assert not any(isinstance(e, CallAnswered) for e in events)

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_no_answer_is_cancelled_and_487_ends_it(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("noanswer.xml", calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port), rec)
        tel.dial(dial("c1", ring_timeout=30), sched.now())
        await rec.first("c1", CallRinging)
        tel.cancel("c1", sched.now())  # what the engine does when its ring timer fires
        events = await rec.final("c1")
        await settle(sip_stack, sched)
        assert rec.kinds("c1") == ["CallRinging", "CallFailed"]
        assert events[-1] == CallFailed("c1", LossCause.NO_ANSWER, 487)
        trace = tel.trace("c1")
        assert trace is not None
        assert ("out", "CANCEL", 0) in [(d, m, c) for _, d, m, c in trace.entries]

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_answer_crossing_our_cancel_is_reported_as_answered_then_hung_up(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("answer_crosses_cancel.xml", calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port), rec)
        tel.dial(dial("c1", ring_timeout=30), sched.now())
        await rec.first("c1", CallRinging)
        tel.cancel("c1", sched.now())
        events = await rec.final("c1")
        await settle(sip_stack, sched)
        # a person picked up: never reported as a no-answer (the engine counts it as abandoned)
        assert rec.kinds("c1") == ["CallRinging", "CallAnswered", "CallEnded"]
        assert events[-1] == CallEnded("c1", "system")
        trace = tel.trace("c1")
        assert trace is not None
        codes = [(d, m, c) for _, d, m, c in trace.entries]
        assert ("out", "CANCEL", 0) in codes and ("in", "INVITE", 200) in codes

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()  # SIPp got our ACK and our BYE


def test_ring_timeout_in_the_dial_cancels_by_itself(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("noanswer.xml", calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port), rec)
        tel.dial(dial("c1", ring_timeout=0.5), sched.now())
        events = await rec.final("c1")
        assert finals(events) == [CallFailed("c1", LossCause.NO_ANSWER, 487)]

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_digest_challenge_is_answered(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("digest.xml", calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port, username="alice", password="s3cret"), rec)
        tel.dial(dial("c1"), sched.now())
        events = await rec.final("c1")
        assert answered_once(events) and finals(events) == [CallEnded("c1", "callee")]
        trace = tel.trace("c1")
        assert trace is not None
        codes = [(d, m, c) for _, d, m, c in trace.entries]
        assert codes[:4] == [("out", "INVITE", 0), ("in", "INVITE", 401), ("out", "INVITE", 0), ("in", "INVITE", 200)]

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_wrong_password_fails_once(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("digest.xml", calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port, username="alice", password="wrong"), rec)
        tel.dial(dial("c1"), sched.now())
        events = await rec.final("c1")
        await settle(sip_stack, sched)
        assert finals(events) == [CallFailed("c1", LossCause.RISK_CONTROL, 403)]

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_silent_trunk_times_out_line_side(sip_stack: SipStack) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:  # receives, never answers
        hole.bind(("127.0.0.1", 0))
        port = hole.getsockname()[1]

        async def go() -> None:
            rec = Recorder()
            tel, sched = make_telephony(sip_stack, trunk(port, no_response_timeout=0.5), rec)
            tel.dial(dial("c1"), sched.now())
            events = await rec.final("c1")
            assert finals(events) == [CallFailed("c1", LossCause.TIMEOUT, None)]
            assert events[-1].cause.side.value == "line"  # type: ignore[union-attr]

        asyncio.run(go())


def test_hostile_far_end_never_breaks_the_worker(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("hostile.xml", calls=1)

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(uas.port), rec)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # garbage datagrams at our port
            for junk in (b"\x00\xff" * 40, b"SIP/2.0 999999 " + b"\xfe" * 60, b"INVITE \x01\x02 SIP/2.0\r\n" * 4,
                         b"SIP/2.0 200 OK\r\nCall-ID: nobody\r\n\r\n" + b"x" * 40):
                s.sendto(junk, ("127.0.0.1", sip_stack.port))
        tel.dial(dial("c1"), sched.now())
        events = await rec.final("c1")
        await settle(sip_stack, sched)
        # the impostor 200 OK (wrong Call-ID) was ignored, the 50 x 183 made one CallRinging
        assert rec.kinds("c1") == ["CallRinging", "CallFailed"]
        assert events[-1] == CallFailed("c1", LossCause.NO_ANSWER, 480)  # Q.850 19 in the Reason header
        # and the worker still places calls
        tel.dial(dial("c2", ring_timeout=0.3), sched.now())
        assert finals(await rec.final("c2")) != []

    asyncio.run(go())
    uas.wait()


def test_register_answers_the_challenge_and_refreshes_the_binding(sip_stack: SipStack, sipp: Start,
                                                                  tmp_path: Path) -> None:
    log = tmp_path / "registrar.log"
    registrar = sipp("register.xml", calls=1, subs={"EXPIRES": "1"}, extra=("-trace_logs", "-log_file", str(log)))

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, trunk(registrar.port, username="alice", password="s3cret",
                                                     register=True, register_expires=600), rec)
        reg = tel.registrations["carrier"]
        tel.start()
        await until(lambda: reg.ok >= 1)
        assert reg.registered and reg.failures == 0
        first_expiry = reg.expires_at
        assert first_expiry is not None and 0 < first_expiry - sched.now() <= 1.05  # the registrar's 1 s
        await until(lambda: reg.ok >= 2)  # renewed before the binding ran out
        assert reg.last_ok_at is not None and reg.last_ok_at < first_expiry
        assert reg.registered and reg.expires_at is not None and reg.expires_at - sched.now() > 3000
        tel.stop()  # removes the binding: REGISTER with expires=0
        assert await asyncio.to_thread(tel.wait_unregistered, 10.0)
        assert not reg.registered and reg.unregister_status == 200

    asyncio.run(go())
    assert registrar.wait() == 0, registrar.output()
    lines = log.read_text().split("\n")
    assert lines[0].startswith("registered sip:alice@127.0.0.1:") and lines[0].endswith(" Expires: 600")
    assert "refreshed" in lines and "unregistered Expires: 0" in lines


def test_register_with_a_wrong_password_is_reported_failed(sip_stack: SipStack, sipp: Start) -> None:
    registrar = sipp("register.xml", calls=1, subs={"EXPIRES": "60"})

    async def go() -> None:
        rec = Recorder()
        states: list[tuple[str, bool]] = []
        tel, _sched = make_telephony(sip_stack, trunk(registrar.port, username="alice", password="nope", register=True),
                                     rec, on_trunk_state=lambda n, up: states.append((n, up)))
        reg = tel.registrations["carrier"]
        assert tel.health["carrier"].usable
        tel.start()
        await until(lambda: reg.failures >= 1)
        assert not reg.registered and reg.ok == 0
        assert reg.last_status is not None and " 403 " in f"{reg.last_status} "
        # a refused binding takes the trunk out of routing, like failed OPTIONS probes
        assert not tel.health["carrier"].usable and states == [("carrier", False)]
        tel.stop()

    asyncio.run(go())
    assert registrar.wait() == 0, registrar.output()


def test_a_trunk_that_registers_needs_a_username() -> None:
    with pytest.raises(ValueError, match="username"):
        SipTrunk("carrier", "127.0.0.1", register=True)


def test_bindings_are_renewed_before_they_run_out() -> None:
    assert refresh_after(1) == 0.5 and refresh_after(120) == 60.0 and refresh_after(3600) == 3540.0

"""SIP over TCP: calls to a trunk reached over TCP (SIPp listening with -t t1)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sip.conftest import Recorder, answered_once, dial, make_telephony, settle
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.tcp import split_messages
from waihu.domain.calls import LossCause
from waihu.domain.messages import CallEnded, CallFailed

Start = Callable[..., Any]


def tcp_trunk(port: int) -> SipTrunk:
    return SipTrunk.from_uri("carrier", f"sip:127.0.0.1:{port};transport=TCP", options_interval=0)


def test_answered_calls_over_tcp(sip_stack: SipStack, sipp: Start, tmp_path: Path) -> None:
    uas = sipp("answer_tcp.xml", hold_ms=300, calls=3, extra=("-t", "t1", "-trace_msg"))

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, tcp_trunk(uas.port), rec)
        for i in range(3):
            tel.dial(dial(f"t{i}"), sched.now())
        for i in range(3):
            events = await rec.final(f"t{i}")
            assert answered_once(events) and events[-1] == CallEnded(f"t{i}", "callee"), rec.kinds(f"t{i}")
        await settle(sip_stack, sched)

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()
    seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_messages.log"))
    sent = [line for line in seen.splitlines() if line.startswith("Via:") and "z9hG4bK-" not in line]
    assert sent and all(line.startswith("Via: SIP/2.0/TCP ") for line in sent), sent[:3]  # our messages say TCP


def test_ring_timeout_cancels_over_tcp(sip_stack: SipStack, sipp: Start) -> None:
    uas = sipp("noanswer_tcp.xml", calls=1, extra=("-t", "t1"))

    async def go() -> None:
        rec = Recorder()
        tel, sched = make_telephony(sip_stack, tcp_trunk(uas.port), rec)
        tel.dial(dial("n1", ring_timeout=0.5), sched.now())
        events = await rec.final("n1")
        assert isinstance(events[-1], CallFailed) and events[-1].cause is LossCause.NO_ANSWER
        assert events[-1].sip_code == 487

    asyncio.run(go())
    assert uas.wait() == 0, uas.output()


def test_stream_framing() -> None:
    msg = b"OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc"
    buf = bytearray(b"\r\n\r\n" + msg + b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\nINVITE sip:b SIP/2.0\r\nCont")
    assert split_messages(buf) == [msg, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"]
    assert bytes(buf) == b"INVITE sip:b SIP/2.0\r\nCont"  # the rest waits for more bytes
    for bad in (b"BYE sip:a SIP/2.0\r\nVia: x\r\n\r\n", b"BYE sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n",
                b"BYE sip:a SIP/2.0\r\n" + b"X: y\r\n" * 20000,
                b"BYE sip:a SIP/2.0\r\n" + b"X: y\r\n" * 20000 + b"Content-Length: 0\r\n\r\n"):
        with pytest.raises(ValueError):
            split_messages(bytearray(bad))

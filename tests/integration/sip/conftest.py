"""SIPp-backed fixtures: a SIP stack on loopback and SIPp processes on ports of their own."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.bench.sipp import free_udp_port, wait_bound
from waihu.domain.messages import CallAnswered, CallEnded, CallFailed, Dial, Event
from waihu.domain.phone import PhoneNumber

SCENARIOS = Path(__file__).parent / "scenarios"

if shutil.which("sipp") is None:
    pytest.fail("SIPp is not installed (Debian package sip-tester; ./scripts/setup installs it)",
                pytrace=False)


def free_port() -> int:
    return free_udp_port()


@dataclass
class Sipp:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def wait(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[object]:
    started: list[Sipp] = []

    def start(scenario: str, *, hold_ms: int = 300, calls: int | None = None, subs: dict[str, str] | None = None,
              extra: tuple[str, ...] = (), port: int | None = None) -> Sipp:
        text = (SCENARIOS / scenario).read_text()
        for k, v in (subs or {}).items():
            text = text.replace(f"@{k}@", v)
        path = tmp_path / f"{len(started)}-{scenario}"
        path.write_text(text)
        port = port or free_port()
        log = tmp_path / f"{len(started)}-sipp.out"
        args = ["sipp", "-sf", str(path), "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_port()),
                "-cp", str(free_port()), "-ci", "127.0.0.1", "-nostdin",
                "-d", str(hold_ms), "-trace_err", "-error_file", str(tmp_path / f"{len(started)}-err.log"),
                *extra]
        if calls is not None:
            args += ["-m", str(calls)]
        with log.open("wb") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
        s = Sipp(proc, port, log)
        started.append(s)
        wait_bound(port, transport="tcp" if "-t" in extra else "udp")
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.terminate()
            try:
                s.proc.wait(5)
            except subprocess.TimeoutExpired:
                s.proc.kill()


@pytest.fixture(scope="session")
def sip_stack() -> Iterator[SipStack]:
    stack = SipStack("127.0.0.1", free_port())
    stack.start()
    yield stack
    stack.stop()


@dataclass
class Recorder:
    """Events per call, and a way to wait for a call's final event."""

    events: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))
    waiters: dict[str, asyncio.Event] = field(default_factory=dict)

    def deliver(self, event: Event, now: float) -> None:
        cid = getattr(event, "call_id", None)
        if cid is None:
            return
        self.events[cid].append(event)
        if isinstance(event, (CallFailed, CallEnded)):
            self._waiter(cid).set()

    def _waiter(self, cid: str) -> asyncio.Event:
        return self.waiters.setdefault(cid, asyncio.Event())

    async def final(self, cid: str, timeout: float = 10.0) -> list[Event]:
        await asyncio.wait_for(self._waiter(cid).wait(), timeout)
        return self.events[cid]

    async def first(self, cid: str, kind: type, timeout: float = 10.0) -> None:
        async def seen() -> None:
            while not any(isinstance(e, kind) for e in self.events[cid]):
                await asyncio.sleep(0.01)
        await asyncio.wait_for(seen(), timeout)

    def kinds(self, cid: str) -> list[str]:
        return [type(e).__name__ for e in self.events[cid]]


def finals(events: list[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, (CallFailed, CallEnded))]


def answered_once(events: list[Event]) -> bool:
    return sum(isinstance(e, CallAnswered) for e in events) == 1


def make_telephony(stack: SipStack, trunk: SipTrunk, rec: Recorder,
                   on_trunk_state: Callable[[str, bool], None] | None = None) -> tuple[SipTelephony, AsyncioScheduler]:
    sched = AsyncioScheduler(asyncio.get_running_loop(), rec.deliver)
    return SipTelephony(stack, [trunk], sched, sched.clock, on_trunk_state=on_trunk_state), sched


def dial(call_id: str, ring_timeout: float = 10.0, number: str = "+8613912345678") -> Dial:
    return Dial(call_id, "camp", f"contact-{call_id}", PhoneNumber(number), ring_timeout)


async def until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (polling) until ``cond()`` holds; fail after ``timeout`` seconds."""
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


async def settle(stack: SipStack, sched: AsyncioScheduler) -> None:
    """Round-trip through the SIP thread: whatever it had queued has reached the loop."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    stack.call(lambda: loop.call_soon_threadsafe(done.set_result, None))
    await asyncio.wait_for(done, 5)
    await asyncio.sleep(0)

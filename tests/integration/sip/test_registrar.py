"""waihu's registrar: an agent's softphone registers with digest credentials and is called there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.integration.sip.conftest import settle, until
from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.registrar import Account, Registrar
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony

Start = Callable[..., Any]
ALICE = Account("tenant-1", "agent-7", "correct-horse-battery")


def registrar(stack: SipStack) -> tuple[Registrar, list[str]]:
    looked_up: list[str] = []

    def lookup(user: str) -> Account | None:
        looked_up.append(user)
        return ALICE if user == "alice" else None

    return Registrar(stack, lookup), looked_up


def register(sipp: Start, stack: SipStack, *, user: str = "alice", password: str = ALICE.password,
             expires: int = 300, code: int = 200, phone_port: int = 5999) -> Any:
    return sipp("register_phone.xml", calls=1, extra=(f"127.0.0.1:{stack.port}",),
                subs={"USER": user, "PASS": password, "EXPIRES": str(expires), "CODE": str(code),
                      "PHONE_PORT": str(phone_port)})


def test_a_registered_phone_is_called_where_it_registered(sip_stack: SipStack, sipp: Start) -> None:
    reg, looked_up = registrar(sip_stack)
    phone = sipp("agent_session.xml", calls=1)
    r = register(sipp, sip_stack, phone_port=phone.port)
    assert r.wait() == 0, r.output()
    b = reg.binding("alice")
    assert b is not None, "no binding"
    assert (b.uri, b.tenant_id, b.agent_id, b.user_agent) == (
        f"sip:alice@127.0.0.1:{phone.port}", "tenant-1", "agent-7", "SIPp softphone")
    assert 290 < b.expires_at - reg.clock() <= 300
    assert looked_up == ["alice"]

    async def go() -> None:
        sched = AsyncioScheduler(asyncio.get_running_loop(), lambda ev, now: None)
        tel = SipTelephony(sip_stack, [SipTrunk("carrier", "127.0.0.1", phone.port, options_interval=0)],
                           sched, sched.clock)
        tel.login_agent("agent-7", b.uri)
        await until(lambda: tel.agent_state("agent-7") == "idle")
        tel.logout_agent("agent-7")
        await settle(sip_stack, sched)

    asyncio.run(go())
    assert phone.wait() == 0, phone.output()


def test_wrong_credentials_and_unknown_accounts_are_forbidden(sip_stack: SipStack, sipp: Start) -> None:
    reg, looked_up = registrar(sip_stack)
    bad = register(sipp, sip_stack, password="not the password", code=403)
    assert bad.wait() == 0, bad.output()
    nobody = register(sipp, sip_stack, user="mallory", code=403)
    assert nobody.wait() == 0, nobody.output()
    again = register(sipp, sip_stack, user="mallory", code=403)
    assert again.wait() == 0, again.output()
    assert reg.binding("alice") is None and reg.binding("mallory") is None
    assert reg.failures == 3
    assert looked_up == ["alice", "mallory"]  # the miss is cached: one lookup per name


def test_expiry_bounds_and_removal(sip_stack: SipStack, sipp: Start) -> None:
    reg, _ = registrar(sip_stack)
    brief = register(sipp, sip_stack, expires=30, code=423)
    assert brief.wait() == 0, brief.output()
    assert reg.binding("alice") is None
    long = register(sipp, sip_stack, expires=86400)
    assert long.wait() == 0, long.output()
    b = reg.binding("alice")
    assert b is not None and b.expires_at - reg.clock() <= reg.max_expires
    gone = register(sipp, sip_stack, expires=0)
    assert gone.wait() == 0, gone.output()
    assert reg.binding("alice") is None

"""The live host on SIP trunks, in process and in real time: an agent's phone that does not take
the login call keeps the agent logged out (with an alert); OPTIONS probes that fail take the
trunk out of routing; a trunk that loses its SIP address moves the tenant back to the simulated
network; without a SIP stack a tenant's SIP trunks are never simulated: its calls are held."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.sip.conftest import until
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.storage.models import Agent
from waihu.bootstrap import Platform
from waihu.domain.errors import Conflict
from waihu.domain.messages import AgentLoggedIn, AgentLoggedOut
from waihu.service.directory import create_agent, get_agent
from waihu.service.lines import add_trunk, find_trunk
from waihu.service.live import LiveHost
from waihu.service.sip_lines import issue_sip_account, set_trunk_sip
from waihu.service.tenants import ensure_tenant

Start = Callable[..., Any]


def tenant_with(platform: Platform, carrier_port: int, phones: dict[str, str | None]) -> tuple[str, dict[str, str]]:
    now = platform.clock.now()
    with platform.uow("") as uow:
        tid = ensure_tenant(uow, "live-sip", now)
        uow.commit()
    with platform.uow(tid, actor="test") as uow:
        add_trunk(uow, now, name="carrier", capacity=4, cps=5, sip=f"sip:127.0.0.1:{carrier_port}",
                  sip_options_interval=0.2)
        ids = {code: create_agent(uow, code, code, [], now, phone=uri).id for code, uri in phones.items()}
        uow.commit()
    return tid, ids


def recording_alerts(host: LiveHost) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    alert = host.observer.alert

    def record(tid: str, code: str, message: str, now: float, **data: Any) -> None:
        seen.append((code, data))
        alert(tid, code, message, now, **data)

    host.observer.alert = record  # type: ignore[method-assign]
    return seen


async def running(host: LiveHost, body: Callable[[], Any]) -> Any:
    task = asyncio.create_task(host.run())
    try:
        return await body()
    finally:
        host.stop()
        await task


def test_phone_that_rejects_the_login_keeps_the_agent_out_and_failed_probes_eject_the_trunk(
        platform: Platform, sip_stack: SipStack, sipp: Start) -> None:
    carrier = sipp("unavailable.xml")  # 503 to OPTIONS: the probes find the trunk down
    phone = sipp("reject.xml", subs={"CODE": "486", "REASON": "Busy Here"}, calls=1)
    tid, agents = tenant_with(platform, carrier.port, {"1001": f"sip:1001@127.0.0.1:{phone.port}", "1002": None})
    host = LiveHost(platform, sip_listen=(sip_stack.address, sip_stack.port), sip_stack=sip_stack)
    alerts = recording_alerts(host)
    refused: list[str] = []

    async def body() -> None:
        host.submit(tid, host.feed(tid, AgentLoggedIn(agents["1001"])))
        host.submit(tid, host.feed(tid, AgentLoggedIn(agents["1002"])), lambda e: refused.append(e.code))
        await until(lambda: any(code == "agent.phone_unreachable" for code, _ in alerts))
        assert host.agent(tid, agents["1001"]) is None, "never logged in: the phone did not answer"
        assert refused == ["agent.no_phone"]
        lane = host.tenants[tid].lanes["main"]
        assert lane.sip is not None and not lane.sip.pending
        await until(lambda: host.trunks(tid).get("carrier", {}).get("health") == "ejected")
        assert ("trunk.ejected", {"trunk": "carrier", "reason": "options_down"}) in alerts
        # the trunk loses its SIP address: the tenant is back on the simulated network
        with platform.uow(tid, actor="test") as uow:
            set_trunk_sip(uow, platform.clock.now(), find_trunk(uow, name="carrier"), None)
            uow.commit()
        host.lines_changed(tid)
        await until(lambda: lane.sip is None)
        assert host.sip is not None and not host.sip.tenants[tid].active

    asyncio.run(running(host, body))
    assert ("agent.phone_unreachable", {"agent_id": agents["1001"], "reason": "failed"}) in alerts
    assert phone.wait() == 0, phone.output()


def test_while_the_phone_rings_the_agent_is_logging_in_and_logging_out_cancels_the_call(
        platform: Platform, sip_stack: SipStack, sipp: Start) -> None:
    carrier = sipp("options.xml")
    phone = sipp("noanswer.xml", calls=1)  # rings until we give up
    tid, agents = tenant_with(platform, carrier.port, {"1001": f"sip:1001@127.0.0.1:{phone.port}"})
    aid = agents["1001"]
    host = LiveHost(platform, sip_listen=(sip_stack.address, sip_stack.port), sip_stack=sip_stack)

    async def body() -> None:
        host.submit(tid, host.feed(tid, AgentLoggedIn(aid)))
        await until(lambda: (host.agent(tid, aid) or {}).get("state") == "phone_ringing")
        assert host.agents(tid) == [], "not on the floor yet: the wallboard does not count the agent"
        host.submit(tid, host.feed(tid, AgentLoggedOut(aid)))  # changed their mind: the phone stops ringing
        await until(lambda: host.agent(tid, aid) is None)

    asyncio.run(running(host, body))
    assert phone.wait() == 0, phone.output()  # SIPp saw our CANCEL


def test_without_a_sip_stack_sip_trunks_are_not_simulated_and_calls_are_held(
        platform: Platform) -> None:
    tid, agents = tenant_with(platform, 5060, {"1001": "sip:1001@127.0.0.1:5062"})
    host = LiveHost(platform)
    alerts = recording_alerts(host)
    host.submit(tid, host.feed(tid, AgentLoggedIn(agents["1001"])))  # a simulated desk: no phone called
    host.advance(host.now + 0.1)
    assert host.agent(tid, agents["1001"]) is not None
    assert [c for c, _ in alerts] == ["line.sip_unavailable"]
    lane = host.tenants[tid].lanes["main"]
    assert lane.sip is None and lane.routing, "routed, over no trunk: every call is held"
    assert host.tenants[tid].lines is not None and not host.tenants[tid].lines.router.live


def test_serve_refuses_a_speed_other_than_real_time_with_sip(platform: Platform) -> None:
    with pytest.raises(ValueError, match="real time"):
        LiveHost(platform, speed=10, sip_listen=("127.0.0.1", 5060))


def test_an_agent_with_a_sip_account_is_called_where_its_phone_registered(
        platform: Platform, sip_stack: SipStack, sipp: Start) -> None:
    carrier = sipp("options.xml")
    phone = sipp("agent_session.xml", calls=1)
    tid, agents = tenant_with(platform, carrier.port, {"1001": None})
    aid = agents["1001"]
    with platform.uow(tid, actor="test") as uow:
        account = issue_sip_account(uow, platform.clock.now(), get_agent(uow, aid))
        uow.commit()
    host = LiveHost(platform, sip_listen=(sip_stack.address, sip_stack.port), sip_stack=sip_stack)

    def agent() -> Agent:
        with platform.uow(tid) as uow:
            return get_agent(uow, aid)

    with pytest.raises(Conflict) as e:
        host.check_login(tid, agent())
    assert e.value.code == "agent.phone_not_registered"
    reg = sipp("register_phone.xml", calls=1, extra=(f"127.0.0.1:{sip_stack.port}",),
               subs={"USER": account["username"], "PASS": account["password"], "EXPIRES": "300", "CODE": "200",
                     "PHONE_PORT": str(phone.port)})
    assert reg.wait() == 0, reg.output()
    host.check_login(tid, agent())  # registered now

    async def body() -> None:
        host.submit(tid, host.feed(tid, AgentLoggedIn(aid)))
        await until(lambda: (host.agent(tid, aid) or {}).get("state") not in (None, "phone_ringing"))
        host.submit(tid, host.feed(tid, AgentLoggedOut(aid)))
        await until(lambda: (host.agent(tid, aid) or {}).get("state") == "offline")

    asyncio.run(running(host, body))
    assert phone.wait() == 0, phone.output()  # called at the registered Contact, then hung up at logout
    with platform.uow(tid, actor="test") as uow:
        issue_sip_account(uow, platform.clock.now(), get_agent(uow, aid))  # a new account: the old phone is out
        uow.commit()
    with pytest.raises(Conflict) as e2:
        host.check_login(tid, agent())
    assert e2.value.code == "agent.phone_not_registered"

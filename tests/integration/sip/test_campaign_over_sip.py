"""A whole campaign over real SIP: the engine, the SQL store and SipTelephony against SIPp.

SIPp plays the carrier (each callee's answer is chosen by the last digit of the number) and
the agents' phones (nailed-up legs). SIPp logs what it did with every call; every CDR must
say the same thing about the same call (matched by the SIP Call-ID of the dialog).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.integration.sip.conftest import until
from waihu.adapters.realtime import AsyncioScheduler
from waihu.adapters.sip.config import SipTrunk
from waihu.adapters.sip.stack import SipStack
from waihu.adapters.sip.telephony import SipTelephony
from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.adapters.storage.models import CampaignContact, Cdr
from waihu.bootstrap import Platform
from waihu.domain.calls import Outcome
from waihu.domain.campaigns import RetryPolicy
from waihu.domain.messages import AgentLoggedIn, AgentLoggedOut, CampaignActivated
from waihu.engine.dialer import Dialer
from waihu.numbering import normalize
from waihu.service.campaigns import create_campaign, spec_for, transition
from waihu.service.contacts import merge_rows
from waihu.service.importing.mapping import ParsedRow
from waihu.service.runtime import DialerRuntime
from waihu.service.tenants import ensure_tenant

Start = Callable[..., Any]

CONTACTS = 200
AGENTS = [f"10{i:02d}" for i in range(1, 11)]  # ten agents, five on each of two SIPp phones
# what SIPp's carrier does by the number's last digit, and the CDR that must come of it
BY_DIGIT = {**dict.fromkeys("0123", "bridged"), **dict.fromkeys("45", "486"), **dict.fromkeys("67", "487"),
            "8": "404", "9": "603"}
EXPECTED = {  # what SIPp logged -> (outcome, sip_code, hangup_by)
    "bridged": (Outcome.CONNECTED.value, None, "callee"),
    "486": (Outcome.BUSY.value, 486, None),
    "487": (Outcome.NO_ANSWER.value, 487, None),
    "404": (Outcome.INVALID_NUMBER.value, 404, None),
    "603": (Outcome.REJECTED.value, 603, None),
    "answered": (Outcome.ABANDONED.value, None, "system"),
}


def read_log(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def seed_campaign(platform: Platform, numbers: list[str], now: float) -> tuple[str, Any]:
    with platform.uow("") as uow:
        tid = ensure_tenant(uow, "sip-e2e", now)
        c = create_campaign(uow, "over-sip", now)
        rows = [ParsedRow(row=i + 2, phones=[normalize(n)], name=None, fields={}, attributes={})
                for i, n in enumerate(numbers)]
        merge_rows(uow, rows, now, campaign_id=c.id, filename="sip")
        transition(uow, c, "start", now)
        spec = spec_for(c)
        uow.commit()
    # short rings and wrap-ups so that the test runs in seconds; one attempt per contact. The ring
    # timeout stays well above the carrier's 100 ms ring, so that a loaded machine's late 200 OK
    # does not cross our CANCEL (that is an abandoned call, which SIPp would log as answered)
    spec.ring_timeout, spec.wrap_limit, spec.retry = 2.5, 0.05, RetryPolicy({})
    spec.default_trunk = "carrier"
    spec.default_caller_id = "4008001234"
    return tid, spec


def test_campaign_of_200_contacts_over_sip_matches_sipp(platform: Platform, sip_stack: SipStack, sipp: Start,
                                                       tmp_path: Path) -> None:
    numbers = [f"+861390000{i:04d}" for i in range(CONTACTS)]
    carrier_log = tmp_path / "carrier.log"
    carrier = sipp("carrier_mixed.xml", calls=CONTACTS, subs={"RING_MS": "100", "TALK_MS": "150"},
                   extra=("-trace_logs", "-log_file", str(carrier_log)))
    phone_logs = [tmp_path / f"phone{i}.log" for i in range(2)]
    phones = [sipp("agent_session.xml", calls=len(AGENTS) // 2, extra=("-trace_logs", "-log_file", str(log)))
              for log in phone_logs]
    t0 = time.monotonic()
    tid, spec = seed_campaign(platform, numbers, time.time())

    async def go() -> SipTelephony:
        sched = AsyncioScheduler(asyncio.get_running_loop())
        tel = SipTelephony(sip_stack, [SipTrunk("carrier", "127.0.0.1", carrier.port, options_interval=0)],
                           sched, sched.clock)
        store = SqlDialerStore(platform.engine, platform.codec, tid)
        engine = Dialer(tid)
        drained = asyncio.Event()
        runtime = DialerRuntime(engine, tel, store, sched, on_drained=lambda _c, _t: drained.set())
        sched.bind(runtime.deliver)
        for i, agent in enumerate(AGENTS):  # the agents' phones are called once, for the session
            tel.login_agent(agent, f"sip:{agent}@127.0.0.1:{phones[i % 2].port}")
        await until(lambda: all(tel.agent_state(a) == "idle" for a in AGENTS))
        runtime.feed(CampaignActivated(spec), sched.now())
        for agent in AGENTS:
            runtime.feed(AgentLoggedIn(agent), sched.now())
        await asyncio.wait_for(drained.wait(), 40)
        await until(lambda: not engine.calls and not engine.wrapping)
        for agent in AGENTS:
            runtime.feed(AgentLoggedOut(agent), sched.now())
            tel.logout_agent(agent)
        await until(lambda: all(tel.agent_state(a) == "offline" for a in AGENTS))
        store.flush()
        return tel

    tel = asyncio.run(go())
    elapsed = time.monotonic() - t0
    assert carrier.wait() == 0, carrier.output()
    for p in phones:
        assert p.wait() == 0, p.output()

    # what SIPp's carrier did with each call, by SIP Call-ID
    sipp_saw = {parts[0]: (parts[1], parts[2]) for parts in read_log(carrier_log)}
    assert len(sipp_saw) == CONTACTS
    with platform.uow(tid) as uow:
        cdrs = list(uow.session.scalars(select(Cdr).where(Cdr.tenant_id == tid)))
        states = Counter(uow.session.scalars(select(CampaignContact.state).where(
            CampaignContact.tenant_id == tid)))
    assert len(cdrs) == CONTACTS and len({c.contact_id for c in cdrs}) == CONTACTS
    assert sum(states.values()) == CONTACTS and states["pending"] == 0, states
    hashes = {platform.codec.phone_hash(n): n for n in numbers}
    bridged_by_agent: dict[str, list[str]] = {a: [] for a in AGENTS}
    for cdr in cdrs:
        trace = tel.trace(cdr.id)
        assert trace is not None and trace.trunk == "carrier"
        number, what = sipp_saw.pop(trace.sip_call_id)  # one SIPp call per CDR, never two
        assert hashes[cdr.phone_hash] == "+" + number  # the same callee on both sides
        assert BY_DIGIT[number[-1]] == what  # SIPp did what its scenario says for that number
        assert (cdr.outcome, cdr.sip_code, cdr.hangup_by) == EXPECTED[what], (number, what)
        if cdr.outcome == Outcome.CONNECTED.value:
            assert cdr.agent_id in AGENTS and cdr.bridge_at is not None
            bridged_by_agent[cdr.agent_id].append(number)
    assert sipp_saw == {}
    outcomes = Counter(c.outcome for c in cdrs)
    assert outcomes == {"connected": 80, "busy": 40, "no_answer": 40, "invalid_number": 20, "rejected": 20}

    # each agent's phone got the SDP of exactly the customers its CDRs say, and was parked after each
    phone_saw: dict[str, list[str]] = {a: [] for a in AGENTS}
    parked: Counter[str] = Counter()
    for log in phone_logs:
        for parts in read_log(log):
            if parts[2] == "sdp" and parts[3].startswith("callee"):
                phone_saw[parts[1]].append(parts[3].removeprefix("callee"))
            elif parts[2] == "sdp" and parts[3] == "waihu":
                parked[parts[1]] += 1
    assert {a: sorted(v) for a, v in phone_saw.items()} == {a: sorted(v) for a, v in bridged_by_agent.items()}
    assert parked == Counter({a: len(v) for a, v in bridged_by_agent.items() if v})
    assert tel.agents.bridges == 80
    print(f"\n200-contact SIP campaign: {elapsed:.1f} s")

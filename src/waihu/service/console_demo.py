"""``waihu serve --demo``: a running campaign on the simulated network with simulated agents in
the live runtime, and logins for a person to join the floor as one more agent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from waihu.adapters.storage.models import Agent
from waihu.adapters.storage.models_api import User
from waihu.bootstrap import Platform
from waihu.domain.messages import AgentLoggedIn
from waihu.service.auth import create_user
from waihu.service.campaigns import create_campaign, dispositions_of, find_campaign, transition
from waihu.service.contacts import merge_rows
from waihu.service.demo import demo_rows, simulated_agents
from waihu.service.directory import create_agent
from waihu.service.live import LiveHost
from waihu.service.tenants import ensure_tenant, find_tenant

TENANT = "console-demo"
PASSWORD = "waihu-demo"  # noqa: S105 - the published password of the local demo logins
LOGINS = (("demo-admin", "tenant_admin"), ("demo-supervisor", "supervisor"), ("demo-agent", "agent"))
SCRIPT = "您好，{name}，我是外呼中心的客服，打扰您一分钟。"


def prepare(platform: Platform, live: LiveHost, *, agents: int = 4, contacts: int = 400, seed: int = 7,
            mode: str = "predictive") -> dict[str, Any]:
    """Create (or reuse) the demo tenant, start a new demo campaign and put the simulated agents on
    the floor of the live runtime. Call before the runtime task starts."""
    now = platform.clock.now()
    with platform.uow("", actor="demo") as uow:
        tid = find_tenant(uow, TENANT) or ensure_tenant(uow, TENANT, now)
        uow.tenant_id = tid
        name, n = "console-demo", 1
        while find_campaign(uow, name) is not None:
            n += 1
            name = f"console-demo-{n}"
        # the live dialer applies the compliance rules to the demo too; its calling window is open all
        # day so that the demo works at any hour (real campaigns keep the tenant's window)
        c = create_campaign(uow, name, now, job_type="marketing", mode=mode, script_ref=SCRIPT,
                            options={"compliance": {"windows": ["00:00-24:00"]}})
        merge_rows(uow, demo_rows(contacts, seed + n), now, campaign_id=c.id, filename="demo")
        sims = simulated_agents(uow, agents, now, uow.new_id)
        human = uow.session.scalar(select(Agent).where(Agent.tenant_id == tid, Agent.code == "DEMO"))
        human_id = human.id if human is not None else create_agent(uow, "DEMO", "演示座席 Demo", [], now).id
        for username, role in LOGINS:
            if uow.session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(uow, username, PASSWORD, role, now,
                            agent_id=human_id if role == "agent" else None)
        transition(uow, c, "start", now)
        disps = dispositions_of(c)
        groups = {a.id: frozenset(a.groups) for a in uow.session.scalars(select(Agent).where(Agent.id.in_(sims)))}
        uow.commit()
    lane = live.lane(tid)
    lane.robots.agent_ids.update(sims)
    lane.robots.dispositions[c.id] = disps
    for aid in sims:
        live.submit(tid, live.feed(tid, AgentLoggedIn(aid, groups.get(aid, frozenset()))))
    return {"tenant_id": tid, "campaign": name, "campaign_id": c.id, "simulated_agents": len(sims),
            "logins": [u for u, _ in LOGINS], "password": PASSWORD}

"""Agents' SIP accounts over the API: the platform makes up the user name and the password,
shows the password once, seals it, audits the change without it, and keeps tenants apart."""

from __future__ import annotations

from sqlalchemy import select, text
from tests.apitools import World, error_code

from waihu.adapters.storage.models import AuditEntry
from waihu.service.sip_lines import sip_account


def test_issue_show_reissue_and_remove_a_sip_account(world: World) -> None:
    a, b = world.tenant("sip-a"), world.tenant("sip-b")
    aid = world.post("/v1/agents", a, json={"code": "1001", "name": "王五"}).json()["id"]
    assert world.get(f"/v1/agents/{aid}/sip-account", a).status_code == 404
    r = world.post(f"/v1/agents/{aid}/sip-account", a)
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["username"].startswith("1001.") and issued["realm"] == "waihu" and len(issued["password"]) >= 20
    shown = world.get(f"/v1/agents/{aid}/sip-account", a).json()
    assert shown == {"username": issued["username"], "realm": "waihu", "registered": False,
                     "registered_until": None, "contact": None}
    assert "password" not in shown
    assert world.get(f"/v1/agents/{aid}", a).json()["sip_user"] == issued["username"]
    account = sip_account(world.platform, issued["username"])
    assert account is not None and (account.tenant_id, account.agent_id, account.password) == (
        a.id, aid, issued["password"])
    with world.platform.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT sip_user, sip_secret FROM agents")) for v in row)
        audits = " ".join(str(d) for d in conn.execute(select(AuditEntry.detail)).scalars())
    assert issued["password"] not in stored and issued["password"] not in audits
    assert issued["username"] in audits
    # another tenant, and roles that may not manage agents, cannot touch it
    assert world.post(f"/v1/agents/{aid}/sip-account", b).status_code == 404
    assert world.get(f"/v1/agents/{aid}/sip-account", b).status_code == 404
    denied = world.post(f"/v1/agents/{aid}/sip-account", a, "agent")
    assert denied.status_code == 403 and error_code(denied) == "auth.forbidden"
    # a new account replaces the old one: the old name no longer registers
    again = world.post(f"/v1/agents/{aid}/sip-account", a).json()
    assert again["username"] != issued["username"] and sip_account(world.platform, issued["username"]) is None
    assert world.client.delete(f"/v1/agents/{aid}/sip-account", headers=a.h()).status_code == 204
    assert sip_account(world.platform, again["username"]) is None
    assert world.get(f"/v1/agents/{aid}", a).json()["sip_user"] is None

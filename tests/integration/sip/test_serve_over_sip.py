"""``waihu serve --sip-listen``: the whole platform dialling over a SIPp carrier in real time.

A trunk gets a SIP address through the API; an agent with a SIP phone (SIPp) logs in, which
calls the phone; a progressive campaign and a click-to-call then go out over the carrier (SIPp),
bridged to the agent's phone. The CDRs, call records and signaling logs come back through the
API and match what SIPp logged; the trunk's password never shows.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.api.test_serve_cli import _free_port, _wait_ready
from tests.e2e.conftest import WAIHU, last_json, run_waihu
from tests.integration.sip.conftest import free_port
from tests.integration.sip.test_campaign_over_sip import read_log

Start = Callable[..., Any]
# carrier_mixed.xml acts on the last digit: 0-3 answer (and take the bridge), 4-5 busy, 8 not found, 9 decline
NUMBERS = ["13900000010", "13900000021", "13900000034", "13900000048", "13900000059", "13900000062"]
OUTCOME = {"0": "connected", "1": "connected", "2": "connected", "4": "busy", "8": "invalid_number",
           "9": "rejected"}


def poll(get: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    """Ask until the answer is ``ok`` (the server runs in real time); fail after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        got = get()
        if ok(got):
            return got
        if time.monotonic() > end:
            raise AssertionError(f"still not there after {timeout} s: {got}")
        time.sleep(0.1)  # the server's real-time work, not a race being hidden


def test_serve_dials_campaign_and_click_to_call_over_sip(db_url: str, sipp: Start, tmp_path: Path) -> None:
    doc = last_json(run_waihu("tenant", "create", "sipco", "--json", db=db_url).stdout)
    rules = tmp_path / "rules.yaml"
    rules.write_text('windows: ["00:00-24:00"]\n')  # the test runs at any hour of the day
    run_waihu("compliance", "set", str(rules), "--tenant", "sipco", db=db_url)
    carrier_log, phone_log = tmp_path / "carrier.log", tmp_path / "phone.log"
    carrier = sipp("carrier_mixed.xml", subs={"RING_MS": "100", "TALK_MS": "300"},
                   extra=("-trace_logs", "-log_file", str(carrier_log)))
    phone = sipp("agent_session.xml", calls=1, extra=("-trace_logs", "-log_file", str(phone_log)))
    port, sip_port = _free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WAIHU_DATABASE_URL": db_url}
    log = tmp_path / "serve.log"  # a file, not a pipe: the logs of many requests would fill a pipe
    with log.open("w") as out:
        proc = subprocess.Popen([str(WAIHU), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--sip-listen", f"127.0.0.1:{sip_port}"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    h = {"Authorization": f"Bearer {doc['api_token']}"}
    c = httpx.Client(base_url=base, headers=h, timeout=10.0)
    try:
        _wait_ready(base, proc)
        # the carrier line: a SIP address with a digest password that no reader ever sees
        r = c.post("/v1/trunks", json={"name": "carrier", "capacity": 10, "cps": 20, "sip": {
            "uri": f"sip:gw1@127.0.0.1:{carrier.port}", "password": "s3cret-pw", "options_interval": 0}})
        assert r.status_code == 201, r.text
        assert r.json()["sip"] == {"uri": f"sip:gw1@127.0.0.1:{carrier.port}", "registration": False, "pai": False,
                                   "options_interval": 0.0, "password_set": True}
        assert "s3cret-pw" not in c.get("/v1/trunks").text
        bad = c.post("/v1/trunks", json={"name": "b", "capacity": 1, "cps": 1,
                                         "sip": {"uri": "sip:@", "registration": True}})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "trunk.invalid_sip"
        # over SIP a call with no agent has no robot to talk to: refused, nothing dialled
        robot = c.post("/v1/outbound", json={"phone": "+8613900000070"})
        assert robot.status_code == 409 and robot.json()["error"]["code"] == "outbound.robot_over_sip"

        agent = c.post("/v1/agents", json={"code": "1001", "name": "Li",
                                           "phone": f"sip:1001@127.0.0.1:{phone.port}"}).json()
        assert agent["phone"] == f"sip:1001@127.0.0.1:{phone.port}"
        phoneless = c.post("/v1/agents", json={"code": "1002", "name": "Wang"}).json()
        refused = c.post(f"/v1/agents/{phoneless['id']}/login")  # over SIP an agent takes calls on a phone
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "agent.no_phone"
        camp = c.post("/v1/campaigns", json={"name": "over-sip", "mode": "progressive"}).json()
        assert c.patch(f"/v1/campaigns/{camp['id']}/settings", json={"wrap_limit": 0.3, "ring_timeout": 10}) \
            .status_code == 200
        csv = "姓名,手机号\n" + "".join(f"客户{k},{n}\n" for k, n in enumerate(NUMBERS))
        imp = c.post("/v1/imports", files={"file": ("list.csv", csv.encode(), "text/csv")},
                     data={"campaign_id": camp["id"]})
        assert imp.status_code == 201 and imp.json()["imported"] == len(NUMBERS), imp.text

        # logging in calls the agent's phone; the agent is ready once it answers
        assert c.post(f"/v1/agents/{agent['id']}/login").status_code == 202
        poll(lambda: c.get(f"/v1/live/agents/{agent['id']}"), lambda r: r.status_code == 200
             and r.json()["state"] == "ready")
        assert c.post(f"/v1/campaigns/{camp['id']}/start").status_code == 200
        cdrs = poll(lambda: c.get("/v1/cdrs", params={"campaign_id": camp["id"], "limit": 50}).json()["items"],
                    lambda items: len(items) == len(NUMBERS), timeout=60)
        assert all(x["trunk_id"] == "carrier" for x in cdrs)
        assert Counter(x["outcome"] for x in cdrs) == Counter(OUTCOME[n[-1]] for n in NUMBERS)

        # click-to-call for the agent, in the same campaign
        poll(lambda: c.get(f"/v1/live/agents/{agent['id']}").json(), lambda a: a["state"] == "ready")
        r = c.post("/v1/outbound", json={"phone": "+8613900000073", "agent_id": agent["id"],
                                         "campaign_id": camp["id"]})
        assert r.status_code in (201, 202), r.text
        call_id = r.json()["call_id"]
        call = poll(lambda: c.get(f"/v1/calls/{call_id}").json(), lambda x: x.get("cdr") is not None)
        assert call["outcome"] == "connected" and call["cdr"]["trunk_id"] == "carrier"
        # the call's SIP messages are stored a few seconds after its CDR (a late BYE lands first)
        sig = poll(lambda: c.get(f"/v1/cdrs/{call_id}/signaling").json(), lambda d: d["recorded"], timeout=30)
        messages = [m["message"] for m in sig["messages"]]
        # dialled, answered, re-INVITEd with the agent phone's media (the bridge), hung up by the callee
        assert messages[:4] == ["INVITE", "100 INVITE", "180 INVITE", "200 INVITE"], messages
        assert messages.count("INVITE") == 2 and messages[-1] == "BYE", messages
        poll(lambda: c.get(f"/v1/live/agents/{agent['id']}").json(), lambda a: a["state"] == "ready")
        # logging out hangs up the agent's phone
        assert c.post(f"/v1/agents/{agent['id']}/logout").status_code == 202
        assert phone.wait(30) == 0, phone.output()
    finally:
        c.close()
        proc.terminate()
        proc.wait(30)
    err = log.read_text()
    assert "s3cret-pw" not in err and "13900000010" not in err
    # SIPp's carrier saw exactly the calls the CDRs tell of, and bridged the answered ones to the phone
    saw = Counter(parts[2] for parts in read_log(carrier_log))
    assert saw["bridged"] == 4 and saw["486"] == 1 and saw["404"] == 1 and saw["603"] == 1, saw
    agent_saw = [parts[2] for parts in read_log(phone_log)]
    assert agent_saw[0] == "up" and agent_saw[-1] == "logout" and agent_saw.count("sdp") >= 4, agent_saw

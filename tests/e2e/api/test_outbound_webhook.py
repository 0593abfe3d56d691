"""POST /v1/outbound starts a call on the simulated network; the CDR appears through the API
and through a signed webhook posted to a real local HTTP receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from tests.apitools import World

from waihu.service.webhooks import BACKOFF_BASE, deliver_due, verify


class Receiver:
    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if rec.fail_next > 0:
                    rec.fail_next -= 1
                    self.send_response(503)
                else:
                    rec.got.append(({k: v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_outbound_call_cdr_and_signed_webhook(world: World, receiver: Receiver) -> None:
    t = world.tenant("acme")
    sub = world.post("/v1/webhooks", t, json={"url": receiver.url, "events": ["call.ended", "disposition.set"]})
    secret = sub.json()["secret"]
    r = world.post("/v1/outbound", t, "api_client", json={"phone": "+8613800138000"})
    assert r.status_code == 202
    call_id = r.json()["call_id"]
    assert world.get(f"/v1/calls/{call_id}", t).json()["status"] == "queued"
    world.advance(2)
    assert world.get(f"/v1/calls/{call_id}", t).json()["status"] in ("dialing", "ringing")
    world.advance(200)
    call = world.get(f"/v1/calls/{call_id}", t).json()
    assert call["status"] == "ended" and call["outcome"] == "connected" and call["cdr"]["call_id"] == call_id
    cdrs = world.get("/v1/cdrs", t, "api_client").json()["items"]
    assert [x["call_id"] for x in cdrs] == [call_id]
    assert cdrs[0]["phone"] == "138****8000" and cdrs[0]["talk_seconds"] > 0  # api_client: masked
    # deliver through real HTTP to the receiver; verify the signature like a receiver would
    assert deliver_due(world.platform, world.clock.now()) == 2
    assert len(receiver.got) == 2
    by_event = {json.loads(b)["event"]: (h, b) for h, b in receiver.got}
    headers, body = by_event["call.ended"]
    assert verify(secret, int(headers["X-Waihu-Timestamp"]), body, headers["X-Waihu-Signature"])
    assert not verify(secret, int(headers["X-Waihu-Timestamp"]) + 1, body, headers["X-Waihu-Signature"])
    payload = json.loads(body)
    assert payload["data"]["cdr"]["call_id"] == call_id and payload["data"]["cdr"]["outcome"] == "connected"
    assert "13800138000" not in body.decode()  # no phone number leaves in a webhook
    assert json.loads(by_event["disposition.set"][1])["data"]["call_id"] == call_id
    log = world.get(f"/v1/webhooks/{sub.json()['id']}/deliveries", t).json()["items"]
    assert {d["status"] for d in log} == {"delivered"} and all(d["last_status_code"] == 204 for d in log)


def test_webhook_retries_with_backoff_and_replay(world: World, receiver: Receiver) -> None:
    t = world.tenant("acme")
    sub = world.post("/v1/webhooks", t, json={"url": receiver.url, "events": ["call.ended"]}).json()
    world.post("/v1/outbound", t, json={"phone": "13800138000"})
    world.advance(200)
    receiver.fail_next = 2
    p, now = world.platform, world.clock.now()
    assert deliver_due(p, now) == 1 and receiver.got == []
    assert deliver_due(p, now + BACKOFF_BASE - 1) == 0  # not due before the backoff
    assert deliver_due(p, now + BACKOFF_BASE) == 1 and receiver.got == []  # second failure
    assert deliver_due(p, now + BACKOFF_BASE + 2 * BACKOFF_BASE - 1) == 0  # the wait doubles
    assert deliver_due(p, now + 3 * BACKOFF_BASE) == 1 and len(receiver.got) == 1
    log = world.get(f"/v1/webhooks/{sub['id']}/deliveries", t).json()["items"]
    assert log[0]["attempts"] == 3 and log[0]["status"] == "delivered"
    rep = world.post(f"/v1/webhook-deliveries/{log[0]['id']}/replay", t)
    assert rep.status_code == 202 and rep.json()["event_id"] == log[0]["event_id"]
    assert deliver_due(p, now + 3 * BACKOFF_BASE) == 1 and len(receiver.got) == 2
    first, second = (json.loads(b)["id"] for _, b in receiver.got)
    assert first == second  # the same event id: receivers deduplicate at-least-once deliveries


def test_unreachable_receiver_gives_up_after_max_attempts(world: World) -> None:
    t = world.tenant("acme")
    world.platform.settings.webhook_max_attempts = 2
    sub = world.post("/v1/webhooks", t, json={"url": "http://127.0.0.1:9/none", "events": ["call.ended"]}).json()
    world.post("/v1/outbound", t, json={"phone": "13800138000"})
    world.advance(200)
    now = world.clock.now()
    deliver_due(world.platform, now)
    deliver_due(world.platform, now + 3600)
    d = world.get(f"/v1/webhooks/{sub['id']}/deliveries", t).json()["items"][0]
    assert d["status"] == "failed" and d["attempts"] == 2 and d["last_error"]


def test_rejected_call_is_reported_and_alerted(world: World) -> None:
    t = world.tenant("acme")
    sub = world.post("/v1/webhooks", t, json={"url": "http://127.0.0.1:9/x", "events": ["alert"]}).json()
    agent = world.post("/v1/agents", t, json={"code": "A1", "name": "Ann"}).json()["id"]
    world.post(f"/v1/agents/{agent}/login", t)
    world.advance(1)
    first = world.post("/v1/outbound", t, json={"phone": "13800138001", "agent_id": agent})
    second = world.post("/v1/outbound", t, json={"phone": "13800138002", "agent_id": agent})
    assert first.status_code == second.status_code == 202  # both accepted before the runtime ran
    world.advance(1)
    one = world.get(f"/v1/calls/{first.json()['call_id']}", t).json()
    two = world.get(f"/v1/calls/{second.json()['call_id']}", t).json()
    assert one["status"] in ("dialing", "ringing") and one["agent_id"] == agent
    assert two["status"] == "rejected" and two["error_code"] == "agent.busy"
    alerts = world.get(f"/v1/webhooks/{sub['id']}/deliveries", t).json()["items"]
    assert [a["payload"]["data"]["code"] for a in alerts] == ["call.rejected"]
    # the customer of the rejected call can be called again
    world.advance(120)
    a = world.get(f"/v1/live/agents/{agent}", t).json()
    assert a["state"] == "wrap_up"
    world.post(f"/v1/agents/{agent}/wrap-up", t, json={"call_id": a["call_id"], "disposition": "callback"})
    world.advance(1)
    again = world.post("/v1/outbound", t, json={"phone": "13800138002", "agent_id": agent})
    assert again.status_code == 202
    world.advance(2)
    assert world.get(f"/v1/calls/{again.json()['call_id']}", t).json()["status"] in ("dialing", "ringing")

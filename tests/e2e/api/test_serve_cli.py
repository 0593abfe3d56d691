"""The real console script: ``waihu tenant create --json``, ``waihu user create`` and a running
``waihu serve`` answering the contract (health, readiness, metrics, POST /v1/outbound)."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
from tests.e2e.conftest import WAIHU, last_json, run_waihu


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, proc: subprocess.Popen[str], deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # waiting for the port to open, not for a result
    raise AssertionError("serve did not become ready")


def test_tenant_create_and_serve(db_url: str) -> None:
    doc = last_json(run_waihu("tenant", "create", "acme", "--json", db=db_url).stdout)
    assert set(doc) == {"tenant_id", "api_token"} and doc["api_token"].startswith("wh_")
    dup = run_waihu("tenant", "create", "acme", "--json", db=db_url, check=False)
    assert dup.returncode != 0 and last_json(dup.stdout)["error"]["code"] == "tenant.name_taken"
    u = last_json(run_waihu("user", "create", "alice", "--tenant", "acme", "--role", "supervisor",
                            "--password", "alice-password", "--json", db=db_url).stdout)
    assert u["role"] == "supervisor" and u["tenant_id"] == doc["tenant_id"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WAIHU_DATABASE_URL": db_url}
    proc = subprocess.Popen([str(WAIHU), "serve", "--host", "127.0.0.1", "--port", str(port), "--speed", "20"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(base, proc)
        h = {"Authorization": f"Bearer {doc['api_token']}"}
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["checks"] == {"database": "ok", "dialer": "ok"}
        assert httpx.get(f"{base}/openapi.json").json()["paths"]["/v1/outbound"]["post"]
        assert httpx.get(f"{base}/docs").status_code == 200
        r = httpx.post(f"{base}/v1/outbound", headers=h, json={"phone": "+8613800138000"})
        assert r.status_code in (201, 202) and r.json()["call_id"]
        got = httpx.get(f"{base}/v1/calls/{r.json()['call_id']}", headers=h)
        assert got.status_code == 200 and got.json()["call_id"] == r.json()["call_id"]
        login = httpx.post(f"{base}/v1/auth/login", json={"username": "alice", "password": "alice-password"})
        assert login.status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
        assert 'waihu_http_requests_total{method="POST",route="/v1/outbound",status="202"}' in metrics
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    # structured JSON logs, and no full phone number in them
    lines = [ln for ln in err.splitlines() if ln.startswith("{")]
    assert any('"path": "/v1/outbound"' in ln for ln in lines)
    assert "13800138000" not in err

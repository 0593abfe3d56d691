"""``waihu serve --demo``: the printed logins work, simulated agents fill the wallboard and the
person logged in as the demo agent gets a screen-pop."""

from __future__ import annotations

import os
import re
import subprocess
import time

import httpx
from tests.e2e.api.test_serve_cli import _free_port, _wait_ready
from tests.e2e.conftest import WAIHU


def _login(base: str, username: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, follow_redirects=True, timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/").text)
    assert csrf is not None
    r = c.post("/login", data={"username": username, "password": password, "csrf": csrf.group(1)})
    assert r.status_code == 200, r.text
    return c


def test_serve_demo(db_url: str) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WAIHU_DATABASE_URL": db_url}
    proc = subprocess.Popen([str(WAIHU), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port),
                             "--speed", "20"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(base, proc)
        assert proc.stdout is not None
        printed = "".join(proc.stdout.readline() for _ in range(4))
        assert base + "/" in printed
        m = re.search(r"demo-agent / (\S+)", printed)
        assert m is not None, printed
        sup = _login(base, "demo-supervisor", m.group(1))
        agent = _login(base, "demo-agent", m.group(1))
        desk = agent.get("/desk").text
        csrf = re.search(r'name="csrf" content="([^"]+)"', desk)
        assert csrf is not None
        agent.post("/desk/state", data={"csrf": csrf.group(1), "to": "login"})
        end = time.monotonic() + 60
        panel = ""
        while time.monotonic() < end and 'id="screen-pop"' not in panel:
            time.sleep(0.2)  # the served runtime runs in real time (x20): wait for the first bridged call
            panel = agent.get("/desk/panel").text
        assert 'id="screen-pop"' in panel and "****" in panel
        board = sup.get("/wallboard/panel").text
        assert len(re.findall(r"data-agent=", board)) == 5  # four simulated agents and the person
        dialed = re.search(r'class="dialed">(\d+)<', board)
        assert dialed is not None and int(dialed.group(1)) > 0
    finally:
        proc.terminate()
        proc.wait(20)

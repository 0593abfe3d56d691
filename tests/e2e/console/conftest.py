"""A console served by uvicorn on a free port, with the live runtime's time driven by the test,
and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.apitools import World

from waihu.service.auth import create_user
from waihu.service.directory import create_agent

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PW = "secret-pass-1"
VIEW = {"width": 1280, "height": 800}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")


class Served:
    def __init__(self, world: World) -> None:
        self.world = world
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=self.port, log_config=None,
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        ready = threading.Event()
        for _ in range(200):
            if self.server.started:
                ready.set()
                break
            ready.wait(0.05)
        assert self.server.started, "the console did not start"

    def user(self, tenant_id: str, name: str, role: str, agent_code: str | None = None) -> str | None:
        w = self.world
        with w.platform.uow(tenant_id, actor="test") as uow:
            aid = create_agent(uow, agent_code, f"坐席 {agent_code}", [], w.clock.now()).id if agent_code else None
            create_user(uow, name, PW, role, w.clock.now(), agent_id=aid)
            uow.commit()
        return aid

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(db_url: str) -> Iterator[Served]:
    w = World(db_url)
    s = Served(w)
    yield s
    s.stop()
    w.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def login(browser: Any, served: Served, username: str, lang: str = "en-US") -> Any:
    ctx = browser.new_context(viewport=VIEW, locale=lang, extra_http_headers={"Accept-Language": lang})
    page = ctx.new_page()
    page.goto(served.base + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")
    return page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))

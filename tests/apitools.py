"""A test world for the API: the real app on a real database, a settable clock, the live
runtime driven explicitly (no background task, no sleeps), and one token per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from waihu.adapters.clock import FixedClock
from waihu.adapters.simnet.model import CalleeModel
from waihu.api.app import create_app
from waihu.bootstrap import Platform, bootstrap
from waihu.domain.permissions import Role
from waihu.service.accounts import create_tenant
from waihu.service.auth import create_token
from waihu.service.live import LiveHost

T0 = 1_780_021_600.0  # a Friday, 10:26 in Shanghai: inside the default calling window
ALWAYS_ANSWER = CalleeModel(answer_rate=1.0, busy_rate=0.0, rejected_rate=0.0, empty_rate=0.0, suspended_rate=0.0,
                            powered_off_rate=0.0, ring_mean=6.0, talk_mean=30.0, talk_cv=0.2)


@dataclass
class Tenant:
    id: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token

    def h(self, role: str = "tenant_admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


class World:
    def __init__(self, db_url: str, *, callee: CalleeModel = ALWAYS_ANSWER, **settings: Any) -> None:
        self.clock = FixedClock(T0)
        self.platform: Platform = bootstrap(db_url, clock=self.clock)
        for k, v in settings.items():
            setattr(self.platform.settings, k, v)
        self.live = LiveHost(self.platform, callee=callee, seed=3)
        self.app = create_app(self.platform, self.live)
        self.client = TestClient(self.app)
        with self.platform.uow("", actor="test") as uow:
            uow.tenant_id = ""
            _, tok = create_token(uow, "ops", Role.PLATFORM_ADMIN.value, T0)
            uow.commit()
        self.platform_token = tok

    def tenant(self, name: str) -> Tenant:
        with self.platform.uow("", actor="test") as uow:
            t, admin = create_tenant(uow, name, self.clock.now())
            uow.commit()
        ten = Tenant(t.id, {"tenant_admin": admin, "platform_admin": self.platform_token})
        with self.platform.uow(t.id, actor="test") as uow:
            for role in Role:
                if role not in (Role.TENANT_ADMIN, Role.PLATFORM_ADMIN):
                    _, ten.tokens[role.value] = create_token(uow, f"t-{role.value}", role.value, self.clock.now())
            uow.commit()
        return ten

    def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move the clock and run the live runtime to the new time, in steps."""
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.clock.at = min(end, self.clock.now() + step)
            self.live.advance(self.live.virtual_now())

    def close(self) -> None:
        self.client.close()
        self.live.stop()
        self.platform.dispose()

    # shortcuts
    def get(self, path: str, who: Tenant, role: str = "tenant_admin", **kw: Any) -> Any:
        return self.client.get(path, headers=who.h(role), **kw)

    def post(self, path: str, who: Tenant, role: str = "tenant_admin", **kw: Any) -> Any:
        return self.client.post(path, headers=who.h(role), **kw)


def error_code(r: Any) -> str:
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return str(body["error"]["code"])

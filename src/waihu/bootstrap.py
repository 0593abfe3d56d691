"""The one place that wires settings to adapters and services."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from waihu.adapters.clock import SystemClock
from waihu.adapters.storage.db import make_engine, upgrade
from waihu.adapters.storage.keys import SqlKeyStore
from waihu.adapters.storage.pii import PiiCodec
from waihu.adapters.storage.uow import UnitOfWork as UnitOfWork
from waihu.ports import Clock
from waihu.settings import Settings, load_settings


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    codec: PiiCodec
    clock: Clock = field(default_factory=SystemClock)

    def uow(self, tenant_id: str, *, actor: str = "local-operator") -> UnitOfWork:
        return UnitOfWork(self.engine, self.codec, tenant_id, actor=actor)

    def dispose(self) -> None:
        self.engine.dispose()


def bootstrap(database_url: str | None = None, *, migrate: bool = True, clock: Clock | None = None) -> Platform:
    settings = load_settings(database_url=database_url)
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    if migrate:
        upgrade(engine)
    codec = PiiCodec(settings.master_key.get_secret_value(), settings.blind_index_key.get_secret_value())
    SqlKeyStore(engine).attach(codec)  # per-tenant data keys, wrapped by the master key
    return Platform(settings, engine, codec, clock or SystemClock())

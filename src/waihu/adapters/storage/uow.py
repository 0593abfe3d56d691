"""Unit of work: one transaction, scoped to one tenant. Repositories take the tenant from it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from waihu.adapters.storage.pii import PiiCodec


def new_uuid() -> str:
    return uuid.uuid4().hex


class UnitOfWork:
    def __init__(self, engine: Engine, codec: PiiCodec, tenant_id: str, *,
                 new_id: Callable[[], str] = new_uuid, actor: str = "local-operator") -> None:
        self.engine = engine
        self.codec = codec
        self.tenant_id = tenant_id
        self.new_id = new_id
        self.actor = actor
        self._factory = sessionmaker(engine, expire_on_commit=False)
        self.session: Session = self._factory()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is not None:
            self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

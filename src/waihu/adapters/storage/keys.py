"""Tenant data keys: random, wrapped by the master key, versioned (``tenant_keys``).

Keys are created when a tenant is created (before its first write, so that on SQLite the key's
own short transaction never waits on the tenant's), read once per process and cached.
Rotation adds a version: new values are sealed with it, old values stay readable; re-sealing
(``service/keys.py``) moves stored values to the newest version and retires the old ones.
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from waihu.adapters.storage.models_compliance import TenantKey
from waihu.adapters.storage.pii import PiiCodec


class SqlKeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.codec: PiiCodec | None = None  # set by ``attach``: the codec whose master key wraps
        self._keys: dict[tuple[str, int], bytes] = {}
        self._current: dict[str, int] = {}

    def attach(self, codec: PiiCodec) -> None:
        self.codec = codec
        codec.keys = self

    def _wrap(self, tenant_id: str, version: int, key: bytes) -> bytes:
        assert self.codec is not None
        nonce = os.urandom(12)
        return nonce + self.codec.kek.encrypt(nonce, key, f"{tenant_id}:{version}".encode())

    def _unwrap(self, tenant_id: str, version: int, wrapped: bytes) -> bytes:
        assert self.codec is not None
        return self.codec.kek.decrypt(wrapped[:12], wrapped[12:], f"{tenant_id}:{version}".encode())

    def _load(self, tenant_id: str) -> None:
        with self.engine.connect() as conn:
            for version, wrapped in conn.execute(select(TenantKey.version, TenantKey.wrapped_key)
                                                 .where(TenantKey.tenant_id == tenant_id)):
                self._keys[(tenant_id, version)] = self._unwrap(tenant_id, version, wrapped)
                self._current[tenant_id] = max(self._current.get(tenant_id, 0), version)

    def current(self, tenant_id: str) -> tuple[int, bytes] | None:
        if tenant_id not in self._current:
            self._load(tenant_id)
        v = self._current.get(tenant_id)
        return None if v is None else (v, self._keys[(tenant_id, v)])

    def get(self, tenant_id: str, version: int) -> bytes:
        if (tenant_id, version) not in self._keys:
            self._load(tenant_id)
        return self._keys[(tenant_id, version)]

    def create(self, tenant_id: str, now: datetime) -> int:
        """Add a new newest key version for the tenant (its first key, or a rotation)."""
        key = os.urandom(32)
        for _ in range(3):
            with self.engine.connect() as conn:
                version = int(conn.execute(select(func.coalesce(func.max(TenantKey.version), 0))
                                           .where(TenantKey.tenant_id == tenant_id)).scalar_one()) + 1
                try:
                    conn.execute(insert(TenantKey).values(tenant_id=tenant_id, version=version, created_at=now,
                                                          wrapped_key=self._wrap(tenant_id, version, key)))
                    conn.execute(update(TenantKey).where(TenantKey.tenant_id == tenant_id,
                                                         TenantKey.version < version,
                                                         TenantKey.retired_at.is_(None)).values(retired_at=now))
                    conn.commit()
                except IntegrityError:
                    conn.rollback()
                    continue
            self._keys[(tenant_id, version)] = key
            self._current[tenant_id] = version
            return version
        raise RuntimeError("could not create a tenant data key")

    def rewrap(self, old: PiiCodec, new: PiiCodec) -> int:
        """Master key rotation: re-wrap every stored data key from ``old``'s master key to ``new``'s."""
        n = 0
        with self.engine.begin() as conn:
            rows = conn.execute(select(TenantKey.tenant_id, TenantKey.version, TenantKey.wrapped_key)).all()
            for tid, version, wrapped in rows:
                self.codec = old
                key = self._unwrap(tid, version, wrapped)
                self.codec = new
                conn.execute(update(TenantKey).where(TenantKey.tenant_id == tid, TenantKey.version == version)
                             .values(wrapped_key=self._wrap(tid, version, key)))
                n += 1
        return n

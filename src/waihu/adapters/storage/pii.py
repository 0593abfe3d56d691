"""The one place where personal data is sealed and unsealed.

Phone numbers and named PII columns (contact name, custom attributes) are stored sealed with
AES-GCM under a per-tenant data key, and numbers are looked up by a keyed hash (blind index)
that uses one key for the whole deployment so that numbers can be matched across tenants
(e.g. against a global DNC list).

Data keys are random 256-bit keys, one or more versions per tenant, stored wrapped (AES-GCM)
by a key-encryption key derived from the deployment's master key (``tenant_keys`` table, see
keys.py). A sealed value names its key version, so a rotated key keeps old values readable
until they are re-sealed. Format v2: ``0x02 | version (4 bytes) | nonce (12) | ciphertext``.
Format v1 (``0x01 | nonce | ciphertext`` under a key derived from the master key with HKDF) is
what tenants without a stored data key use; it stays readable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from functools import lru_cache
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_V1 = b"\x01"
_V2 = b"\x02"
TEXT_PREFIX = "enc:"  # a sealed text column value: "enc:" + base64(sealed)
JSON_KEY = "enc"  # a sealed JSON column value: {"enc": base64(sealed JSON)}


class KeyStore(Protocol):
    def current(self, tenant_id: str) -> tuple[int, bytes] | None:
        """The tenant's newest data key (version, key), or None if it has none."""
        ...

    def get(self, tenant_id: str, version: int) -> bytes:
        """A data key by version (raises KeyError when unknown)."""
        ...


def derive(master: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


class PiiCodec:
    def __init__(self, master_key: str, blind_index_key: str, keys: KeyStore | None = None) -> None:
        self._master = master_key.encode()
        self._blind = blind_index_key.encode()
        self.keys = keys

    def phone_hash(self, e164: str) -> str:
        return hmac.new(self._blind, e164.encode(), hashlib.sha256).hexdigest()

    @property
    def kek(self) -> AESGCM:
        """The key-encryption key that wraps the tenants' data keys."""
        return AESGCM(derive(self._master, b"waihu-key-encryption-key", b"tenant-data-keys"))

    @lru_cache(maxsize=1024)  # noqa: B019 - a handful of tenants per process
    def _aead(self, tenant_id: str) -> AESGCM:
        return AESGCM(derive(self._master, b"waihu-tenant-data-key", tenant_id.encode()))

    def seal(self, tenant_id: str, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        cur = self.keys.current(tenant_id) if self.keys is not None else None
        if cur is None:
            return _V1 + nonce + self._aead(tenant_id).encrypt(nonce, plaintext.encode(), tenant_id.encode())
        version, key = cur
        head = _V2 + version.to_bytes(4, "big")
        return head + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), tenant_id.encode() + head)

    def open(self, tenant_id: str, sealed: bytes) -> str:
        if sealed[:1] == _V1:
            nonce, body = sealed[1:13], sealed[13:]
            return self._aead(tenant_id).decrypt(nonce, body, tenant_id.encode()).decode()
        if sealed[:1] == _V2 and self.keys is not None:
            head, nonce, body = sealed[:5], sealed[5:17], sealed[17:]
            key = self.keys.get(tenant_id, int.from_bytes(head[1:], "big"))
            return AESGCM(key).decrypt(nonce, body, tenant_id.encode() + head).decode()
        raise ValueError("unknown sealed-data version")

    @staticmethod
    def key_version(sealed: bytes) -> int:
        """0 for the derived (v1) key, else the data key version."""
        return int.from_bytes(sealed[1:5], "big") if sealed[:1] == _V2 else 0

    # ------------------------------------------------------------------ columns
    def seal_text(self, tenant_id: str, value: str | None) -> str | None:
        if value is None or value.startswith(TEXT_PREFIX):
            return value
        return TEXT_PREFIX + base64.b64encode(self.seal(tenant_id, value)).decode()

    def open_text(self, tenant_id: str, value: str | None) -> str | None:
        if value is None or not value.startswith(TEXT_PREFIX):
            return value  # stored before encryption was introduced
        return self.open(tenant_id, base64.b64decode(value[len(TEXT_PREFIX):]))

    def seal_json(self, tenant_id: str, value: dict[str, Any]) -> dict[str, Any]:
        if not value or set(value) == {JSON_KEY}:
            return value
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return {JSON_KEY: base64.b64encode(self.seal(tenant_id, text)).decode()}

    def open_json(self, tenant_id: str, value: dict[str, Any] | None) -> dict[str, Any]:
        if not value:
            return {}
        if set(value) != {JSON_KEY}:
            return dict(value)
        opened: dict[str, Any] = json.loads(self.open(tenant_id, base64.b64decode(value[JSON_KEY])))
        return opened

"""The one place where personal data is sealed and unsealed.

Phone numbers (and, later, other named PII columns) are stored sealed with AES-GCM under a
per-tenant key, and looked up by a keyed hash (blind index) that uses one key for the whole
deployment so that numbers can be matched across tenants (e.g. against a global DNC list).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


class PiiCodec:
    def __init__(self, master_key: str, blind_index_key: str) -> None:
        self._master = master_key.encode()
        self._blind = blind_index_key.encode()

    def phone_hash(self, e164: str) -> str:
        return hmac.new(self._blind, e164.encode(), hashlib.sha256).hexdigest()

    @lru_cache(maxsize=1024)  # noqa: B019 - a handful of tenants per process
    def _aead(self, tenant_id: str) -> AESGCM:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"waihu-tenant-data-key",
                   info=tenant_id.encode()).derive(self._master)
        return AESGCM(key)

    def seal(self, tenant_id: str, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead(tenant_id).encrypt(nonce, plaintext.encode(), tenant_id.encode())

    def open(self, tenant_id: str, sealed: bytes) -> str:
        if not sealed or sealed[:1] != _VERSION:
            raise ValueError("unknown sealed-data version")
        nonce, body = sealed[1:13], sealed[13:]
        return self._aead(tenant_id).decrypt(nonce, body, tenant_id.encode()).decode()

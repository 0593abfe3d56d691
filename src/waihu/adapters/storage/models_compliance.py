"""Compliance tables: DNC lists (and their change signals), consent evidence, the screened dial queue, tenant data keys.

DNC entries are keyed by the blind index (``phone_hash``), never by the number. One table holds
the three list scopes: ``tenant_id = ''`` is the deployment-wide (global) list, ``campaign_id =
''`` a tenant-wide list, both set a per-campaign list. On SQLite the table is WITHOUT ROWID so
that the primary key (hash first) is the only B-tree: a DNC match is one index probe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Computed, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from waihu.adapters.storage.models import ID, TS, Base

GLOBAL = ""  # tenant_id of the global list; campaign_id of a tenant-wide entry
STATUS_SQL = "CASE WHEN (reason_mask & 15) <> 0 THEN 'block' WHEN reason_mask <> 0 THEN 'defer' ELSE 'ready' END"


class DncEntry(Base):
    __tablename__ = "dnc_entries"
    __table_args__ = ({"sqlite_with_rowid": False},)
    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=GLOBAL)
    campaign_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=GLOBAL)
    source: Mapped[str] = mapped_column(String(20))  # complaint|ivr_opt_out|customer_request|regulator|carrier
    expires_at: Mapped[datetime | None] = mapped_column(TS)  # None: permanent
    created_at: Mapped[datetime] = mapped_column(TS)
    masked: Mapped[str | None] = mapped_column(String(32))  # 138****5678 when added by number
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))

    @property
    def id(self) -> str:
        """Pages of entries are keyed by the blind index."""
        return self.phone_hash


DNC_KEY_LEN = 12  # hex digits of the blind index kept in ``dnc_keys`` (48 bits)


class DncKey(Base):
    """A prefilter of the DNC lists: the first ``DNC_KEY_LEN`` hex digits of every blind index that
    was ever listed (any tenant, any scope). Small (about 20 bytes a number, against about 160 for
    an entry), so the set-based screen probes it for every contact and reads ``dnc_entries`` only
    for the few that may be listed. A superset: removing an entry leaves its key (a stale key costs
    one probe more, never a wrong answer); every writer of entries adds keys in its transaction.
    """

    __tablename__ = "dnc_keys"
    __table_args__ = ({"sqlite_with_rowid": False},)
    k: Mapped[str] = mapped_column(String(DNC_KEY_LEN), primary_key=True)


class DncChange(Base):
    """A signal that DNC entries changed, for dialers running in other processes (append-only).

    ``hashes`` lists the blind indexes whose entries changed; None means many (a bulk change:
    read every number again). ``tenant_id = ''``: the global list. Rows are purged after a day
    (``service/retention.py``); AUTOINCREMENT on SQLite so that an id is never handed out twice,
    even after the newest rows were purged.
    """

    __tablename__ = "dnc_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(TS)
    hashes: Mapped[list[Any] | None] = mapped_column(JSON)


class Consent(Base):
    """Evidence that a contact agreed to be called: where, when, for what."""

    __tablename__ = "consents"
    # covering: a consent check is one index probe
    __table_args__ = (Index("ix_consents_contact", "tenant_id", "contact_id", "scope", "revoked_at", "given_at",
                            "expires_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    contact_id: Mapped[str] = mapped_column(ID)
    source: Mapped[str] = mapped_column(String(50))  # web_form, recorded_call, contract, ...
    scope: Mapped[str] = mapped_column(String(50))  # a job type (marketing, ...) or "all"
    given_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime | None] = mapped_column(TS)
    revoked_at: Mapped[datetime | None] = mapped_column(TS)
    evidence: Mapped[str | None] = mapped_column(String(200))  # a reference (document id, recording id)


class DialQueueEntry(Base):
    """The screened dial queue of a campaign: one row per contact and screening run."""

    __tablename__ = "dial_queue"
    __table_args__ = (Index("ix_dial_queue_campaign_status", "campaign_id", "status", "reason_mask"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[str] = mapped_column(ID)
    contact_id: Mapped[str] = mapped_column(ID)
    reason_mask: Mapped[int] = mapped_column(Integer, default=0)  # bits: see service/screening.py
    # ready | defer | block, always consistent with the mask (bits 1|2|4|8 are never-allowed reasons)
    status: Mapped[str] = mapped_column(String(10), Computed(STATUS_SQL, persisted=True))
    until: Mapped[datetime | None] = mapped_column(TS)


class TenantKey(Base):
    """A tenant's random data key, wrapped (AES-GCM) by the deployment's master key."""

    __tablename__ = "tenant_keys"
    # no foreign key: the key is written (in its own transaction) just before the tenant row
    tenant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(TS)
    retired_at: Mapped[datetime | None] = mapped_column(TS)


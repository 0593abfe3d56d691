"""SQLAlchemy 2 models. Every tenant-owned row carries ``tenant_id``; times are UTC."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(32)
TS = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(TS)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Contact(Base):
    """The customer record: accumulates across campaigns."""

    __tablename__ = "contacts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str | None] = mapped_column(Text)  # sealed (see pii.py)
    external_id: Mapped[str | None] = mapped_column(String(100))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # gender, age, email, region, ...
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # custom columns, sealed
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str | None] = mapped_column(String(100))
    follow_up_stage: Mapped[str | None] = mapped_column(String(50))
    total_attempts: Mapped[int] = mapped_column(Integer, default=0)
    total_connects: Mapped[int] = mapped_column(Integer, default=0)
    last_contact_at: Mapped[datetime | None] = mapped_column(TS)
    last_outcome: Mapped[str | None] = mapped_column(String(30))
    last_campaign_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class ContactPhone(Base):
    """A customer's phone numbers, primary first (rank 0). The number itself is only ever
    written and read through ``PiiCodec`` (see pii.py); ``phone_hash`` is its blind index."""

    __tablename__ = "contact_phones"
    __table_args__ = (UniqueConstraint("tenant_id", "phone_hash"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    phone_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    carrier: Mapped[str | None] = mapped_column(String(50))
    timezone: Mapped[str | None] = mapped_column(String(64))


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    job_type: Mapped[str] = mapped_column(String(20))
    dial_mode: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    script_ref: Mapped[str | None] = mapped_column(String(100))
    agent_group: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    retry_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dispositions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(TS)
    started_at: Mapped[datetime | None] = mapped_column(TS)
    completed_at: Mapped[datetime | None] = mapped_column(TS)


class CampaignContact(Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        Index("ix_campaign_contacts_due", "campaign_id", "state", "next_attempt_at"),
        Index("ix_campaign_contacts_claim", "campaign_id", "state", text("priority DESC"), "next_attempt_at", "seq"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)  # distribution order within the campaign
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TS)
    last_outcome: Mapped[str | None] = mapped_column(String(30))
    last_disposition: Mapped[str | None] = mapped_column(String(50))
    owner_agent_id: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class Cdr(Base):
    """Call detail records: one per dial attempt, append-only, no plaintext PII."""

    __tablename__ = "cdrs"
    __table_args__ = (
        Index("ix_cdrs_tenant_dial", "tenant_id", "dial_at"),
        Index("ix_cdrs_campaign_dial", "campaign_id", "dial_at"),
        Index("ix_cdrs_phone_hash_dial", "tenant_id", "phone_hash", "dial_at"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    contact_id: Mapped[str] = mapped_column(ID, index=True)
    phone_id: Mapped[str] = mapped_column(ID)
    phone_hash: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    chain_id: Mapped[str | None] = mapped_column(ID)
    mode: Mapped[str] = mapped_column(String(20))
    dial_at: Mapped[datetime] = mapped_column(TS)
    ring_at: Mapped[datetime | None] = mapped_column(TS)
    answer_at: Mapped[datetime | None] = mapped_column(TS)
    bridge_at: Mapped[datetime | None] = mapped_column(TS)
    end_at: Mapped[datetime] = mapped_column(TS)
    outcome: Mapped[str] = mapped_column(String(30))
    loss_cause: Mapped[str | None] = mapped_column(String(30))
    sip_code: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    trunk_id: Mapped[str | None] = mapped_column(String(64))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    hangup_by: Mapped[str | None] = mapped_column(String(20))
    talk_seconds: Mapped[float] = mapped_column(Numeric(10, 3), default=0)
    route_reason: Mapped[str | None] = mapped_column(String(300))  # why the router chose this trunk


class DispositionRecord(Base):
    __tablename__ = "dispositions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    call_id: Mapped[str] = mapped_column(ID, index=True)
    campaign_id: Mapped[str] = mapped_column(ID, index=True)
    contact_id: Mapped[str] = mapped_column(ID)
    agent_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column(TS)
    set_at: Mapped[datetime] = mapped_column(TS)


class DialDecision(Base):
    """A dial the platform held back (compliance, no line, no caller ID), with its reasons."""

    __tablename__ = "dial_decisions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(ID, index=True)
    contact_id: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(TS)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    until: Mapped[datetime | None] = mapped_column(TS)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))  # 工号
    name: Mapped[str] = mapped_column(String(100))
    groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    simulated: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(TS)
    phone_uri: Mapped[str | None] = mapped_column(String(255))  # the SIP phone called at login over SIP trunks
    # the SIP account its phone registers with (platform-unique name; password sealed with the tenant key)
    sip_user: Mapped[str | None] = mapped_column(String(64), unique=True)
    sip_secret: Mapped[str | None] = mapped_column(Text)


class AgentSession(Base):
    """One login of an agent: the denominator of occupancy."""

    __tablename__ = "agent_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    campaign_id: Mapped[str | None] = mapped_column(ID, index=True)
    login_at: Mapped[datetime] = mapped_column(TS)
    logout_at: Mapped[datetime | None] = mapped_column(TS)
    talk_seconds: Mapped[float] = mapped_column(Numeric(12, 3), default=0)


class ImportRecord(Base):
    __tablename__ = "imports"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    campaign_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(TS)
    imported: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # rejected rows: row, field, code, masked message


class AuditEntry(Base):
    """Append-only: who did what to which record, when."""

    __tablename__ = "audit_log"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TS)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
from waihu.adapters.storage import models_analytics as _models_analytics  # noqa: E402,F401
from waihu.adapters.storage import models_api as _models_api  # noqa: E402, F401
from waihu.adapters.storage import models_compliance  # noqa: E402,F401  (compliance tables)
from waihu.adapters.storage import models_pacing as _models_pacing  # noqa: E402,F401
from waihu.adapters.storage import models_routing as _models_routing  # noqa: E402,F401

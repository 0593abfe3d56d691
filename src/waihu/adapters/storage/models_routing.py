"""Line resources: trunks, caller IDs, their assignment to tenants, and number-status checks.

Trunks and caller IDs are owned by the platform (``owner_tenant_id`` NULL, resold to tenants
through the assignment tables) or by one tenant (bring your own carrier). ``owner_key`` is
``"platform"`` or the tenant id, so names are unique per owner on every database. Caller IDs
are the operator's own published numbers, not personal data, and are stored in clear.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waihu.adapters.storage.models import ID, TS, Base


class TrunkRow(Base):
    __tablename__ = "trunks"
    __table_args__ = (UniqueConstraint("owner_key", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    owner_tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    owner_key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer)
    cps: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    cost_per_minute: Mapped[Decimal] = mapped_column(Numeric(10, 4), default=0)
    billing_increment: Mapped[int] = mapped_column(Integer, default=60)
    cost_per_attempt: Mapped[Decimal] = mapped_column(Numeric(10, 4), default=0)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    business: Mapped[list[Any]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(20), default="primary")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(TS)
    # how the trunk is reached over SIP (host, port, user, register, pai, options_interval); None:
    # the trunk has no SIP address and is a line of the simulated network
    sip: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))  # None is SQL NULL
    sip_secret: Mapped[str | None] = mapped_column(Text)  # the digest password, sealed with the owner's key


class TrunkAssignment(Base):
    """A platform trunk resold to a tenant."""

    __tablename__ = "trunk_assignments"
    trunk_id: Mapped[str] = mapped_column(ForeignKey("trunks.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(TS)


class CallerIdRow(Base):
    __tablename__ = "caller_ids"
    __table_args__ = (UniqueConstraint("owner_key", "number"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    owner_tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    owner_key: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(32))
    number_type: Mapped[str] = mapped_column(String(10), default="mobile")
    capital: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[Decimal] = mapped_column(Numeric(8, 3), default=1)
    max_concurrent: Mapped[int] = mapped_column(Integer, default=1)
    daily_cap: Mapped[int] = mapped_column(Integer, default=200)
    status: Mapped[str] = mapped_column(String(10), default="active")
    spam_marks: Mapped[int] = mapped_column(Integer, default=0)
    authenticated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TS)


class CallerIdAssignment(Base):
    __tablename__ = "caller_id_assignments"
    caller_id: Mapped[str] = mapped_column(ForeignKey("caller_ids.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(TS)


class NumberStatusRow(Base):
    """The cached answer of the number-status provider for one number (blind index)."""

    __tablename__ = "number_status"
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # ok | empty_number | suspended | powered_off
    checked_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)


class CallSignaling(Base):
    """The signaling exchange of one dial attempt (one CDR): ``[[time, direction, message], ...]``."""

    __tablename__ = "call_signaling"
    call_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    trunk_id: Mapped[str | None] = mapped_column(String(64))
    log: Mapped[list[Any]] = mapped_column(JSON, default=list)

"""Analytics tables: per-campaign analytics settings, script A/B assignments, the alert outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waihu.adapters.storage.models import ID, TS, Base, Cdr


class AnalyticsConfig(Base):
    """Cost inputs, funnel stages, complaint codes, alert thresholds, slot plans. ``campaign_id``
    empty: the tenant's defaults."""

    __tablename__ = "analytics_configs"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    campaign_id: Mapped[str] = mapped_column(ID, default="")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TS)


class ScriptAssignment(Base):
    """A contact's script variant in one experiment (stratified random assignment)."""

    __tablename__ = "script_assignments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", "experiment"),
        Index("ix_script_assignments_tenant_campaign", "tenant_id", "campaign_id"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    campaign_id: Mapped[str] = mapped_column(ID)
    experiment: Mapped[str] = mapped_column(String(100))
    contact_id: Mapped[str] = mapped_column(ID)
    variant: Mapped[str] = mapped_column(String(100))
    stratum: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(TS)


class AlertEvent(Base):
    """The event stream's outbox for alerts: appended when a rule fires, picked up by webhooks
    (``delivered_at`` set by the deliverer)."""

    __tablename__ = "alert_events"
    __table_args__ = (
        Index("ix_alert_events_pending", "tenant_id", "delivered_at", "at"),
        Index("ix_alert_events_rule", "tenant_id", "rule", "campaign_id", "at"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(50), default="alert.fired")
    rule: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[str | None] = mapped_column(ID)
    subject: Mapped[str | None] = mapped_column(String(100))  # trunk id, etc.
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    window_start: Mapped[datetime] = mapped_column(TS)
    window_end: Mapped[datetime] = mapped_column(TS)
    at: Mapped[datetime] = mapped_column(TS)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    delivered_at: Mapped[datetime | None] = mapped_column(TS)


# Reports scan one tenant's CDRs over a time range; on PostgreSQL the index covers the
# aggregated columns so the daily report is an index-only scan.
Index("ix_cdrs_report", Cdr.tenant_id, Cdr.dial_at,
      postgresql_include=["campaign_id", "contact_id", "outcome", "agent_id", "talk_seconds", "trunk_id",
                          "end_at"])

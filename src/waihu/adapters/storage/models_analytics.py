"""Analytics tables: per-campaign analytics settings, script A/B assignments, the alert outbox,
the report rollup."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
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


class ReportHourly(Base):
    """The hourly rollup of CDRs for reports: additive sums per (campaign, UTC hour, one
    dimension's value, latest disposition code). ``dim`` is ``all`` (value empty: totals, hour,
    campaign and disposition tables), ``agent``, ``outcome`` or ``script``. Kept in step with
    CDRs and dispositions by the dialer store (see ``report_rollup``)."""

    __tablename__ = "report_hourly"
    __table_args__ = (Index("ix_report_hourly_tenant_hour", "tenant_id", "hour"),)
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ID, primary_key=True)
    hour: Mapped[datetime] = mapped_column(TS, primary_key=True)
    dim: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    connected: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    dispositions: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=0)
    wrap_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class ReportDayContacts(Base):
    """Distinct contacts per local day (in the time zone ``tz``) and dimension value: they cannot
    be summed from hours. ``campaign_id`` empty: across the tenant's campaigns."""

    __tablename__ = "report_day_contacts"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    tz: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ID, primary_key=True)
    dim: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    contacts_dialled: Mapped[int] = mapped_column(Integer, default=0)
    contacts_answered: Mapped[int] = mapped_column(Integer, default=0)


class ReportRollupState(Base):
    """Whether a tenant's rollup is complete (``ready``) and the time zone of its local days.
    Reports read the rollup only when it is ready and built for the tenant's current zone."""

    __tablename__ = "report_rollup_state"
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    tz: Mapped[str] = mapped_column(String(64))
    ready: Mapped[bool] = mapped_column(Boolean, default=False)
    built_at: Mapped[datetime] = mapped_column(TS)

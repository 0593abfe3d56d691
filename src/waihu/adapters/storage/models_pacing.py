"""The pacing log: every pacing decision with its inputs, so an operator can see why N calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from waihu.adapters.storage.models import ID, TS, Base


class PacingLogEntry(Base):
    __tablename__ = "pacing_log"
    __table_args__ = (Index("ix_pacing_log_campaign_at", "campaign_id", "at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(TS)
    placed: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)

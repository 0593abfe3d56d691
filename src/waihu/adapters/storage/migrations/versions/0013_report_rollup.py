"""report rollup: hourly sums, distinct contacts per local day, rollup state

Revision ID: 0013_report_rollup
Revises: 0012_dnc_one_list

The tables start empty; ``waihu report rollup`` fills them from the existing CDRs (until then
reports compute from the CDRs).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_report_rollup"
down_revision = "0012_dnc_one_list"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_hourly",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dim", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("connected", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("dispositions", sa.Integer(), nullable=False),
        sa.Column("talk_seconds", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("wrap_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "campaign_id", "hour", "dim", "value", "code",
                                name=op.f("pk_report_hourly")),
    )
    op.create_index("ix_report_hourly_tenant_hour", "report_hourly", ["tenant_id", "hour"])
    op.create_table(
        "report_day_contacts",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("dim", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("contacts_dialled", sa.Integer(), nullable=False),
        sa.Column("contacts_answered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "tz", "day", "campaign_id", "dim", "value",
                                name=op.f("pk_report_day_contacts")),
    )
    op.create_table(
        "report_rollup_state",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_report_rollup_state")),
    )


def downgrade() -> None:
    op.drop_table("report_rollup_state")
    op.drop_table("report_day_contacts")
    op.drop_index("ix_report_hourly_tenant_hour", table_name="report_hourly")
    op.drop_table("report_hourly")

"""pacing log

Revision ID: 0010_pacing_log
Revises: 0009_analytics
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_pacing_log"
down_revision = "0009_analytics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_log",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_pacing_log_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pacing_log")),
    )
    op.create_index("ix_pacing_log_campaign_at", "pacing_log", ["campaign_id", "at"], unique=False)
    op.create_index(op.f("ix_pacing_log_tenant_id"), "pacing_log", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pacing_log_tenant_id"), table_name="pacing_log")
    op.drop_index("ix_pacing_log_campaign_at", table_name="pacing_log")
    op.drop_table("pacing_log")

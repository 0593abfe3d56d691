"""CDRs keep why the router chose their trunk

Revision ID: 0011_cdr_route_reason
Revises: 0010_pacing_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_cdr_route_reason"
down_revision = "0010_pacing_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cdrs", sa.Column("route_reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs") as batch_op:
        batch_op.drop_column("route_reason")

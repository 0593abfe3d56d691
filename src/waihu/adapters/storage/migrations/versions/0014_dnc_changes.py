"""dnc_changes: DNC list changes as a signal for running dialers in other processes

Revision ID: 0014_dnc_changes
Revises: 0013_report_rollup

Append-only; every DNC writer adds a row in the transaction of its change, ``waihu serve`` reads
the rows newer than the last it saw (``LiveHost.check_dnc``), the retention purge drops rows
older than a day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_dnc_changes"
down_revision = "0013_report_rollup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dnc_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hashes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_changes")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("dnc_changes")

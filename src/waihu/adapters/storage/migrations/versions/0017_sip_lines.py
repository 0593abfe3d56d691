"""SIP addresses: trunks reached over SIP (address and sealed password), agents' SIP phones

Revision ID: 0017_sip_lines
Revises: 0016_users_per_tenant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_sip_lines"
down_revision = "0016_users_per_tenant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trunks") as batch_op:
        batch_op.add_column(sa.Column("sip", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("sip_secret", sa.Text(), nullable=True))
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(sa.Column("phone_uri", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_column("phone_uri")
    with op.batch_alter_table("trunks") as batch_op:
        batch_op.drop_column("sip_secret")
        batch_op.drop_column("sip")

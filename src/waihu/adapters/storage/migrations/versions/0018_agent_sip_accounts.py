"""Agents' SIP accounts: a platform-unique user name and a sealed password their phones register with

Revision ID: 0018_agent_sip_accounts
Revises: 0017_sip_lines
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_agent_sip_accounts"
down_revision = "0017_sip_lines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(sa.Column("sip_user", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sip_secret", sa.Text(), nullable=True))
        batch_op.create_unique_constraint("uq_agents_sip_user", ["sip_user"])


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_constraint("uq_agents_sip_user", type_="unique")
        batch_op.drop_column("sip_secret")
        batch_op.drop_column("sip_user")

"""users: usernames unique per tenant (a name taken in one tenant says nothing to another)

Revision ID: 0016_users_per_tenant
Revises: 0015_dnc_keys
"""

from __future__ import annotations

from alembic import op

revision = "0016_users_per_tenant"
down_revision = "0015_dnc_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("uq_users_username", type_="unique")
        batch_op.create_unique_constraint(op.f("uq_users_tenant_id"), ["tenant_id", "username"])
        batch_op.create_index(op.f("ix_users_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_index(op.f("ix_users_username"))
        batch_op.drop_constraint(op.f("uq_users_tenant_id"), type_="unique")
        batch_op.create_unique_constraint("uq_users_username", ["username"])

"""One do-not-call list: the API's tenant list folds into dnc_entries

Entries keep an optional masked number, a free-text note and who added them, so the API, the
console and the CLI all read and write the list the dialer screens against.

Revision ID: 0012_dnc_one_list
Revises: 0011_cdr_route_reason
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_dnc_one_list"
down_revision = "0011_cdr_route_reason"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dnc_entries", sa.Column("masked", sa.String(length=32), nullable=True))
    op.add_column("dnc_entries", sa.Column("note", sa.String(length=200), nullable=True))
    op.add_column("dnc_entries", sa.Column("created_by", sa.String(length=100), nullable=True))
    op.execute(
        "INSERT INTO dnc_entries (phone_hash, tenant_id, campaign_id, source, expires_at, created_at, masked, note,"
        " created_by) SELECT a.phone_hash, a.tenant_id, '', 'customer_request', NULL, a.created_at, a.masked,"
        " a.reason, a.created_by FROM api_dnc_entries a WHERE NOT EXISTS (SELECT 1 FROM dnc_entries d"
        " WHERE d.phone_hash = a.phone_hash AND d.tenant_id = a.tenant_id AND d.campaign_id = '')")
    with op.batch_alter_table("api_dnc_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_dnc_entries_tenant_id"))
    op.drop_table("api_dnc_entries")


def downgrade() -> None:
    op.create_table(
        "api_dnc_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("masked", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_api_dnc_entries_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_dnc_entries")),
        sa.UniqueConstraint("tenant_id", "phone_hash", name=op.f("uq_api_dnc_entries_tenant_id")))
    with op.batch_alter_table("api_dnc_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_dnc_entries_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("dnc_entries") as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("note")
        batch_op.drop_column("masked")

"""dnc_keys: a small prefilter of the DNC lists for the set-based screen

Revision ID: 0015_dnc_keys
Revises: 0014_dnc_changes

The first 12 hex digits of every listed blind index (a superset: removals leave their key). The
screen probes it for every contact and reads ``dnc_entries`` only on a hit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_dnc_keys"
down_revision = "0014_dnc_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dnc_keys",
        sa.Column("k", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("k", name=op.f("pk_dnc_keys")),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO dnc_keys (k) SELECT DISTINCT substr(phone_hash, 1, 12) FROM dnc_entries")


def downgrade() -> None:
    op.drop_table("dnc_keys")

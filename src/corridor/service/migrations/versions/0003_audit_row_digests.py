"""Audit entries carry a digest of every row of the cycle's tables they wrote, so `verify` can
tell rows changed behind the service's back. Existing entries keep NULL (and their hash).

Downgrading drops the digests: entries written since then no longer verify.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ALTER TABLE (no batch copy): the table keeps its rows and append-only triggers
    op.add_column("audit_log", sa.Column("row_digests", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_log", "row_digests")

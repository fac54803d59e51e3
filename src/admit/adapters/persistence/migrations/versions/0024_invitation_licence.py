"""Invitations carry a licence: a resource viewer's invitation reserves no seat (issue 17)

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-26 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("licence", sa.String(length=8), server_default=sa.text("'licensed'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("licence")

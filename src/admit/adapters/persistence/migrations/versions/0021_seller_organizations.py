"""Seller and customer organizations: delegated roles and invitations into a customer

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "organizations", sa.Column("kind", sa.String(length=10), server_default=sa.text("'direct'"), nullable=False)
    )
    op.add_column("invitations", sa.Column("login_method", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("login_method")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("kind")

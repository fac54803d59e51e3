"""Refresh tokens remember the Admit session their family began in, so an ID token issued at a
refresh carries the same ``sid`` as the first

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_refresh_tokens") as batch:
        batch.add_column(sa.Column("session_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_refresh_tokens") as batch:
        batch.drop_column("session_id")

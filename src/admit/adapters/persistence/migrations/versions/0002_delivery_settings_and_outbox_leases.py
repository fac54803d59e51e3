"""delivery settings and outbox leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=32), nullable=True))
    # Messages queued before this revision get a key derived from their id.
    op.execute("UPDATE outbox SET key = 'legacy-' || CAST(id AS VARCHAR(20)) WHERE key IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(length=32), nullable=False)
        batch_op.add_column(
            sa.Column("locked_until", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_outbox_sms_usage", ["workspace_id", "channel", "sent_at"], unique=False)
        batch_op.create_index("uq_outbox_key", ["key"], unique=True)

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_enabled", sa.Boolean(), server_default=sa.text("(true)"), nullable=False))
        batch_op.add_column(sa.Column("sms_enabled", sa.Boolean(), server_default=sa.text("(false)"), nullable=False))
        batch_op.add_column(sa.Column("auto_invite", sa.Boolean(), server_default=sa.text("(true)"), nullable=False))
        batch_op.add_column(sa.Column("sms_daily_cap", sa.Integer(), server_default=sa.text("(500)"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("sms_daily_cap")
        batch_op.drop_column("auto_invite")
        batch_op.drop_column("sms_enabled")
        batch_op.drop_column("email_enabled")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("uq_outbox_key")
        batch_op.drop_index("ix_outbox_sms_usage")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("key")

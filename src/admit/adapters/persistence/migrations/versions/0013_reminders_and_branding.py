"""Invitation reminders (a workspace may send one reminder N days before an invitation expires) and
per-workspace branding (an accent colour and a logo shown on the invitee pages and in emails)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 04:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = admit.adapters.persistence.tables.UTCDateTime(timezone=True)
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("reminder_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("accent_color", sa.String(length=7), nullable=True))
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("reminded_at", stamp, nullable=True))
    op.create_table(
        "workspace_logos",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_workspace_logos_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_logos")),
    )


def downgrade() -> None:
    op.drop_table("workspace_logos")
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("reminded_at")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("accent_color")
        batch.drop_column("reminder_days")

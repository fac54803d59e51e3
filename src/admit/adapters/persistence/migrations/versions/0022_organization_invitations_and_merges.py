"""Organization invitations and merges

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization_invitations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("inviter_type", sa.String(length=12), nullable=False),
        sa.Column("inviter_id", sa.String(length=32), nullable=True),
        sa.Column("inviter_name", sa.String(length=200), nullable=True),
        sa.Column("expires_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("acquired_organization_id", sa.String(length=32), nullable=True),
        sa.Column("refusal", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "state in ('pending','accepted','declined')", name=op.f("ck_organization_invitations_state")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_organization_invitations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["acquired_organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_invitations_acquired_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_invitations_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_invitations")),
    )
    with op.batch_alter_table("organization_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_organization_invitations_email", ["email", "state"], unique=False)
        batch_op.create_index("ix_organization_invitations_org", ["organization_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("organization_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_organization_invitations_org")
        batch_op.drop_index("ix_organization_invitations_email")
    op.drop_table("organization_invitations")

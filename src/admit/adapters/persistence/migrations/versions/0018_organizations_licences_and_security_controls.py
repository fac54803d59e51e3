"""Organization roles, licences (seats) and security controls

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization_admins",
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role in ('system_admin','group_admin')", name=op.f("ck_organization_admins_role")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_organization_admins_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_admins_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "account_id", name=op.f("pk_organization_admins")),
    )
    with op.batch_alter_table("organization_admins", schema=None) as batch_op:
        batch_op.create_index("ix_organization_admins_account", ["account_id"], unique=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("licence", sa.String(length=8), server_default=sa.text("'licensed'"), nullable=False)
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("licences_enforced", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("reserve_seats_for_invitations", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("allowed_email_domains", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "who_may_invite", sa.String(length=16), server_default=sa.text("'workspace_admins'"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("who_may_invite")
        batch_op.drop_column("allowed_email_domains")
        batch_op.drop_column("reserve_seats_for_invitations")
        batch_op.drop_column("licences_enforced")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("licence")

    with op.batch_alter_table("organization_admins", schema=None) as batch_op:
        batch_op.drop_index("ix_organization_admins_account")

    op.drop_table("organization_admins")

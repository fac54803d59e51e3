"""server-side flow state

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_states",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=True),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("invitation_id", sa.String(length=32), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_flow_states_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["invitations.id"], name=op.f("fk_flow_states_invitation_id_invitations")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_flow_states_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_states")),
    )
    with op.batch_alter_table("flow_states", schema=None) as batch_op:
        batch_op.create_index("ix_flow_states_expiry", ["expires_at"], unique=False)
        batch_op.create_index("uq_flow_states_digest", ["digest"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("flow_states", schema=None) as batch_op:
        batch_op.drop_index("uq_flow_states_digest")
        batch_op.drop_index("ix_flow_states_expiry")

    op.drop_table("flow_states")

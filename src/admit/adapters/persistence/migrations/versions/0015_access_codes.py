"""Access codes for members without email: the codes (a public lookup key and the digest of the
whole code, one live code per member), each workspace's code lifetime, and members identified by
an external ID alone

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD_CONTACT = "email IS NOT NULL OR (username IS NOT NULL AND phone IS NOT NULL)"
NEW_CONTACT = OLD_CONTACT + " OR external_id IS NOT NULL"
LIVE_CODE = "redeemed_at IS NULL AND withdrawn_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("access_code_lifetime_days", sa.Integer(), server_default=sa.text("30"), nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_workspaces_access_code_lifetime"), "access_code_lifetime_days between 1 and 90"
        )
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("ck_members_contact"), type_="check")
        batch.create_check_constraint(op.f("ck_members_contact"), NEW_CONTACT)
    stamp = admit.adapters.persistence.tables.UTCDateTime(timezone=True)
    op.create_table(
        "access_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("invitation_id", sa.String(length=32), nullable=False),
        sa.Column("lookup", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("expires_at", stamp, nullable=False),
        sa.Column("redeemed_at", stamp, nullable=True),
        sa.Column("withdrawn_at", stamp, nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=12), nullable=True),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_access_codes_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_access_codes_workspace_id_workspaces")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_access_codes_member_id_members")),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["invitations.id"], name=op.f("fk_access_codes_invitation_id_invitations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_codes")),
    )
    op.create_index("uq_access_codes_digest", "access_codes", ["digest"], unique=True)
    op.create_index("ix_access_codes_workspace", "access_codes", ["workspace_id", "created_at"], unique=False)
    for name, column in (("uq_access_codes_live_member", "member_id"), ("uq_access_codes_live_lookup", "lookup")):
        where = sa.text(LIVE_CODE)
        op.create_index(name, "access_codes", [column], unique=True, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_table("access_codes")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("ck_members_contact"), type_="check")
        batch.create_check_constraint(op.f("ck_members_contact"), OLD_CONTACT)
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_constraint(op.f("ck_workspaces_access_code_lifetime"), type_="check")
        batch.drop_column("access_code_lifetime_days")

"""SCIM 2.0 and groups: SCIM bearer tokens (their secret as a digest), the userName and externalId an
identity provider gave a member, the per-token request log, deactivations held by the
deprovisioning brake, and an organization's groups with their members

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 07:42:50.452608
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=256), nullable=False),
        sa.Column("name_key", sa.String(length=256), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=True),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IS NULL OR (role in ('guest','member','admin') AND workspace_id IS NOT NULL)",
            name=op.f("ck_groups_role"),
        ),
        sa.CheckConstraint("source in ('console','api','scim','sso')", name=op.f("ck_groups_source")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_groups_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_groups_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index("ix_groups_external", ["organization_id", "external_id"], unique=False)
        batch_op.create_index("uq_groups_name", ["organization_id", "name_key"], unique=True)

    op.create_table(
        "scim_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("last_used_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role in ('guest','member','admin')", name=op.f("ck_scim_tokens_role")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_scim_tokens_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_scim_tokens_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_tokens")),
    )
    with op.batch_alter_table("scim_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_scim_tokens_org", ["organization_id", "created_at"], unique=False)
        batch_op.create_index("uq_scim_tokens_digest", ["digest"], unique=True)

    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_group_members_group_id_groups")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_group_members_member_id_members")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_group_members_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index("ix_group_members_member", ["member_id"], unique=False)

    op.create_table(
        "scim_holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.CheckConstraint("action in ('deactivate','delete')", name=op.f("ck_scim_holds_action")),
        sa.CheckConstraint("state in ('held','released','dismissed')", name=op.f("ck_scim_holds_state")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_scim_holds_member_id_members")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_scim_holds_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["scim_tokens.id"], name=op.f("fk_scim_holds_token_id_scim_tokens")),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_scim_holds_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_holds")),
    )
    with op.batch_alter_table("scim_holds", schema=None) as batch_op:
        batch_op.create_index("ix_scim_holds_workspace", ["workspace_id", "state", "created_at"], unique=False)
        batch_op.create_index(
            "uq_scim_holds_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("state = 'held'"),
            postgresql_where=sa.text("state = 'held'"),
        )

    op.create_table(
        "scim_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("change", sa.JSON(), nullable=True),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_scim_requests_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["scim_tokens.id"], name=op.f("fk_scim_requests_token_id_scim_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_requests")),
    )
    with op.batch_alter_table("scim_requests", schema=None) as batch_op:
        batch_op.create_index("ix_scim_requests_token", ["token_id", "created_at"], unique=False)

    op.create_table(
        "scim_users",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.String(length=255), nullable=False),
        sa.Column("user_name_key", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("attributes", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_scim_users_member_id_members")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_scim_users_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_scim_users_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_scim_users")),
    )
    with op.batch_alter_table("scim_users", schema=None) as batch_op:
        batch_op.create_index("ix_scim_users_external", ["organization_id", "external_id"], unique=False)
        batch_op.create_index("uq_scim_users_user_name", ["organization_id", "user_name_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("scim_users", schema=None) as batch_op:
        batch_op.drop_index("uq_scim_users_user_name")
        batch_op.drop_index("ix_scim_users_external")

    op.drop_table("scim_users")
    with op.batch_alter_table("scim_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_scim_requests_token")

    op.drop_table("scim_requests")
    with op.batch_alter_table("scim_holds", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_scim_holds_member", sqlite_where=sa.text("state = 'held'"), postgresql_where=sa.text("state = 'held'")
        )
        batch_op.drop_index("ix_scim_holds_workspace")

    op.drop_table("scim_holds")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_group_members_member")

    op.drop_table("group_members")
    with op.batch_alter_table("scim_tokens", schema=None) as batch_op:
        batch_op.drop_index("uq_scim_tokens_digest")
        batch_op.drop_index("ix_scim_tokens_org")

    op.drop_table("scim_tokens")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index("uq_groups_name")
        batch_op.drop_index("ix_groups_external")

    op.drop_table("groups")

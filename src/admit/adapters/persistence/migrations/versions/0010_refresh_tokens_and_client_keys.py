"""The OpenID provider's refresh tokens (families), revocation of access tokens by family, clients'
grant types and public keys (private_key_jwt) and their assertions' single-use jti

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_client_assertions",
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("jti_digest", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oidc_clients.id"], name=op.f("fk_oidc_client_assertions_client_id_oidc_clients")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_oidc_client_assertions_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("client_id", "jti_digest", name=op.f("pk_oidc_client_assertions")),
    )
    with op.batch_alter_table("oidc_client_assertions", schema=None) as batch_op:
        batch_op.create_index("ix_oidc_client_assertions_expiry", ["expires_at"], unique=False)

    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=True),
        sa.Column("code_id", sa.String(length=32), nullable=True),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("auth_time", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_oidc_refresh_tokens_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oidc_clients.id"], name=op.f("fk_oidc_refresh_tokens_client_id_oidc_clients")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_oidc_refresh_tokens_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_oidc_refresh_tokens_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_refresh_tokens")),
    )
    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_oidc_refresh_tokens_code", ["code_id"], unique=False)
        batch_op.create_index("ix_oidc_refresh_tokens_expiry", ["expires_at"], unique=False)
        batch_op.create_index("ix_oidc_refresh_tokens_family", ["family_id"], unique=False)
        batch_op.create_index("uq_oidc_refresh_tokens_digest", ["digest"], unique=True)

    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("grant_types", sa.JSON(), server_default=sa.text("'[\"authorization_code\"]'"), nullable=False)
        )
        batch_op.add_column(sa.Column("jwks", sa.JSON(), nullable=True))

    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_id", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_oidc_tokens_family", ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_tokens_family")
        batch_op.drop_column("family_id")

    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.drop_column("jwks")
        batch_op.drop_column("grant_types")

    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("uq_oidc_refresh_tokens_digest")
        batch_op.drop_index("ix_oidc_refresh_tokens_family")
        batch_op.drop_index("ix_oidc_refresh_tokens_expiry")
        batch_op.drop_index("ix_oidc_refresh_tokens_code")

    op.drop_table("oidc_refresh_tokens")
    with op.batch_alter_table("oidc_client_assertions", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_client_assertions_expiry")

    op.drop_table("oidc_client_assertions")

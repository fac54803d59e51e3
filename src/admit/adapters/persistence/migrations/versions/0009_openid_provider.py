"""Admit as an OpenID provider: signing keys, clients, authorization codes, issued tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_until", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state in ('next','current','retired')", name=op.f("ck_signing_keys_key_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.create_index("ix_signing_keys_state", ["state"], unique=False)

    op.create_table(
        "oidc_clients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("workspace_ids", sa.JSON(), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(length=500), nullable=True),
        sa.Column("client_type", sa.String(length=12), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(length=24), nullable=False),
        sa.Column("allowed_scopes", sa.JSON(), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("client_type in ('confidential','public')", name=op.f("ck_oidc_clients_client_type")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_oidc_clients_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_clients")),
    )
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.create_index("ix_oidc_clients_org", ["organization_id"], unique=False)

    op.create_table(
        "oidc_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=True),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("nonce", sa.String(length=500), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=True),
        sa.Column("auth_time", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_oidc_codes_account_id_accounts")),
        sa.ForeignKeyConstraint(["client_id"], ["oidc_clients.id"], name=op.f("fk_oidc_codes_client_id_oidc_clients")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_oidc_codes_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_oidc_codes_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_codes")),
    )
    with op.batch_alter_table("oidc_codes", schema=None) as batch_op:
        batch_op.create_index("ix_oidc_codes_expiry", ["expires_at"], unique=False)
        batch_op.create_index("uq_oidc_codes_digest", ["digest"], unique=True)

    op.create_table(
        "oidc_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("code_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", admit.adapters.persistence.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_oidc_tokens_account_id_accounts")),
        sa.ForeignKeyConstraint(["client_id"], ["oidc_clients.id"], name=op.f("fk_oidc_tokens_client_id_oidc_clients")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_oidc_tokens_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_tokens")),
    )
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_oidc_tokens_code", ["code_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_tokens_code")

    op.drop_table("oidc_tokens")
    with op.batch_alter_table("oidc_codes", schema=None) as batch_op:
        batch_op.drop_index("uq_oidc_codes_digest")
        batch_op.drop_index("ix_oidc_codes_expiry")

    op.drop_table("oidc_codes")
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_clients_org")

    op.drop_table("oidc_clients")
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_signing_keys_state")

    op.drop_table("signing_keys")

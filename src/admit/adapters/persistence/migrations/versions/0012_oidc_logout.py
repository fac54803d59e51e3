"""Logout for the OpenID provider: the Admit session each authorization code was issued in, and
the apps' sessions (which app received tokens through which Admit session, for which workspace),
whose ids are the ``sid`` of ID tokens and back-channel logout tokens

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import admit.adapters.persistence.tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_codes") as batch:
        batch.add_column(sa.Column("session_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_oidc_codes_session", ["session_id"], unique=False)
        batch.create_index("ix_oidc_codes_account", ["account_id", "workspace_id"], unique=False)
    stamp = admit.adapters.persistence.tables.UTCDateTime(timezone=True)
    op.create_table(
        "oidc_app_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=True),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("expires_at", stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_oidc_app_sessions_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oidc_clients.id"], name=op.f("fk_oidc_app_sessions_client_id_oidc_clients")
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_oidc_app_sessions_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_oidc_app_sessions_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_app_sessions")),
    )
    with op.batch_alter_table("oidc_app_sessions") as batch:
        batch.create_index("ix_oidc_app_sessions_session", ["session_id"], unique=False)
        batch.create_index("ix_oidc_app_sessions_account", ["account_id", "workspace_id"], unique=False)
        batch.create_index("ix_oidc_app_sessions_expiry", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("oidc_app_sessions")
    with op.batch_alter_table("oidc_codes") as batch:
        batch.drop_index("ix_oidc_codes_account")
        batch.drop_index("ix_oidc_codes_session")
        batch.drop_column("session_id")

"""An app's login URL (OpenID Connect third-party initiated login): where "Let's go" sends people
so that the app starts the sign-in and receives the code

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 00:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_clients") as batch:
        batch.add_column(sa.Column("initiate_login_uri", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_clients") as batch:
        batch.drop_column("initiate_login_uri")

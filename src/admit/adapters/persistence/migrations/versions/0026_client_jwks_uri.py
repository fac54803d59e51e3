"""Apps that publish their keys (issue 13): ``oidc_clients.jwks_uri``, read at the token endpoint
instead of keys registered inline (``jwks``)

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jwks_uri", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.drop_column("jwks_uri")

"""SCIM identifier-change policy per workspace (issue 16): ``verify`` (the person confirms a new
address or number from SCIM before it signs in) or ``trust`` (the directory is trusted: added at once)

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scim_identifier_changes", sa.String(length=8), server_default=sa.text("'verify'"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("scim_identifier_changes")

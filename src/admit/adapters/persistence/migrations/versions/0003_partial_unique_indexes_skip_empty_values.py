"""partial unique indexes skip empty values

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


INDEXES = [
    ("uq_members_email", "email"),
    ("uq_members_username", "username"),
    ("uq_members_external_id", "external_id"),
    ("uq_members_account", "account_id"),
]
LIVE = "status <> 'removed'"


def _recreate(skip_empty: bool) -> None:
    for name, column in INDEXES:
        where = sa.text(f"{LIVE} AND {column} IS NOT NULL" if skip_empty else LIVE)
        op.drop_index(name, table_name="members")
        op.create_index(
            name, "members", ["workspace_id", column], unique=True, sqlite_where=where, postgresql_where=where
        )


def upgrade() -> None:
    _recreate(skip_empty=True)


def downgrade() -> None:
    _recreate(skip_empty=False)

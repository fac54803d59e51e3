"""Organization invitations and merges

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds these tables


def downgrade() -> None:
    pass

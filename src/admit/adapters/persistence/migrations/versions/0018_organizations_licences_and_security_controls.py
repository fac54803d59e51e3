"""Organization roles, licences (seats) and security controls

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds these tables


def downgrade() -> None:
    pass

"""Idempotency keys of API requests, and leader leases for periodic work

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds these tables


def downgrade() -> None:
    pass

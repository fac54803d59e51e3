"""Seller and customer organizations: delegated roles and invitations into a customer

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds these tables


def downgrade() -> None:
    pass

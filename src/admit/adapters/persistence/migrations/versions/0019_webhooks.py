"""Webhook endpoints, their signing secrets and deliveries

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds these tables


def downgrade() -> None:
    pass

"""Organization invitations can be withdrawn: the state ``withdrawn`` (issue 17)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-26 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

OLD_STATES = "state in ('pending','accepted','declined')"
NEW_STATES = "state in ('pending','accepted','declined','withdrawn')"


def upgrade() -> None:
    with op.batch_alter_table("organization_invitations") as batch:
        batch.drop_constraint(op.f("ck_organization_invitations_state"), type_="check")
        batch.create_check_constraint(op.f("ck_organization_invitations_state"), NEW_STATES)


def downgrade() -> None:
    # A withdrawn invitation was, before this revision, one that could no longer be answered: declined.
    op.execute("UPDATE organization_invitations SET state = 'declined' WHERE state = 'withdrawn'")
    with op.batch_alter_table("organization_invitations") as batch:
        batch.drop_constraint(op.f("ck_organization_invitations_state"), type_="check")
        batch.create_check_constraint(op.f("ck_organization_invitations_state"), OLD_STATES)

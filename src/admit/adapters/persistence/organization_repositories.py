"""Issue 17's repository: an organization's administrators (system and group administrators),
its licence counts, its row lock for the seat check, and its licence and security settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, delete, func, insert, select, update

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import REMOVED, Repository

# A licensed member in one of these states holds a seat ("used"); in the others before acceptance
# ("pending": awaiting invitation or invited) the seat is reserved when the organization says so.
USED = ("active", "suspended")
PENDING = ("provisioned", "invited")


class OrganizationControls(Repository):
    a = t.organization_admins.c

    def lock(self, organization_id: str) -> Row[Any] | None:
        """The organization's row, locked until the transaction ends (``SELECT … FOR UPDATE`` on
        PostgreSQL; SQLite's write transactions, BEGIN IMMEDIATE, are serial already)."""
        return self._one(select(t.organizations).where(t.organizations.c.id == organization_id).with_for_update())

    def update(self, organization_id: str, **values: Any) -> None:
        self._forget_reads()
        self.conn.execute(update(t.organizations).where(t.organizations.c.id == organization_id).values(**values))

    def seat_counts(self, organization_id: str) -> Sequence[Any]:
        """Per workspace of the organization: (workspace_id, name, used, pending) licensed members."""
        m, w = t.members.c, t.workspaces.c
        used = func.sum(case((m.status.in_(USED), 1), else_=0))
        pending = func.sum(case((m.status.in_(PENDING), 1), else_=0))
        licensed = and_(m.workspace_id == w.id, m.licence == "licensed", m.status.in_((*USED, *PENDING)))
        stmt = (
            select(w.id, w.name, func.coalesce(used, 0), func.coalesce(pending, 0))
            .select_from(t.workspaces.outerjoin(t.members, licensed))
            .where(w.organization_id == organization_id)
            .group_by(w.id, w.name, w.created_at)
            .order_by(w.created_at, w.id)
        )
        return self.conn.execute(stmt).all()

    def role_of(self, organization_id: str, account_id: str) -> str | None:
        row = self._one(
            select(self.a.role).where(self.a.organization_id == organization_id, self.a.account_id == account_id)
        )
        return None if row is None else str(row[0])

    def admins(self, organization_id: str) -> Sequence[Any]:
        """(account_id, role, created_at, first_name, last_name, email) by when the role was given."""
        ident = t.account_identifiers.c
        email = (
            select(func.min(ident.value))
            .where(ident.account_id == self.a.account_id, ident.kind == "email")
            .scalar_subquery()
        )
        acc = t.accounts.c
        return self.conn.execute(
            select(
                self.a.account_id, self.a.role, self.a.created_at, acc.first_name, acc.last_name, email.label("email")
            )
            .join(t.accounts, acc.id == self.a.account_id)
            .where(self.a.organization_id == organization_id)
            .order_by(self.a.created_at, self.a.account_id)
        ).all()

    def count_role(self, organization_id: str, role: str) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(self.a.organization_id == organization_id, self.a.role == role)
            ).scalar_one()
        )

    def grant(self, organization_id: str, account_id: str, role: str, now: datetime) -> None:
        self.revoke(organization_id, account_id)
        self.conn.execute(
            insert(t.organization_admins).values(
                organization_id=organization_id, account_id=account_id, role=role, created_at=now
            )
        )

    def revoke(self, organization_id: str, account_id: str) -> bool:
        result = self.conn.execute(
            delete(t.organization_admins).where(
                self.a.organization_id == organization_id, self.a.account_id == account_id
            )
        )
        return result.rowcount == 1

    def member_in_organization(self, organization_id: str, account_id: str) -> bool:
        """Whether the account is a live member of any workspace of the organization."""
        m = t.members.c
        row = self._one(
            select(m.id)
            .where(m.organization_id == organization_id, m.account_id == account_id, m.status != REMOVED)
            .limit(1)
        )
        return row is not None

    def set_licence(self, organization_id: str, member_id: str, licence: str, now: datetime) -> bool:
        m = t.members.c
        result = self.conn.execute(
            update(t.members)
            .where(m.organization_id == organization_id, m.id == member_id)
            .values(licence=licence, updated_at=now)
        )
        return result.rowcount == 1

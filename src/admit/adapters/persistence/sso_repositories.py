"""Repositories for single sign-on: identity providers (an organization's, scoped to it, or the
instance's personal ones) and the lookups of accounts by external identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, or_, select

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import DriverQuery, Repository
from admit.domain.records import Account


class IdentityProviders(Repository):
    c = t.identity_providers.c

    def add(self, **values: Any) -> str:
        return self._insert(t.identity_providers, values)

    def get(self, organization_id: str | None, provider_id: str, *, personal: bool = True) -> Row[Any] | None:
        """One of the organization's providers (or, with ``personal``, an instance-wide one);
        ``organization_id`` None: the operator's view of every provider."""
        stmt = select(t.identity_providers).where(self.c.id == provider_id)
        if organization_id is not None:
            mine = self.c.organization_id == organization_id
            stmt = stmt.where(or_(mine, self.c.kind == "personal") if personal else mine)
        return self._one(stmt)

    def list(self, organization_id: str | None) -> Sequence[Row[Any]]:
        """The organization's providers, or (None) the instance's personal ones."""
        where = self.c.organization_id == organization_id if organization_id is not None else self.c.kind == "personal"
        return self.conn.execute(select(t.identity_providers).where(where).order_by(self.c.created_at, self.c.id)).all()

    def by_ids(self, organization_id: str, provider_ids: Sequence[str]) -> Sequence[Row[Any]]:
        """These providers, if they are the organization's own or personal ones."""
        if not provider_ids:
            return []
        return self.conn.execute(
            select(t.identity_providers).where(
                self.c.id.in_(list(provider_ids)),
                or_(self.c.organization_id == organization_id, self.c.kind == "personal"),
            )
        ).all()

    def remove(self, provider_id: str) -> None:
        self.conn.execute(delete(t.identity_providers).where(self.c.id == provider_id))


class ExternalAccounts(Repository):
    a = t.accounts.c

    def by_identity(self, issuer: str, subject: str) -> Account | None:
        row = self._one(select(t.accounts).where(self.a.external_issuer == issuer, self.a.external_subject == subject))
        return None if row is None else Account._make(row)

    _by_email = DriverQuery(
        select(t.accounts).where(
            t.accounts.c.credential_kind == "external", t.accounts.c.external_email == bindparam("email")
        ),
        Account,
    )

    def by_email(self, email: str) -> Sequence[Account]:
        """External accounts whose provider vouched for this address (to explain, never to link;
        read on every welcome page: at the driver)."""
        return self._by_email.all(self.conn, {"email": email})

    def sso_memberships(self, account_id: str) -> Sequence[Any]:
        """The account's memberships (active or suspended: accepted) in workspaces requiring SSO."""
        m, w = t.members.c, t.workspaces.c
        return self.conn.execute(
            select(m.id, m.role, m.organization_id, w.id.label("workspace_id"))
            .join(t.workspaces, w.id == m.workspace_id)
            .where(m.account_id == account_id, m.status.in_(("active", "suspended")), w.sso_required.is_(True))
        ).all()

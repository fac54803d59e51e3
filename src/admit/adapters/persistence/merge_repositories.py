"""Issue 17's organization invitations and merges: the invitations, the facts a merge plan is made
from, and the merge's writes (moving workspaces with their content, groups, closing an account).

What moves with a workspace: every row of the tables in ``MOVED`` whose ``workspace_id`` is the
workspace's (its members, their invitations, access codes, terms and acceptances, jobs, audit
events, outbox messages, sign-up settings, links and requests, SCIM users and holds), plus the
secrets of its invitations and members. What stays with the acquired (closed) account: its
organization-level configuration (API and SCIM tokens, identity providers, apps, webhooks), which
the inviting account's own replaces; the merge revokes its tokens and its apps' tokens and disables
its webhook endpoints (``access_of``, ``revoke_access``)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, delete, func, or_, select, update

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import REMOVED, Repository

OI = t.organization_invitations.c
M = t.members.c
G = t.groups.c

MOVED: tuple[Table, ...] = (
    t.members,
    t.invitations,
    t.access_codes,
    t.terms,
    t.terms_acceptances,
    t.jobs,
    t.events,
    t.outbox,
    t.signup_settings,
    t.signup_links,
    t.signup_requests,
    t.scim_users,
    t.scim_holds,
)


class OrganizationInvitations(Repository):
    def add(self, **values: Any) -> str:
        return self._insert(t.organization_invitations, values)

    def get(self, organization_id: str | None, invitation_id: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.organization_invitations).where(OI.id == invitation_id)
        if organization_id is not None:
            stmt = stmt.where(OI.organization_id == organization_id)
        return self._one(stmt.with_for_update() if lock else stmt)

    def list(self, organization_id: str, *, limit: int = 200) -> Sequence[Row[Any]]:
        return self.conn.execute(
            select(t.organization_invitations)
            .where(OI.organization_id == organization_id)
            .order_by(OI.created_at.desc(), OI.id)
            .limit(limit)
        ).all()

    def pending_for_emails(self, emails: Sequence[str], now: datetime) -> Sequence[Row[Any]]:
        """Open invitations to any of these addresses, with the inviting organization's name."""
        if not emails:
            return []
        return self.conn.execute(
            select(t.organization_invitations, t.organizations.c.name.label("organization_name"))
            .join(t.organizations, t.organizations.c.id == OI.organization_id)
            .where(OI.email.in_(list(emails)), OI.state == "pending", OI.expires_at > now)
            .order_by(OI.created_at, OI.id)
        ).all()

    def pending_to(self, organization_id: str, email: str, now: datetime) -> Row[Any] | None:
        return self._one(
            select(t.organization_invitations).where(
                OI.organization_id == organization_id, OI.email == email, OI.state == "pending", OI.expires_at > now
            )
        )

    def update(self, invitation_id: str, **values: Any) -> None:
        self.conn.execute(update(t.organization_invitations).where(OI.id == invitation_id).values(**values))

    # The facts a plan is made from
    def members_of(self, organization_id: str) -> Sequence[Any]:
        """Every member row that is not removed (id, account_id, workspace_id, status, licence, role, email)."""
        return self.conn.execute(
            select(M.id, M.account_id, M.workspace_id, M.status, M.licence, M.role, M.email)
            .where(M.organization_id == organization_id, M.status != REMOVED)
            .order_by(M.created_at, M.id)
        ).all()

    def member_rows_for_account(self, account_id: str) -> Sequence[Any]:
        return self.conn.execute(
            select(M.organization_id, M.workspace_id, M.status).where(M.account_id == account_id, M.status != REMOVED)
        ).all()

    def organizations_administered(self, account_id: str) -> Sequence[Row[Any]]:
        a = t.organization_admins.c
        return self.conn.execute(
            select(t.organizations)
            .join(t.organization_admins, a.organization_id == t.organizations.c.id)
            .where(a.account_id == account_id, a.role == "system_admin")
            .order_by(t.organizations.c.created_at, t.organizations.c.id)
        ).all()

    def admin_roles(self, organization_id: str) -> dict[str, str]:
        a = t.organization_admins.c
        rows = self.conn.execute(select(a.account_id, a.role).where(a.organization_id == organization_id)).all()
        return {str(account): str(role) for account, role in rows}

    def groups_of(self, organization_id: str) -> Sequence[Any]:
        return self.conn.execute(
            select(G.id, G.display_name, G.name_key).where(G.organization_id == organization_id).order_by(G.name_key)
        ).all()

    # The merge's writes
    def move_workspace(self, from_id: str, to_id: str, workspace_id: str) -> None:
        """The workspace and everything in it: to the other organization."""
        for table in MOVED:
            self.conn.execute(
                update(table)
                .where(table.c.organization_id == from_id, table.c.workspace_id == workspace_id)
                .values(organization_id=to_id)
            )
        subjects = (
            select(M.id)
            .where(M.workspace_id == workspace_id)
            .union(select(t.invitations.c.id).where(t.invitations.c.workspace_id == workspace_id))
        )
        self.conn.execute(
            update(t.secrets)
            .where(t.secrets.c.organization_id == from_id, t.secrets.c.subject_id.in_(subjects))
            .values(organization_id=to_id)
        )
        self.conn.execute(
            update(t.workspaces)
            .where(t.workspaces.c.organization_id == from_id, t.workspaces.c.id == workspace_id)
            .values(organization_id=to_id)
        )

    def move_group(
        self, from_id: str, to_id: str, group_id: str, display_name: str, name_key: str, now: datetime
    ) -> None:
        self.conn.execute(
            update(t.groups)
            .where(G.organization_id == from_id, G.id == group_id)
            .values(organization_id=to_id, display_name=display_name, name_key=name_key, updated_at=now)
        )
        self.conn.execute(
            update(t.group_members)
            .where(t.group_members.c.organization_id == from_id, t.group_members.c.group_id == group_id)
            .values(organization_id=to_id)
        )

    def drop_admins(self, organization_id: str) -> None:
        self.conn.execute(
            delete(t.organization_admins).where(t.organization_admins.c.organization_id == organization_id)
        )

    # What an acquired organization loses (its organization-level access: tokens, webhooks, apps' tokens)
    def access_of(self, organization_id: str, now: datetime) -> Sequence[tuple[str, str, str]]:
        """(kind, id, name) of each live API token, SCIM token, enabled webhook endpoint, app with
        live refresh tokens, and SSO identity provider, oldest first within a kind."""
        a, s, w, c, p = t.api_tokens.c, t.scim_tokens.c, t.webhook_endpoints.c, t.oidc_clients.c, t.identity_providers.c
        r = t.oidc_refresh_tokens.c
        found: builtins.list[tuple[str, str, str]] = []
        queries = (
            ("api_token", select(a.id, a.name).where(a.organization_id == organization_id, a.revoked_at.is_(None))
             .order_by(a.created_at, a.id)),
            ("scim_token", select(s.id, s.name).where(s.organization_id == organization_id, s.revoked_at.is_(None))
             .order_by(s.created_at, s.id)),
            ("webhook", select(w.id, w.url).where(w.organization_id == organization_id, w.enabled.is_(True))
             .order_by(w.created_at, w.id)),
            ("app", select(c.id, c.name).where(
                c.organization_id == organization_id,
                select(r.id).where(
                    r.client_id == c.id, r.organization_id == organization_id, r.revoked_at.is_(None),
                    r.used_at.is_(None), r.expires_at > now,
                ).exists(),
            ).order_by(c.created_at, c.id)),
            ("sso_provider", select(p.id, p.name).where(p.organization_id == organization_id, p.kind == "sso")
             .order_by(p.created_at, p.id)),
        )  # fmt: skip
        for kind, stmt in queries:
            found.extend((kind, str(i), str(name)) for i, name in self.conn.execute(stmt).all())
        return found

    def revoke_access(self, organization_id: str, kind: str, item_id: str, now: datetime, reason: str) -> None:
        """Revoke one API or SCIM token, disable one webhook endpoint, or revoke every refresh and
        access token of one app (the app stays, with the closed account). An SSO provider stays as
        it is (nothing of the closed account uses it)."""
        tokens: dict[str, Table] = {"api_token": t.api_tokens, "scim_token": t.scim_tokens}
        if kind in tokens:
            table = tokens[kind]
            self.conn.execute(
                update(table).where(table.c.organization_id == organization_id, table.c.id == item_id)
                .values(revoked_at=now)
            )  # fmt: skip
        elif kind == "webhook":
            table = t.webhook_endpoints
            self.conn.execute(
                update(table).where(table.c.organization_id == organization_id, table.c.id == item_id)
                .values(enabled=False, disabled_reason=reason[:300])
            )  # fmt: skip
        elif kind == "app":
            for table in (t.oidc_refresh_tokens, t.oidc_tokens):
                self.conn.execute(
                    update(table)
                    .where(table.c.organization_id == organization_id, table.c.client_id == item_id,
                           table.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                )  # fmt: skip
        elif kind != "sso_provider":  # a provider is kept; the service takes it off the moved workspaces
            raise ValueError(f"unknown kind of access {kind!r}")

    def count_members(self, organization_id: str) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(M.organization_id == organization_id, M.status != REMOVED)
            ).scalar_one()
        )

    def live_member_in(self, organization_id: str, account_id: str, email: str) -> bool:
        """Whether the account, or a member with this address, is a live member of the organization."""
        row = self._one(
            select(M.id)
            .where(
                M.organization_id == organization_id,
                M.status != REMOVED,
                or_(M.account_id == account_id, func.lower(M.email) == email),
            )
            .limit(1)
        )
        return row is not None

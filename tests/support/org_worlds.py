"""Organizations with people, roles, licences and groups, written straight through the
repositories (no invitation round trips): the worlds the organization-merge tests start from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from admit.adapters.persistence import tables as t
from admit.admin import licences, tenancy
from admit.admin.groups import name_key
from admit.flows.signin import sessions
from admit.shared.context import Actor, ActorKind, Context


@dataclass
class PersonSpec:
    email: str
    role: str = "member"  # workspace role
    licence: str = "licensed"
    status: str = "active"
    org_role: str | None = None  # system_admin | group_admin
    workspace: int = 0  # index into the organization's workspaces


@dataclass
class World:
    org: Any
    workspaces: list[Any]
    accounts: dict[str, str] = field(default_factory=dict)  # email -> account id
    members: dict[str, str] = field(default_factory=dict)  # email -> member id
    groups: dict[str, str] = field(default_factory=dict)  # name -> group id

    def actor(self, email: str) -> Actor:
        return Actor(ActorKind.ACCOUNT, id=self.accounts[email], name=email)


def account(ctx: Context, email: str) -> str:
    """An account with this address (made if missing)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        found = uow.accounts.by_identifiers([("email", email)])
        if found is not None:
            return found.id
        account_id = uow.accounts.add(
            credential_kind="password", password_hash=ctx.hasher.hash("x" * 20), first_name=email.split("@")[0],
            status="active", must_change_password=False, created_at=now,
        )  # fmt: skip
        uow.accounts.add_identifier(account_id, "email", email, now)
        uow.commit()
    return account_id


def build(
    ctx: Context,
    operator: Actor,
    name: str,
    *,
    plan: str = "business",
    seats: int = 50,
    enforced: bool = False,
    reserve: bool = True,
    people: list[PersonSpec] | tuple[PersonSpec, ...] = (),
    groups: dict[str, list[str]] | None = None,  # group name -> member emails
    workspaces: int = 1,
) -> World:
    org = tenancy.create_organization(ctx, operator, name, plan=plan, seats=seats)
    if enforced:
        licences.set_seats(ctx, operator, org.id, enforced=True)
    if not reserve:
        licences.set_reservation(ctx, operator, org.id, False)
    made = [tenancy.create_workspace(ctx, operator, org.id, f"{name} {i + 1}") for i in range(workspaces)]
    # in the order the organization lists them (created_at, then id): made in one instant, the
    # ids' random part decides, as in Workspaces.list
    world = World(org, sorted(made, key=lambda w: (w.created_at, w.id)))
    now = ctx.clock.now()
    for spec in people:
        account_id = account(ctx, spec.email) if spec.status == "active" or spec.org_role else None
        with ctx.uow(write=True) as uow:
            member_id = uow.members.add(
                organization_id=org.id, workspace_id=world.workspaces[spec.workspace].id, account_id=account_id,
                status=spec.status, role=spec.role, email=spec.email, created_at=now, updated_at=now,
                licence=spec.licence,
            )  # fmt: skip
            if spec.org_role and account_id:
                uow.org_controls.grant(org.id, account_id, spec.org_role, now)
            uow.commit()
        world.members[spec.email] = member_id
        if account_id:
            world.accounts[spec.email] = account_id
    for group, emails in (groups or {}).items():
        with ctx.uow(write=True) as uow:
            group_id = uow.groups.add(
                organization_id=org.id, display_name=group, name_key=name_key(group), source="console",
                created_at=now, updated_at=now,
            )  # fmt: skip
            uow.groups.add_members(org.id, group_id, [world.members[e] for e in emails], now)
            uow.commit()
        world.groups[group] = group_id
    return world


def signed_in(ctx: Context, account_id: str) -> str:
    """A session that began now (a fresh sign-in)."""
    return sessions.start_session(ctx, account_id)


def snapshot(ctx: Context, *organization_ids: str) -> dict[str, Any]:
    """Everything a merge may change about these organizations, comparable with ``==``."""
    with ctx.uow() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        ids = list(organization_ids)

        def rows(table: Any, *columns: str) -> list[tuple[Any, ...]]:
            stmt = select(*(table.c[c] for c in columns)).where(table.c.organization_id.in_(ids))
            return sorted(tuple(r) for r in conn.execute(stmt).all())

        orgs = sorted(
            tuple(r)
            for r in conn.execute(
                select(t.organizations.c.id, t.organizations.c.plan, t.organizations.c.seats).where(
                    t.organizations.c.id.in_(ids)
                )
            ).all()
        )
        return {
            "organizations": orgs,
            "workspaces": rows(t.workspaces, "id", "organization_id"),
            "members": rows(t.members, "id", "organization_id", "workspace_id", "status", "role", "licence"),
            "admins": rows(t.organization_admins, "organization_id", "account_id", "role"),
            "groups": rows(t.groups, "id", "organization_id", "display_name"),
            "group_members": rows(t.group_members, "group_id", "member_id", "organization_id"),
        }


def events(ctx: Context, organization_id: str) -> list[str]:
    """The organization's audit event types, oldest first."""
    with ctx.uow() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        e = t.events.c
        stmt = select(e.action).where(e.organization_id == organization_id).order_by(e.created_at, e.id)
        return [str(a) for a in conn.execute(stmt).scalars()]

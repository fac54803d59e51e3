"""What the administrator's pages need around the use cases: who is acting (a signed-in account,
named for the audit log and the invitations it sends), which workspaces they administer, and a
workspace's directory at a glance (how many members in each status)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admit.domain.errors import NotFound, PermissionDenied
from admit.domain.roles import Permission, Role
from admit.shared.access import workspace_for
from admit.shared.context import Actor, ActorKind, Context

ADMIN_PERMISSIONS = (Permission.MANAGE_PEOPLE, Permission.INVITE)


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    language: str | None
    must_change_password: bool


def signed_in(ctx: Context, account_id: str) -> SignedIn:
    """The account as an actor, named by its first and last name (else its first identifier)."""
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        identifiers = [value for _, value in uow.accounts.identifiers(account_id)]
    if account is None:
        raise NotFound("account not found")
    name = " ".join(part for part in (account.first_name, account.last_name) if part)
    actor = Actor(ActorKind.ACCOUNT, id=account_id, name=name or (identifiers[0] if identifiers else ""))
    return SignedIn(actor, account.language, bool(account.must_change_password))


def administered(ctx: Context, account_id: str) -> list[dict[str, Any]]:
    """The workspaces where the account may manage people or invite them, by name."""
    with ctx.uow() as uow:
        rows = uow.members.workspaces_of(account_id)
    return [dict(row._mapping) for row in rows if _administers(Role(row.role))]


def _administers(role: Role) -> bool:
    return any(role.allows(permission) for permission in ADMIN_PERMISSIONS)


def overview(ctx: Context, actor: Actor, workspace_id: str, permission: Permission | None = None) -> dict[str, Any]:
    """The workspace (settings included), the actor's role in it, what that role allows (for a
    page to offer only what the use cases will do), the members per status and (for a signed-in
    person) the other workspaces they administer, by name (the console's workspace switcher).
    ``NotFound`` for a workspace the actor cannot see, ``PermissionDenied`` without the right to
    manage or invite people, or without ``permission`` when a page that shows less (a person, read
    only) names it."""
    with ctx.uow() as uow:
        workspace, role = workspace_for(uow, actor, workspace_id, permission)
        if permission is None and not _administers(role):
            raise PermissionDenied(f"the {role.value} role may not manage people")
        counts = uow.members.count(workspace.organization_id, workspace.id)
        mine = uow.members.workspaces_of(actor.id) if actor.kind is ActorKind.ACCOUNT and actor.id else []
    others = [
        {"id": row.workspace_id, "name": row.name}
        for row in mine
        if row.workspace_id != workspace.id and _administers(Role(row.role))
    ]
    allowed = frozenset(p.value for p in role.permissions)
    return {
        "workspace": dict(workspace._mapping),
        "role": role,
        "allowed": allowed,
        "counts": counts,
        "others": others,
    }

"""Who may do what where. Another tenant's workspace is reported as not found, never as
forbidden, so ids cannot be probed across organizations."""

from __future__ import annotations

from admit.domain.errors import NotFound, PermissionDenied
from admit.domain.ports import UnitOfWork
from admit.domain.records import Workspace
from admit.domain.roles import Permission, Role, require
from admit.shared.context import Actor, ActorKind

# Tokens act within their organization (and workspace) with a fixed role: REST API tokens and SCIM tokens.
TOKENS = (ActorKind.API_TOKEN, ActorKind.SCIM)


def role_in(uow: UnitOfWork, actor: Actor, workspace: Workspace) -> Role:
    if actor.kind in (ActorKind.OPERATOR, ActorKind.SYSTEM):
        return Role.OWNER
    if actor.organization_id != workspace.organization_id and actor.kind in TOKENS:
        raise NotFound("workspace not found")
    if actor.workspace_id is not None and actor.workspace_id != workspace.id:
        raise NotFound("workspace not found")
    if actor.kind in TOKENS:
        assert actor.role is not None
        return actor.role
    assert actor.id is not None
    member = uow.members.for_account(workspace.organization_id, workspace.id, actor.id)
    # A system administrator of the organization (issue 17, admin.organization_roles) acts as owner
    # in its workspaces: not in one where their own membership is suspended or removed, and in none
    # once they have no active membership left in the organization (deprovisioned by SCIM, say).
    if (
        (member is None or (member.status == "active" and member.role != Role.OWNER))
        and actor.workspace_id is None
        and uow.org_controls.role_of(workspace.organization_id, actor.id) == "system_admin"
        and (member is not None or uow.members.workspaces_of(actor.id, workspace.organization_id))
    ):
        return Role.OWNER
    if member is None and actor.workspace_id is None and (delegated := delegated_role(uow, actor, workspace)):
        return delegated
    if member is None:
        raise NotFound("workspace not found")
    if member.status != "active":
        raise PermissionDenied("your membership of this workspace is not active")
    return Role(member.role)


# Issue 17 (sellers, admit.admin.sellers): the bounded role a seller's system administrator holds
# in every workspace of the seller's customer organizations; never owner.
DELEGATED_ROLE = Role.ADMIN


def delegated_role(uow: UnitOfWork, actor: Actor, workspace: Workspace) -> Role | None:
    """:data:`DELEGATED_ROLE` when ``actor`` (an account) is a system administrator of the seller
    whose customer organization owns ``workspace``; else None (a customer's own people, the
    seller's siblings and parents get nothing from it)."""
    if actor.kind is not ActorKind.ACCOUNT or actor.id is None:
        return None
    org = uow.organizations.get(workspace.organization_id)
    if org is None or org.kind != "customer" or org.parent_id is None:
        return None
    seller = uow.organizations.get(org.parent_id)
    if seller is None or seller.kind != "seller":
        return None
    return DELEGATED_ROLE if uow.org_controls.role_of(seller.id, actor.id) == "system_admin" else None


def workspace_for(
    uow: UnitOfWork, actor: Actor, workspace_id: str, permission: Permission | None = None
) -> tuple[Workspace, Role]:
    """Load a workspace the actor can see, check ``permission``, and return it with the role."""
    scope = tenant_scope(actor)
    workspace = uow.workspaces.get(scope, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    role = role_in(uow, actor, workspace)
    if permission is not None:
        require(role, permission)
    return workspace, role


def organization_scope(actor: Actor, organization_id: str) -> str:
    """The organization an actor may act in; another tenant's is not found."""
    if actor.kind is ActorKind.OPERATOR:
        return organization_id
    if actor.organization_id != organization_id or actor.workspace_id is not None:
        raise NotFound("organization not found")
    return organization_id


def tenant_scope(actor: Actor) -> str | None:
    """The organization filter for loading a row by id before ``workspace_for`` checks it.

    API tokens are filtered by their organization at the query itself; operators see every
    organization; an account's rights are checked on the row's workspace right after loading.
    """
    return actor.organization_id if actor.kind in TOKENS else None

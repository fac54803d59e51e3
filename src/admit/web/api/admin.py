"""Administration endpoints: organizations, workspaces, members, invitations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from admit.services import invitations, members, tenancy
from admit.services.members import make_cursor
from admit.services.tenancy import WorkspaceSettings
from admit.web.api import schemas as s
from admit.web.deps import Caller, Ctx

router = APIRouter()
Limit = Query(50, ge=1, le=500)


def _page(items: list[dict[str, Any]], limit: int) -> str | None:
    return make_cursor(items[-1]) if len(items) == limit else None


@router.get("/organizations", response_model=list[s.OrganizationOut], tags=["organizations"])
def list_organizations(ctx: Ctx, actor: Caller) -> Any:
    return tenancy.list_organizations(ctx, actor)


@router.post("/organizations", status_code=201, response_model=s.OrganizationOut, tags=["organizations"])
def create_organization(body: s.OrganizationIn, ctx: Ctx, actor: Caller) -> Any:
    return tenancy.create_organization(
        ctx, actor, body.name, plan=body.plan, seats=body.seats, parent_id=body.parent_id
    )


@router.get("/organizations/{organization_id}", response_model=s.OrganizationOut, tags=["organizations"])
def get_organization(organization_id: str, ctx: Ctx, actor: Caller) -> Any:
    return tenancy.get_organization(ctx, actor, organization_id)


@router.get("/organizations/{organization_id}/workspaces", response_model=list[s.WorkspaceOut], tags=["workspaces"])
def list_workspaces(organization_id: str, ctx: Ctx, actor: Caller) -> Any:
    return tenancy.list_workspaces(ctx, actor, organization_id)


@router.post(
    "/organizations/{organization_id}/workspaces", status_code=201, response_model=s.WorkspaceOut, tags=["workspaces"]
)
def create_workspace(organization_id: str, body: s.WorkspaceIn, ctx: Ctx, actor: Caller) -> Any:
    settings = WorkspaceSettings(**body.model_dump(exclude={"name"}))
    return tenancy.create_workspace(ctx, actor, organization_id, body.name, settings)


@router.get("/workspaces/{workspace_id}", response_model=s.WorkspaceOut, tags=["workspaces"])
def get_workspace(workspace_id: str, ctx: Ctx, actor: Caller) -> Any:
    return tenancy.get_workspace(ctx, actor, workspace_id)


@router.patch("/workspaces/{workspace_id}", response_model=s.WorkspaceOut, tags=["workspaces"])
def update_workspace(workspace_id: str, body: s.WorkspacePatch, ctx: Ctx, actor: Caller) -> Any:
    """Change the name or settings: lifetime, password policy, communication (email, SMS, auto-invite)."""
    return tenancy.update_workspace(ctx, actor, workspace_id, body.model_dump(exclude_unset=True))


@router.get("/workspaces/{workspace_id}/members", response_model=s.MemberPage, tags=["members"])
def list_members(
    workspace_id: str,
    ctx: Ctx,
    actor: Caller,
    status: s.Status | None = None,
    cursor: str | None = None,
    limit: int = Limit,
) -> Any:
    items = members.list_members(ctx, actor, workspace_id, status=status, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": _page(items, limit)}


@router.post("/workspaces/{workspace_id}/members", status_code=201, response_model=s.MemberCreated, tags=["members"])
def create_member(workspace_id: str, body: s.MemberIn, ctx: Ctx, actor: Caller) -> Any:
    member, invitation = members.provision(
        ctx, actor, workspace_id, body.as_input(), invite=body.invite, message=body.message
    )
    return {"member": member, "invitation": invitation}


@router.get("/members/{member_id}", response_model=s.MemberOut, tags=["members"])
def get_member(member_id: str, ctx: Ctx, actor: Caller) -> Any:
    return members.get(ctx, actor, member_id)


@router.patch("/members/{member_id}", response_model=s.MemberOut, tags=["members"])
def update_member(member_id: str, body: s.MemberPatch, ctx: Ctx, actor: Caller) -> Any:
    return members.update(ctx, actor, member_id, body.model_dump(exclude_unset=True))


@router.post("/members/{member_id}/suspend", response_model=s.MemberOut, tags=["members"])
def suspend_member(member_id: str, ctx: Ctx, actor: Caller) -> Any:
    return members.suspend(ctx, actor, member_id)


@router.post("/members/{member_id}/reactivate", response_model=s.MemberOut, tags=["members"])
def reactivate_member(member_id: str, ctx: Ctx, actor: Caller) -> Any:
    return members.reactivate(ctx, actor, member_id)


@router.post("/members/{member_id}/remove", response_model=s.MemberOut, tags=["members"])
def remove_member(member_id: str, ctx: Ctx, actor: Caller) -> Any:
    return members.remove(ctx, actor, member_id)


@router.post("/members/{member_id}/invite", status_code=201, response_model=s.InvitationOut, tags=["invitations"])
def invite_member(member_id: str, body: s.MessageIn, ctx: Ctx, actor: Caller) -> Any:
    return invitations.invite_member(ctx, actor, member_id, message=body.message)


@router.get("/workspaces/{workspace_id}/invitations", response_model=s.InvitationPage, tags=["invitations"])
def list_invitations(
    workspace_id: str,
    ctx: Ctx,
    actor: Caller,
    state: s.State | None = None,
    cursor: str | None = None,
    limit: int = Limit,
) -> Any:
    items = invitations.list_invitations(
        ctx, actor, workspace_id, state=state, limit=limit, after=members.parse_cursor(cursor)
    )
    return {"items": items, "next_cursor": _page(items, limit)}


@router.post(
    "/workspaces/{workspace_id}/invitations", status_code=201, response_model=s.InvitationOut, tags=["invitations"]
)
def create_invitation(workspace_id: str, body: s.InvitationIn, ctx: Ctx, actor: Caller) -> Any:
    invitation, _ = invitations.invite(ctx, actor, workspace_id, body.as_input(), message=body.message)
    return invitation


@router.get("/invitations/{invitation_id}", response_model=s.InvitationOut, tags=["invitations"])
def get_invitation(invitation_id: str, ctx: Ctx, actor: Caller) -> Any:
    return invitations.get(ctx, actor, invitation_id)


@router.post("/invitations/{invitation_id}/resend", response_model=s.InvitationOut, tags=["invitations"])
def resend_invitation(invitation_id: str, body: s.MessageIn, ctx: Ctx, actor: Caller) -> Any:
    return invitations.resend(ctx, actor, invitation_id, message=body.message)


@router.post("/invitations/{invitation_id}/revoke", response_model=s.InvitationOut, tags=["invitations"])
def revoke_invitation(invitation_id: str, ctx: Ctx, actor: Caller) -> Any:
    return invitations.revoke(ctx, actor, invitation_id)

"""Administration endpoints: organizations, workspaces, members, terms (invitations are in
:mod:`admit.entrypoints.web.api.admin.invitations`).

Every endpoint authenticates the bearer and runs its use case together with it (see
:mod:`admit.entrypoints.web.deps`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request, Response

from admit.admin import branding, members, tenancy
from admit.admin import terms as admin_terms
from admit.admin.tenancy import WorkspaceSettings
from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import LIMIT, page
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router()


@router.get("/organizations", response_model=list[s.OrganizationOut], tags=["organizations"])
async def list_organizations(ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: tenancy.list_organizations(ctx, actor), quick=True)


@router.post("/organizations", status_code=201, response_model=s.OrganizationOut, tags=["organizations"])
async def create_organization(body: s.OrganizationIn, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(
        ctx,
        token,
        lambda actor: tenancy.create_organization(
            ctx, actor, body.name, plan=body.plan, seats=body.seats, parent_id=body.parent_id
        ),
        quick=True,
    )


@router.get("/organizations/{organization_id}", response_model=s.OrganizationOut, tags=["organizations"])
async def get_organization(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: tenancy.get_organization(ctx, actor, organization_id), quick=True)


@router.get("/organizations/{organization_id}/workspaces", response_model=list[s.WorkspaceOut], tags=["workspaces"])
async def list_workspaces(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: tenancy.list_workspaces(ctx, actor, organization_id), quick=True)


@router.post(
    "/organizations/{organization_id}/workspaces", status_code=201, response_model=s.WorkspaceOut, tags=["workspaces"]
)
async def create_workspace(organization_id: str, body: s.WorkspaceIn, ctx: Ctx, token: Bearer) -> Any:
    settings = WorkspaceSettings(**body.model_dump(exclude={"name"}))
    return await as_caller(
        ctx,
        token,
        lambda actor: tenancy.create_workspace(ctx, actor, organization_id, body.name, settings),
        quick=True,
    )


@router.get("/workspaces/{workspace_id}", response_model=s.WorkspaceOut, tags=["workspaces"])
async def get_workspace(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: tenancy.get_workspace(ctx, actor, workspace_id), quick=True)


@router.patch("/workspaces/{workspace_id}", response_model=s.WorkspaceOut, tags=["workspaces"])
async def update_workspace(workspace_id: str, body: s.WorkspacePatch, ctx: Ctx, token: Bearer) -> Any:
    """Change the name or settings: lifetime, password policy, communication (email, SMS, auto-invite)."""
    changes = body.model_dump(exclude_unset=True)
    return await as_caller(
        ctx, token, lambda actor: tenancy.update_workspace(ctx, actor, workspace_id, changes), quick=True
    )


LOGO_BODY = {
    "requestBody": {
        "required": True,
        "description": "The logo itself (at most 100 KB): a PNG of at most 1024×1024 pixels, or an SVG "
        "(rebuilt from an allow-list: scripts, event handlers and outside references are removed).",
        "content": {
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/svg+xml": {"schema": {"type": "string"}},
        },
    }
}


@router.put("/workspaces/{workspace_id}/logo", response_model=s.LogoOut, tags=["workspaces"], openapi_extra=LOGO_BODY)
async def set_logo(workspace_id: str, request: Request, ctx: Ctx, token: Bearer) -> Any:
    """Replace the workspace's logo (shown on invitee pages and, a PNG, in invitation emails)."""
    received = bytearray()
    async for part in request.stream():  # no more than one byte over the limit: the service says "too large"
        received += part
        if len(received) > branding.MAX_BYTES:
            break
    data = bytes(received[: branding.MAX_BYTES + 1])
    content_type = request.headers.get("content-type")
    return await as_caller(
        ctx, token, lambda actor: branding.set_logo(ctx, actor, workspace_id, None, content_type, data)
    )


@router.delete("/workspaces/{workspace_id}/logo", status_code=204, tags=["workspaces"])
async def remove_logo(workspace_id: str, ctx: Ctx, token: Bearer) -> Response:
    """Remove the workspace's logo (nothing happens when it has none)."""
    await as_caller(ctx, token, lambda actor: branding.remove_logo(ctx, actor, workspace_id), quick=True)
    return Response(status_code=204)


@router.get("/workspaces/{workspace_id}/members", response_model=s.MemberPage, tags=["members"])
async def list_members(
    workspace_id: str,
    ctx: Ctx,
    token: Bearer,
    status: s.Status | None = None,
    department: str | None = Query(None, max_length=200),
    role: s.RoleName | None = None,
    q: str | None = Query(None, max_length=100, description="Part of a name, email, username, phone or external ID."),
    cursor: str | None = None,
    limit: int = LIMIT,
) -> Any:
    """The directory, in creation order, one page at a time (follow ``next_cursor``)."""
    items = await as_caller(
        ctx,
        token,
        lambda actor: members.list_members(
            ctx,
            actor,
            workspace_id,
            status=status,
            department=department,
            role=role,
            search=q,
            cursor=cursor,
            limit=limit,
        ),
        quick=True,
    )
    return page(items, limit)


@router.post("/workspaces/{workspace_id}/members", status_code=201, response_model=s.MemberCreated, tags=["members"])
async def create_member(workspace_id: str, body: s.MemberIn, ctx: Ctx, token: Bearer) -> Any:
    member, invitation = await as_caller(
        ctx,
        token,
        lambda actor: members.provision(
            ctx, actor, workspace_id, body.as_input(), invite=body.invite, message=body.message
        ),
        quick=True,
    )
    return {"member": member, "invitation": invitation}


@router.get("/members/{member_id}", response_model=s.MemberOut, tags=["members"])
async def get_member(member_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: members.get(ctx, actor, member_id), quick=True)


@router.patch("/members/{member_id}", response_model=s.MemberOut, tags=["members"])
async def update_member(member_id: str, body: s.MemberPatch, ctx: Ctx, token: Bearer) -> Any:
    changes = body.model_dump(exclude_unset=True)
    return await as_caller(ctx, token, lambda actor: members.update(ctx, actor, member_id, changes), quick=True)


@router.post("/members/{member_id}/suspend", response_model=s.MemberOut, tags=["members"])
async def suspend_member(member_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: members.suspend(ctx, actor, member_id), quick=True)


@router.post("/members/{member_id}/initial-password", response_model=s.MemberOut, tags=["members"])
async def set_initial_password(member_id: str, body: s.InitialPasswordIn, ctx: Ctx, token: Bearer) -> Any:
    """Activate a member who has no account yet with a one-time password you give them by hand
    (their pending invitation ends); they must choose their own at their first sign-in. 409 for a
    member who already has an account (they reset their password themselves)."""
    return await as_caller(ctx, token, lambda actor: members.set_initial_password(ctx, actor, member_id, body.password))


@router.post("/members/{member_id}/reactivate", response_model=s.MemberOut, tags=["members"])
async def reactivate_member(member_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: members.reactivate(ctx, actor, member_id), quick=True)


@router.post("/members/{member_id}/remove", response_model=s.MemberOut, tags=["members"])
async def remove_member(member_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: members.remove(ctx, actor, member_id), quick=True)


TERMS_BODY = {
    "requestBody": {
        "required": True,
        "description": "The document itself: a PDF, or UTF-8 text (at most 5 MB).",
        "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/workspaces/{workspace_id}/terms",
    status_code=201,
    response_model=s.TermsOut,
    tags=["terms"],
    openapi_extra=TERMS_BODY,
)
async def publish_terms(
    workspace_id: str,
    request: Request,
    ctx: Ctx,
    token: Bearer,
    filename: str | None = Query(None, max_length=200, description="Name the document is downloaded as."),
    notify: bool = Query(False, description="Email every active member that the terms changed."),
) -> Any:
    """Publish a new version of the workspace's terms of service; members accept it before entering."""
    document = await request.body()
    return await as_caller(
        ctx,
        token,
        lambda actor: admin_terms.publish(
            ctx, actor, workspace_id, filename=filename, document=document, notify=notify
        ),
    )


@router.get("/workspaces/{workspace_id}/terms", response_model=list[s.TermsOut], tags=["terms"])
async def list_terms(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Every version of the terms, newest first, with how many accounts accepted each."""
    return await as_caller(ctx, token, lambda actor: admin_terms.versions(ctx, actor, workspace_id), quick=True)

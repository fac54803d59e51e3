"""Invitation endpoints: invite, list, get, resend, revoke.

Their own router, included ahead of the others: creating invitations is the busiest call, and
FastAPI tries routes in order.
"""

from __future__ import annotations

from typing import Any

from admit.admin import invitations, members
from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import LIMIT, page
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router()


@router.post("/members/{member_id}/invite", status_code=201, response_model=s.InvitationOut, tags=["invitations"])
async def invite_member(member_id: str, body: s.MessageIn, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(
        ctx,
        token,
        lambda actor: invitations.invite_member(ctx, actor, member_id, message=body.message),
        quick=True,
    )


@router.get("/workspaces/{workspace_id}/invitations", response_model=s.InvitationPage, tags=["invitations"])
async def list_invitations(
    workspace_id: str,
    ctx: Ctx,
    token: Bearer,
    state: s.State | None = None,
    cursor: str | None = None,
    limit: int = LIMIT,
) -> Any:
    after = members.parse_cursor(cursor)
    items = await as_caller(
        ctx,
        token,
        lambda actor: invitations.list_invitations(ctx, actor, workspace_id, state=state, limit=limit, after=after),
        quick=True,
    )
    return page(items, limit)


@router.post(
    "/workspaces/{workspace_id}/invitations", status_code=201, response_model=s.InvitationOut, tags=["invitations"]
)
async def create_invitation(workspace_id: str, body: s.InvitationIn, ctx: Ctx, token: Bearer) -> Any:
    invitation, _ = await as_caller(
        ctx,
        token,
        lambda actor: invitations.invite(ctx, actor, workspace_id, body.as_input(), message=body.message),
        quick=True,
    )
    return invitation


@router.get("/invitations/{invitation_id}", response_model=s.InvitationOut, tags=["invitations"])
async def get_invitation(invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: invitations.get(ctx, actor, invitation_id), quick=True)


@router.post("/invitations/{invitation_id}/resend", response_model=s.InvitationOut, tags=["invitations"])
async def resend_invitation(invitation_id: str, body: s.MessageIn, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(
        ctx,
        token,
        lambda actor: invitations.resend(ctx, actor, invitation_id, message=body.message),
        quick=True,
    )


@router.post("/invitations/{invitation_id}/revoke", response_model=s.InvitationOut, tags=["invitations"])
async def revoke_invitation(invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: invitations.revoke(ctx, actor, invitation_id), quick=True)

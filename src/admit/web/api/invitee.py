"""The invitee's endpoints: sign in, accept or decline with a link's token, and, signed in,
the pending invitations of the account."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from admit.services import claims, sessions
from admit.web.api import schemas as s
from admit.web.api.routing import api_router
from admit.web.deps import Bearer, Ctx, as_account, as_optional_account, blocking

router = api_router()


@router.post("/sessions", status_code=201, response_model=s.SessionOut, tags=["sessions"])
async def sign_in(body: s.SignInIn, ctx: Ctx) -> Any:
    token, account = await blocking(
        lambda: sessions.sign_in(ctx, body.identifier, body.password, break_glass=body.break_glass)
    )
    return {"token": token, "account_id": account["id"]}


@router.delete("/sessions/current", status_code=204, tags=["sessions"])
async def sign_out(ctx: Ctx, token: Bearer) -> Response:
    await as_account(ctx, token, lambda _: sessions.sign_out(ctx, str(token)), quick=True)
    return Response(status_code=204)


@router.post("/invitations/accept", response_model=s.Accepted, tags=["invitee"])
async def accept(body: s.AcceptIn, ctx: Ctx, token: Bearer) -> Any:
    """Accept with the link's token: signed in, the account joins; otherwise a password creates
    the account (claim)."""
    return await as_optional_account(
        ctx,
        token,
        lambda account_id: claims.accept_with_token(
            ctx,
            body.token,
            account_id=account_id,
            password=body.password,
            first_name=body.first_name,
            last_name=body.last_name,
        ),
    )


@router.post("/invitations/decline", response_model=s.InvitationOut, tags=["invitee"])
async def decline(body: s.TokenIn, ctx: Ctx) -> Any:
    return await blocking(lambda: claims.decline_with_token(ctx, body.token))


@router.get("/me/invitations", response_model=list[s.MyInvitationOut], tags=["invitee"])
async def my_invitations(ctx: Ctx, token: Bearer) -> Any:
    return await as_account(ctx, token, lambda account_id: claims.pending_for_account(ctx, account_id), quick=True)


@router.post("/me/invitations/{invitation_id}/accept", response_model=s.Accepted, tags=["invitee"])
async def accept_mine(invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_account(
        ctx, token, lambda account_id: claims.accept_for_account(ctx, account_id, invitation_id), quick=True
    )


@router.post("/me/invitations/{invitation_id}/decline", response_model=s.InvitationOut, tags=["invitee"])
async def decline_mine(invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_account(
        ctx, token, lambda account_id: claims.decline_for_account(ctx, account_id, invitation_id), quick=True
    )

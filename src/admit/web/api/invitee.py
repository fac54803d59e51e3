"""The invitee's endpoints: sign in, accept or decline with a link's token, and, signed in,
the pending invitations of the account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from admit.services import claims, sessions
from admit.web.api import schemas as s
from admit.web.deps import Account, Bearer, Ctx, OptionalAccount

router = APIRouter()


@router.post("/sessions", status_code=201, response_model=s.SessionOut, tags=["sessions"])
def sign_in(body: s.SignInIn, ctx: Ctx) -> Any:
    token, account = sessions.sign_in(ctx, body.identifier, body.password)
    return {"token": token, "account_id": account["id"]}


@router.delete("/sessions/current", status_code=204, tags=["sessions"])
def sign_out(ctx: Ctx, token: Bearer, _: Account) -> Response:
    assert token is not None
    sessions.sign_out(ctx, token)
    return Response(status_code=204)


@router.post("/invitations/accept", response_model=s.Accepted, tags=["invitee"])
def accept(body: s.AcceptIn, ctx: Ctx, account_id: OptionalAccount) -> Any:
    """Accept with the link's token: signed in, the account joins; otherwise a password creates
    the account (claim)."""
    return claims.accept_with_token(
        ctx,
        body.token,
        account_id=account_id,
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
    )


@router.post("/invitations/decline", response_model=s.InvitationOut, tags=["invitee"])
def decline(body: s.TokenIn, ctx: Ctx) -> Any:
    return claims.decline_with_token(ctx, body.token)


@router.get("/me/invitations", response_model=list[s.MyInvitationOut], tags=["invitee"])
def my_invitations(ctx: Ctx, account_id: Account) -> Any:
    return claims.pending_for_account(ctx, account_id)


@router.post("/me/invitations/{invitation_id}/accept", response_model=s.Accepted, tags=["invitee"])
def accept_mine(invitation_id: str, ctx: Ctx, account_id: Account) -> Any:
    return claims.accept_for_account(ctx, account_id, invitation_id)


@router.post("/me/invitations/{invitation_id}/decline", response_model=s.InvitationOut, tags=["invitee"])
def decline_mine(invitation_id: str, ctx: Ctx, account_id: Account) -> Any:
    return claims.decline_for_account(ctx, account_id, invitation_id)

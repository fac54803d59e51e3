"""The invitee's endpoints: accept or decline with a link's token, claim (create the account, with
the sign-up flow's proof where the workspace asks for one, and get a session), and, signed in, the
pending invitations of the account."""

from __future__ import annotations

from typing import Any

from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_account, as_optional_account, blocking
from admit.flows.invitation import claims

router = api_router()


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


@router.post("/invitations/claim", status_code=201, response_model=s.Claimed, tags=["invitee"])
async def claim(body: s.ClaimIn, ctx: Ctx) -> Any:
    """Create the invited person's account with a password and sign it in, in one step (the
    welcome page's claim). An invitation that asks for a sign-up needs ``flow``, a sign-up flow of
    this invitation whose code was verified (403 ``email_not_verified``); the flow then ends."""
    result = await blocking(
        lambda: claims.claim_and_sign_in(
            ctx,
            body.token,
            password=body.password,
            first_name=body.first_name,
            last_name=body.last_name,
            sign_up_flow=body.flow,
        )
    )
    return {**result, "session_token": result["session"]}


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

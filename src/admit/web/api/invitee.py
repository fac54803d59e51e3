"""The invitee's endpoints: sign in, accept or decline with a link's token, sign up (verify the
invited address by a code in a server-side flow, then claim and get a session), and, signed in,
the pending invitations of the account."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from admit.services import claims, password_change, sessions, verification
from admit.web.api import schemas as s
from admit.web.api.routing import api_router
from admit.web.deps import Bearer, Ctx, as_account, as_optional_account, blocking

router = api_router()


@router.post("/sessions", status_code=201, response_model=s.SessionOut, tags=["sessions"])
async def sign_in(body: s.SignInIn, ctx: Ctx) -> Any:
    token, account = await blocking(
        lambda: sessions.sign_in(ctx, body.identifier, body.password, break_glass=body.break_glass)
    )
    return {
        "token": token,
        "account_id": account["id"],
        "password_change_required": bool(account.get("must_change_password")),
    }


@router.post("/me/password", response_model=s.SessionOut, tags=["sessions"])
async def change_password(body: s.PasswordChangeIn, ctx: Ctx, token: Bearer) -> Any:
    """Replace the account's password (an initial one-time password must be replaced before
    anything else). Every session of the account ends; the answer carries a new one."""

    def work(account_id: str) -> dict[str, Any]:
        fresh = password_change.change_password(ctx, account_id, body.current_password, body.new_password)
        return {"token": fresh, "account_id": account_id, "password_change_required": False}

    return await as_account(ctx, token, work, initial_password_ok=True)


@router.delete("/sessions/current", status_code=204, tags=["sessions"])
async def sign_out(ctx: Ctx, token: Bearer) -> Response:
    await as_account(ctx, token, lambda _: sessions.sign_out(ctx, str(token)), quick=True, initial_password_ok=True)
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


@router.post("/invitations/sign-up", status_code=201, response_model=s.SignUpOut, tags=["invitee"])
async def sign_up(body: s.TokenIn, ctx: Ctx) -> Any:
    """Start a sign-up for an invitation sent to an address alone: a code is emailed to the
    invited address; the answer is the flow's handle, which the code works with. Sending is
    throttled per address (429). 409 ``not_a_sign_up`` when the invitation asks for none."""
    return {"flow": await blocking(lambda: verification.start(ctx, body.token))}


@router.post("/invitations/sign-up/verify", response_model=s.SignUpVerified, tags=["invitee"])
async def verify_sign_up(body: s.SignUpVerifyIn, ctx: Ctx) -> Any:
    """Check the emailed code in its flow: 400 ``invalid_code`` (attempts left in the message),
    400 ``invalid_token`` when the flow or code is over (start again)."""
    return {"verified": True, "email": await blocking(lambda: verification.check_code(ctx, body.flow, body.code))}


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

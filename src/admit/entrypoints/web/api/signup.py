"""Sign-up through the API: verify the invited address by a code in a server-side flow (the claim
then checks it)."""

from __future__ import annotations

from typing import Any

from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Ctx, blocking
from admit.flows.signup import verification

router = api_router()


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

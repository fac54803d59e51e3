"""Sessions through the API: sign in with an identifier and password, sign out."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_account, blocking
from admit.flows.signin import sessions

router = api_router()


@router.post("/sessions", status_code=201, response_model=s.SessionOut, tags=["sessions"])
async def sign_in(body: s.SignInIn, ctx: Ctx) -> Any:
    token, account = await blocking(
        lambda: sessions.sign_in(ctx, body.identifier, body.password, break_glass=body.break_glass)
    )
    return {
        "token": token,
        "account_id": account.id,
        "password_change_required": account.must_change_password,
    }


@router.delete("/sessions/current", status_code=204, tags=["sessions"])
async def sign_out(ctx: Ctx, token: Bearer) -> Response:
    await as_account(ctx, token, lambda _: sessions.sign_out(ctx, str(token)), quick=True, initial_password_ok=True)
    return Response(status_code=204)

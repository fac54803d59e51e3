"""What a signed-in person changes about their own account through the API."""

from __future__ import annotations

from typing import Any

from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_account
from admit.flows.settings import password_change

router = api_router()


@router.post("/me/password", response_model=s.SessionOut, tags=["sessions"])
async def change_password(body: s.PasswordChangeIn, ctx: Ctx, token: Bearer) -> Any:
    """Replace the account's password (an initial one-time password must be replaced before
    anything else). Every session of the account ends; the answer carries a new one."""

    def work(account_id: str) -> dict[str, Any]:
        fresh = password_change.change_password(ctx, account_id, body.current_password, body.new_password)
        return {"token": fresh, "account_id": account_id, "password_change_required": False}

    return await as_account(ctx, token, work, initial_password_ok=True)

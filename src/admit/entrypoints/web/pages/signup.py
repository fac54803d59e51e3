"""Sign-up from an invitation: the invited address is verified by an emailed code before a password
is chosen. The browser keeps only the handle of the sign-up flow; the server records the verified
address, bound to this invitation, and the claim checks it."""

from __future__ import annotations

from typing import Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import (
    Conflict,
    InvalidCode,
    SecretRejected,
    TooManyAttempts,
)
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import (
    browser_cookies,
    page,
)
from admit.entrypoints.web.routing import Router
from admit.flows.invitation import claims
from admit.flows.signup import verification
from admit.shared.context import Context

router = Router(include_in_schema=False)


def sign_up_progress(ctx: Context, request: Request, info: dict[str, Any]) -> str | None:
    return verification.progress(ctx, info["invitation"].id, browser_cookies(request).flow(request, "signup"))


@router.post("/welcome/sign-up", response_class=HTMLResponse)
async def send_code(request: Request, ctx: Ctx) -> Response:
    """Email a verification code to the invited address (a new code replaces the last one)."""
    token = browser_cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")
    held = browser_cookies(request).flow(request, "signup")
    try:
        handle = await blocking(lambda: verification.start(ctx, token, replaces=held))
    except (SecretRejected, Conflict):
        return RedirectResponse("/welcome", status_code=303)
    except TooManyAttempts as exc:
        info = await blocking(lambda: claims.inspect_token(ctx, token))
        sent = await blocking(lambda: sign_up_progress(ctx, request, info))
        first = "welcome_choose.html" if info["mode"] == "choose" else "welcome_sign_up.html"
        throttled = page(request, "welcome_verify.html" if sent else first, 429, wait=exc.retry_after, **info)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    response = RedirectResponse("/welcome", status_code=303)
    browser_cookies(request).keep_flow(response, "signup", handle)
    return response


@router.post("/welcome/verify", response_class=HTMLResponse)
async def verify(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    token = browser_cookies(request).invitation(request)
    held = browser_cookies(request).flow(request, "signup")
    if token is None or held is None:
        return RedirectResponse("/welcome", status_code=303)
    try:
        info = await blocking(lambda: claims.inspect_token(ctx, token))
    except SecretRejected:
        return RedirectResponse("/welcome", status_code=303)
    try:
        await blocking(lambda: verification.check_code(ctx, held, code))
    except InvalidCode as exc:
        return page(request, "welcome_verify.html", 422, error="invalid", attempts_left=exc.attempts_left, **info)
    except SecretRejected:
        return page(request, "welcome_verify.html", 410, error="expired", **info)
    return RedirectResponse("/welcome", status_code=303)

"""Forgot password pages: ask for a link, then choose a new password (or a first one, which
completes an invitation)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import (
    Conflict,
    PermissionDenied,
    SecretRejected,
    TooManyAttempts,
    ValidationFailed,
    WeakPassword,
)
from admit.domain.passwords import PasswordPolicy
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_cookies, page
from admit.entrypoints.web.routing import Router
from admit.flows.recovery import password_reset
from admit.flows.signin import sessions

router = Router(include_in_schema=False)


@router.get("/forgot-password", response_class=HTMLResponse)
async def forgot_form(request: Request) -> Response:
    return page(request, "forgot_password.html")


@router.post("/forgot-password", response_class=HTMLResponse)
async def forgot(request: Request, ctx: Ctx, identifier: str = Form(""), email: str = Form("")) -> Response:
    """Any identifier the sign-in takes (``email``: the form's field before it took the others)."""
    typed = (identifier or email)[:320]
    try:
        await blocking(lambda: password_reset.request_reset(ctx, typed))
    except ValidationFailed:
        return page(request, "forgot_password.html", 422, identifier=typed, invalid=True)
    except TooManyAttempts as exc:
        return page(request, "forgot_password.html", 429, identifier=typed, wait=exc.retry_after)
    return page(request, "forgot_password_sent.html", identifier=typed)  # the same whether it is known


@router.api_route("/reset/{token}", methods=["GET", "HEAD"])
async def reset_link(token: str, request: Request) -> Response:
    response = RedirectResponse("/reset", status_code=303)
    browser_cookies(request).hold_invitation(response, token, "reset")
    return response


@router.get("/reset", response_class=HTMLResponse)
async def reset_form(request: Request, ctx: Ctx) -> Response:
    token = browser_cookies(request).invitation(request, "reset")
    try:
        facts = await blocking(lambda: password_reset.inspect_reset(ctx, token or ""))
    except SecretRejected:
        return page(request, "reset_dead.html", 410)
    return _form(request, facts)


def _form(request: Request, facts: dict[str, object], status: int = 200, **extra: object) -> HTMLResponse:
    values = {**facts, **extra}
    policy = PasswordPolicy.named(str(values.pop("policy")))
    return page(request, "reset.html", status, policy=policy, rules=policy.rules(), **values)


@router.post("/reset", response_class=HTMLResponse)
async def reset(request: Request, ctx: Ctx, password: str = Form("")) -> Response:
    token = browser_cookies(request).invitation(request, "reset") or ""

    def work() -> tuple[dict[str, object], str]:
        result = password_reset.reset_password(ctx, token, password)
        return result, sessions.start_session(ctx, str(result["account_id"]))

    try:
        result, session = await blocking(work)
    except WeakPassword as exc:
        facts = await blocking(lambda: password_reset.inspect_reset(ctx, token))
        return _form(request, facts, 422, errors=exc.failures)
    except (SecretRejected, Conflict, PermissionDenied):  # PermissionDenied: the workspace requires SSO
        return page(request, "reset_dead.html", 410)
    target = f"/joined/{quote(str(result['workspace_id']))}" if result["workspace_id"] else "/"
    response = RedirectResponse(target, status_code=303)
    browser_cookies(request).start_session(response, session, request)
    browser_cookies(request).drop_invitation(response, "reset")
    return response

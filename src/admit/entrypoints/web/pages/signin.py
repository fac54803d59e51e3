"""Signing in and out with an identifier and password."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import (
    InvalidCredentials,
    PermissionDenied,
    TooManyAttempts,
)
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import (
    browser_cookies,
    page,
    safe_next,
)
from admit.entrypoints.web.routing import Router
from admit.flows.signin import sessions
from admit.flows.signup import self_sign_up

router = Router(include_in_schema=False)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(
    request: Request, ctx: Ctx, next: str = "/", identifier: str = "", workspace: str = ""
) -> Response:
    """``identifier`` pre-fills the form (an app's ``login_hint``); ``workspace``: a workspace's
    sign-in, offering "Create one now!" when the workspace accepts sign-ups."""
    offered = bool(workspace) and await blocking(lambda: self_sign_up.offered(ctx, workspace))
    sign_up = workspace if offered else None
    return page(request, "sign_in.html", next=safe_next(next), identifier=identifier[:320], sign_up_workspace=sign_up)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    ctx: Ctx,
    identifier: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    break_glass: bool = Form(False),
) -> Response:
    try:
        token, account = await blocking(lambda: sessions.sign_in(ctx, identifier, password, break_glass=break_glass))
    except InvalidCredentials as exc:
        return page(request, "sign_in.html", 401, next=safe_next(next), identifier=identifier, error=exc.message)
    except PermissionDenied:  # a member of a workspace requiring SSO, after the right password
        return page(request, "sign_in.html", 403, next=safe_next(next), identifier=identifier, sso_required=True)
    except TooManyAttempts as exc:
        throttled = page(
            request, "sign_in.html", 429, next=safe_next(next), identifier=identifier, wait=exc.retry_after
        )
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    target = safe_next(next)
    if account.must_change_password:  # an initial password from an import: replace it first
        target = f"/change-password?next={quote(target, safe='/')}"
    response = RedirectResponse(target, status_code=303)
    browser_cookies(request).start_session(response, token, request)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, ctx: Ctx, next: str = Form("/sign-in")) -> Response:
    """Sign the active account out; other accounts on this browser stay signed in."""
    tokens = browser_cookies(request).sessions(request)
    if tokens:
        await blocking(lambda: sessions.sign_out(ctx, tokens[0]))
    response = RedirectResponse(safe_next(next), status_code=303)
    browser_cookies(request).keep_sessions(response, tokens[1:])
    return response

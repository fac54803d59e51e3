"""Single sign-on pages. A flow starts with a POST (CSRF-protected) that keeps state, nonce and
PKCE verifier in a signed, short-lived cookie and sends the browser to the provider; the callback
(a GET, by necessity) completes only the flow this browser started, once. A new account's
provider profile then waits on the server, in a flow of the invitation, for the person to
confirm their names; the browser keeps only the flow's handle. A provider that is down gets a
clear page, never a password form instead."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.adapters.identity.oidc import ProviderUnavailable, SsoRejected
from admit.domain.errors import DomainError, NotFound, PermissionDenied, SecretRejected, ValidationFailed
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.admin import signin
from admit.entrypoints.web.pages.common import browser_cookies, into_workspace, page, to_joined, token_binding
from admit.entrypoints.web.routing import Router
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.flows.signup import self_sign_up
from admit.flows.sso import single_sign_on
from admit.shared.context import Context

router = Router(include_in_schema=False)


def _target(request: Request, workspace: str | None) -> dict[str, str] | None:
    """What the flow is for: the invitation this browser holds, or a workspace to sign in to."""
    if workspace:
        return {"workspace": workspace}
    token = browser_cookies(request).invitation(request)
    return {"invitation": token} if token else None


def _failure(request: Request, exc: DomainError, **context: Any) -> HTMLResponse:
    if isinstance(exc, ProviderUnavailable):
        return page(request, "sso_error.html", 503, reason="unavailable", **context)
    if isinstance(exc, SsoRejected | SecretRejected):
        return page(request, "sso_error.html", 400, reason="rejected", **context)
    return page(request, "sso_error.html", 403, reason="not_allowed", code=exc.code, **context)


@router.post("/sso/start", response_class=HTMLResponse)
async def start(request: Request, ctx: Ctx, provider: str = Form(""), workspace: str = Form("")) -> Response:
    target = _target(request, workspace or None)
    if target is None:
        return page(request, "dead_link.html", 404, state="missing")
    try:
        url, flow = await blocking(lambda: single_sign_on.start(ctx, provider, target))
    except (ProviderUnavailable, PermissionDenied, NotFound, SecretRejected) as exc:
        return _failure(request, exc)
    flow["binding"] = token_binding(target["invitation"]) if "invitation" in target else None
    flow["workspace"] = target.get("workspace")
    response = RedirectResponse(url, status_code=303)
    browser_cookies(request).hold(response, "sso", {"flow": flow})
    return response


@router.get("/sso/callback", response_class=HTMLResponse)
async def callback(request: Request, ctx: Ctx) -> Response:
    held = browser_cookies(request).held(request, "sso")
    flow = held.get("flow") if isinstance(held, dict) else None
    params = {k: v for k, v in request.query_params.items() if k in ("state", "code", "error", "iss")}
    response: Response
    if not isinstance(flow, dict):
        response = _failure(request, SsoRejected("no sign-in was started in this browser"))
    elif flow.get("purpose") == single_sign_on.TEST:  # an administrator's test of a provider
        response = await signin.test_result(request, ctx, flow, params)
        browser_cookies(request).drop(response, "sso")
    else:
        response = await _complete(request, ctx, flow, params)
    if response.status_code >= 400:
        browser_cookies(request).drop(response, "sso")  # the flow is over either way
    return response


async def _complete(request: Request, ctx: Ctx, flow: dict[str, Any], params: dict[str, str]) -> Response:
    target = _target(request, flow.get("workspace"))
    if target is None or ("invitation" in target and flow.get("binding") != token_binding(target["invitation"])):
        return _failure(request, SsoRejected("this sign-in belongs to another invitation"))
    try:
        who = await blocking(lambda: single_sign_on.complete(ctx, flow, target, params))
        if "workspace" in target:
            result = await blocking(lambda: single_sign_on.enter_workspace(ctx, target["workspace"], who))
            return await _signed_in(request, ctx, result)
        if await blocking(lambda: single_sign_on.existing_account(ctx, who)) is not None:
            result = await blocking(lambda: single_sign_on.join_invitation(ctx, target["invitation"], who))
            return await _signed_in(request, ctx, result, joining=True)
    except DomainError as exc:
        return _failure(request, exc)
    try:
        handle = await blocking(lambda: single_sign_on.hold_profile(ctx, target["invitation"], who))
    except DomainError as exc:
        return _failure(request, exc)
    response = RedirectResponse("/welcome/sso", status_code=303)
    browser_cookies(request).drop(response, "sso")
    browser_cookies(request).keep_flow(response, "sso_profile", handle)
    return response


async def _signed_in(request: Request, ctx: Ctx, result: dict[str, Any], *, joining: bool = False) -> Response:
    """``joining`` from a welcome page (its forms allow the app's origin): into the app when the
    workspace has one."""
    session = await blocking(lambda: sessions.start_session(ctx, result["account_id"]))
    if joining:
        response = await into_workspace(request, ctx, result, session)
    else:
        response = to_joined(request, result["workspace_id"], session)
    browser_cookies(request).drop(response, "sso")
    browser_cookies(request).drop(response, "sso_profile")
    return response


def _identity(ctx: Context, request: Request, token: str) -> dict[str, Any] | None:
    """The provider profile awaiting confirmation in this browser's flow, for this invitation."""
    try:
        return single_sign_on.held_profile(ctx, token, browser_cookies(request).flow(request, "sso_profile"))
    except SecretRejected:
        return None


@router.get("/welcome/sso", response_class=HTMLResponse)
async def confirm_form(request: Request, ctx: Ctx) -> Response:
    """Confirm first and last name, pre-filled from the provider's profile."""
    token = browser_cookies(request).invitation(request)
    who = await blocking(lambda: _identity(ctx, request, token)) if token else None
    if token is None or who is None:
        return RedirectResponse("/welcome", status_code=303)
    try:
        info = await blocking(lambda: claims.inspect_token(ctx, token))
    except SecretRejected:
        return RedirectResponse("/welcome", status_code=303)
    return page(request, "sso_confirm.html", who=who, first_name=who["first_name"], last_name=who["last_name"], **info)


@router.post("/welcome/sso", response_class=HTMLResponse)
async def confirm(request: Request, ctx: Ctx, first_name: str = Form(""), last_name: str = Form("")) -> Response:
    token = browser_cookies(request).invitation(request)
    who = await blocking(lambda: _identity(ctx, request, token)) if token else None
    if token is None or who is None:
        return RedirectResponse("/welcome", status_code=303)
    first, last = first_name.strip(), last_name.strip()
    held = browser_cookies(request).flow(request, "sso_profile")
    try:
        result = await blocking(lambda: single_sign_on.join_with_profile(ctx, token, held, first, last))
    except ValidationFailed as exc:
        info = await blocking(lambda: claims.inspect_token(ctx, token))
        return page(request, "sso_confirm.html", 422, who=who, first_name=first, last_name=last, error=exc.code, **info)
    except DomainError as exc:
        return _failure(request, exc)
    return await _signed_in(request, ctx, result, joining=True)


@router.get("/sso/w/{workspace_id}", response_class=HTMLResponse)
async def workspace_sign_in(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """A workspace's own sign-in page: its organization's providers (members, and just-in-time
    members where the workspace allows them)."""
    try:
        info = await blocking(lambda: single_sign_on.workspace_sign_in(ctx, workspace_id))
    except NotFound:
        return page(request, "dead_link.html", 404, state="invalid")
    sign_up = await blocking(lambda: self_sign_up.offered(ctx, workspace_id))
    return page(request, "sso_workspace.html", sign_up=sign_up, **info)


def workspace_link(workspace_id: str) -> str:
    return f"/sso/w/{quote(workspace_id)}"

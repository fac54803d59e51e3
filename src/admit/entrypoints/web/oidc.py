"""Admit as an OpenID provider, over HTTP: discovery, JWKS, the authorization endpoint (a page:
it reads the browser's session), the workspace choice (a page form), and the token, revocation,
introspection and userinfo endpoints (called by apps: outside the form guard, authenticated by
client credentials or the bearer access token). Authlib's server does the protocol (:mod:`admit.oidc_provider.server`);
this module turns Starlette requests into its requests and its answers into responses.

The endpoints on every code flow's path (authorization, token, userinfo) are plain Starlette
routes (``Router.page``): FastAPI's dependency solving and answer handling were a tenth of a
flow's CPU, for nothing they use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from authlib.common.urls import add_params_to_uri  # type: ignore[import-untyped]
from authlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.errors import AccessDeniedError  # type: ignore[import-untyped]
from authlib.oidc.core.errors import AccountSelectionRequiredError, InteractionRequiredError, LoginRequiredError  # type: ignore[import-untyped]
from fastapi import Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from admit.domain.errors import InvalidCredentials, PermissionDenied
from admit.entrypoints.web.deps import Ctx, bearer_of, blocking, context_of, run_work
from admit.entrypoints.web.pages import oidc_account
from admit.entrypoints.web.pages.common import browser_cookies, page
from admit.entrypoints.web.pages.settings import change_first
from admit.entrypoints.web.routing import Router
from admit.flows.signin.sessions import LiveSession
from admit.oidc_provider import authorize, discovery, keys, userinfo
from admit.oidc_provider.discovery import AUTHORIZE_PATH, INTROSPECT_PATH, REVOKE_PATH, TOKEN_PATH
from admit.oidc_provider.models import Answer, Grantee, HttpRequest
from admit.oidc_provider.server import ProviderServer, one_request
from admit.shared.context import Context

router = Router(include_in_schema=False)
OPEN = {"access-control-allow-origin": "*"}  # read by apps' scripts on other origins
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def _server(request: Request) -> ProviderServer:
    server = getattr(request.app.state, "oidc_server", None)
    if server is None:
        server = request.app.state.oidc_server = ProviderServer(request.app.state.context)
    return server


@router.get(discovery.DISCOVERY_PATH)
async def openid_configuration(ctx: Ctx) -> Response:
    return JSONResponse(discovery.metadata(ctx), headers={**OPEN, "cache-control": "max-age=300"})


@router.get(discovery.JWKS_PATH)
async def jwks(ctx: Ctx) -> Response:
    published = await run_work(ctx, lambda: keys.jwks(ctx))
    return JSONResponse(published, headers={**OPEN, "cache-control": "max-age=300"})


def _json(answer: Answer, headers: dict[str, str]) -> Response:
    """Authlib's answer, its headers merged with ours (one of each, whatever their case)."""
    merged = {name.lower(): value for name, value in answer.headers} | headers
    return JSONResponse(answer.body, answer.status, headers=merged)


async def _posted(request: Request, ctx: Context, path: str) -> HttpRequest:
    form = await request.form()
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    return HttpRequest("POST", ctx.link(path), fields, request.headers.get("authorization"))


@router.page(TOKEN_PATH, methods=["POST"])
async def token(request: Request) -> Response:
    ctx = context_of(request)
    given = await _posted(request, ctx, TOKEN_PATH)
    # An app's signed assertion may need its keys read from its jwks_uri: network, so a thread.
    quick = all(name != "client_assertion" for name, _ in given.fields)
    answer = await run_work(ctx, lambda: _server(request).create_token_response(given), quick=quick)
    return _json(answer, {**NO_STORE, **OPEN})


@router.post(REVOKE_PATH)
async def revocation(request: Request, ctx: Ctx) -> Response:
    """RFC 7009: 200 for a revoked token and for one the app does not hold (unknown, expired)."""
    given = await _posted(request, ctx, REVOKE_PATH)
    answer = await blocking(lambda: _server(request).create_endpoint_response("revocation", given))
    return _json(answer, NO_STORE)


@router.post(INTROSPECT_PATH)
async def introspection(request: Request, ctx: Ctx) -> Response:
    """RFC 7662: ``{"active": true, ...claims}`` for a live token of the calling app, otherwise
    ``{"active": false}``."""
    given = await _posted(request, ctx, INTROSPECT_PATH)
    answer = await blocking(lambda: _server(request).create_endpoint_response("introspection", given))
    return _json(answer, NO_STORE)


@router.page(discovery.USERINFO_PATH, methods=["GET", "POST"])
async def user_info(request: Request) -> Response:
    ctx, token = context_of(request), bearer_of(request)
    refused = {"www-authenticate": 'Bearer error="invalid_token"', **OPEN}
    if token is None:
        return JSONResponse({"error": "invalid_token"}, 401, headers={"www-authenticate": "Bearer", **OPEN})
    try:
        claims = await run_work(ctx, lambda: userinfo.userinfo(ctx, token), quick=True)
    except InvalidCredentials as exc:
        return JSONResponse({"error": "invalid_token", "error_description": exc.message}, 401, headers=refused)
    return JSONResponse(claims, headers={**NO_STORE, **OPEN})


@router.options(discovery.USERINFO_PATH)
async def user_info_preflight() -> Response:
    """Browsers ask before a script on another origin sends the bearer token."""
    allowed = {"access-control-allow-methods": "GET, POST", "access-control-allow-headers": "authorization"}
    return Response(status_code=204, headers={**OPEN, **allowed, "access-control-max-age": "600"})


@router.page(AUTHORIZE_PATH)
async def authorization(request: Request) -> Response:
    ctx = context_of(request)
    given = HttpRequest("GET", ctx.link(AUTHORIZE_PATH), list(request.query_params.multi_items()))
    session = browser_cookies(request).session(request)
    return await run_work(ctx, lambda: _authorize(request, ctx, _server(request), given, session), quick=True)


@router.post(f"{AUTHORIZE_PATH}/workspace")
async def choose_workspace(query: str = Form(""), workspace: str = Form("")) -> Response:
    """The workspace picked on the choice page: back to the authorization endpoint with it."""
    fields = [(name, value) for name, value in parse_qsl(query) if name != "workspace"]
    return RedirectResponse(f"{AUTHORIZE_PATH}?{urlencode([*fields, ('workspace', workspace)])}", status_code=303)


def _authorize(
    request: Request, ctx: Context, server: ProviderServer, given: HttpRequest, session: str | None
) -> Response:
    """Authlib validates the request (an unregistered client or redirect URI: an error page,
    never a redirect); then the person signs in if needed, passes Admit's gates, gets a workspace
    and the app a code."""
    with one_request():
        return _authorized(request, ctx, server, given, session)


def _authorized(
    request: Request, ctx: Context, server: ProviderServer, given: HttpRequest, session: str | None
) -> Response:
    fields = dict(given.fields)
    browser = authorize.browser_session(ctx, session) if session else None
    try:
        grant = server.get_consent_grant(given, end_user=browser.account_id if browser else None)
        if browser is None or grant.prompt == "login" or _too_old(ctx, browser.started, fields):
            if fields.get("prompt") == "none":
                raise LoginRequiredError(redirect_uri=fields["redirect_uri"])
            return _to_sign_in(fields)
        if grant.prompt == "select_account":
            return oidc_account.choose(request, ctx, grant.request.client.name, fields)
        found = _workspace_or_detour(request, ctx, grant.request.client, browser, fields)
        if isinstance(found, Response):
            return found
        grantee = Grantee(browser.account_id, found, browser.started, session_id=browser.id)
        answer = server.create_authorization_response(given, grant_user=grantee, grant=grant)
    except OAuth2Error as error:
        return _refused(request, ctx, error, fields.get("state"))
    if answer.location is None:
        return page(request, "oidc_error.html", 400, error="server_error", description="")
    return RedirectResponse(answer.location, status_code=302)


def _too_old(ctx: Context, started: Any, fields: dict[str, str]) -> bool:
    max_age = fields.get("max_age")
    if max_age is None or not max_age.isdigit():
        return False
    return bool(ctx.clock.now() - started > timedelta(seconds=int(max_age)))


def _again(fields: dict[str, str], **changes: str) -> str:
    """This authorization request, as a path to come back to (without ``prompt``: the person has
    just signed in again)."""
    kept = [(name, value) for name, value in fields.items() if name != "prompt" and name not in changes]
    return f"{AUTHORIZE_PATH}?{urlencode([*kept, *changes.items()])}"


def _to_sign_in(fields: dict[str, str]) -> Response:
    target = f"/sign-in?next={quote(_again(fields), safe='')}"
    if fields.get("login_hint"):
        target += f"&identifier={quote(fields['login_hint'][:320], safe='')}"
    return RedirectResponse(target, status_code=303)


def _workspace_or_detour(
    request: Request, ctx: Context, client: Any, browser: LiveSession, fields: dict[str, str]
) -> str | Response:
    """The workspace for the code, or a page of Admit's first (raises the OIDC error instead
    under ``prompt=none``, or ``access_denied`` for a person who is not an active member)."""
    quiet = fields.get("prompt") == "none"
    redirect_uri = fields["redirect_uri"]
    if authorize.gate(ctx, browser, None) is authorize.Gate.PASSWORD:
        if quiet:
            raise InteractionRequiredError(redirect_uri=redirect_uri)
        return change_first(_again(fields))
    try:
        found = authorize.workspace_for(ctx, client, browser.account_id, fields.get("workspace") or None)
    except PermissionDenied:
        raise AccessDeniedError(redirect_uri=redirect_uri) from None
    if isinstance(found, list):
        if quiet:
            raise AccountSelectionRequiredError(redirect_uri=redirect_uri)
        query = urlencode([(k, v) for k, v in fields.items() if k not in ("workspace", "prompt")])
        after = f"{AUTHORIZE_PATH}?{query}"  # where the choice leads: its form may end on the app
        return page(request, "oidc_workspace.html", workspaces=found, query=query, app=client.name, next=after)
    if authorize.gate(ctx, browser, found) is authorize.Gate.TERMS:
        if quiet:
            raise InteractionRequiredError(redirect_uri=redirect_uri)
        return RedirectResponse(f"/terms/{quote(found)}?next={quote(_again(fields), safe='')}", status_code=303)
    return found


def _refused(request: Request, ctx: Context, error: OAuth2Error, state: str | None) -> Response:
    """Back to the app with the error, ``state`` and ``iss`` — only to a redirect URI Authlib
    matched against the client's; otherwise an error page."""
    if not error.redirect_uri:
        return page(request, "oidc_error.html", 400, error=error.error, description=error.description or "")
    params = [("error", error.error)]
    if error.description:
        params.append(("error_description", error.description))
    if state:
        params.append(("state", state))
    params.append(("iss", ctx.base_url))
    return RedirectResponse(add_params_to_uri(error.redirect_uri, params), status_code=302)

"""Apps (OpenID clients) in the workspace admin console: the organization's apps serving this
workspace (bound to it, or to every workspace), registering one bound to this workspace (its
secret shown once, on the page that answers the form; or, for a confidential app that signs its
token requests, ``private_key_jwt``, its public keys: the address it publishes them at or the key
set pasted as JSON) and removing one after a confirmation page.
Who may do what is decided by :mod:`admit.oidc_provider.clients`: an app for every workspace, or
one bound to a workspace the administrator does not manage, is listed without "Remove"."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import DomainError, ValidationFailed
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router
from admit.oidc_provider import assertions, clients
from admit.oidc_provider.clients import SCOPES, ClientInput
from admit.shared.context import Context

router = Router(include_in_schema=False)
TEXT = ("name", "initiate_login_uri", "backchannel_logout_uri", "jwks_uri")
LISTS = ("redirect_uris", "post_logout_redirect_uris")
KEYS = ("jwks", "jwks_uri")
MAX_JWKS_TEXT = 64 * 1024  # a pasted key set (a few RSA keys are a few kilobytes)
OPTIONAL_SCOPES = tuple(scope for scope in SCOPES if scope != "openid")
# The form field a use case's complaint belongs next to.
FIELD_OF = {
    "name": "name",
    "redirect_uris": "redirect_uris",
    "post_logout_redirect_uris": "post_logout_redirect_uris",
    "backchannel_logout_uri": "backchannel_logout_uri",
    "initiate_login_uri": "initiate_login_uri",
    "client_type": "client_type",
    "token_endpoint_auth_method": "auth",
    "jwks": "jwks",
    "jwks_uri": "jwks_uri",
    "grant_types": "refresh_tokens",
    "allowed_scopes": "scopes",
}


def apps_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/apps"


def _organization(admin: Admin) -> str:
    return str(admin.workspace["organization_id"])


@router.get("/admin/{workspace_id}/apps", response_class=HTMLResponse)
async def apps(workspace_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    try:
        rows = await blocking(
            lambda: clients.list_clients(ctx, admin.actor, organization_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    notice = done if done in ("removed", "saved") else None
    return admin.page(request, "admin_apps.html", section="apps", apps=rows, notice=notice)


def _app_form(admin: Admin, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("app", None)
    return admin.page(request, "admin_app_new.html", status, section="apps", optional_scopes=OPTIONAL_SCOPES, **context)


@router.get("/admin/{workspace_id}/apps/new", response_class=HTMLResponse)
async def new_app(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    values = {"client_type": "confidential", "auth": "secret", "refresh_tokens": "", "scopes": list(OPTIONAL_SCOPES)}
    return _app_form(admin, request, values=values, errors={})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _key_set(text: str) -> dict[str, Any] | None:
    """The pasted key set: None when empty; ``ValidationFailed`` naming ``jwks`` when it is not
    JSON or too long (what it holds is the use case's to check)."""
    if not text.strip():
        return None
    if len(text) > MAX_JWKS_TEXT:
        raise ValidationFailed(f"the key set is longer than {MAX_JWKS_TEXT // 1024} KB", field="jwks")
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(f"the key set is not JSON: {exc}", field="jwks") from None
    return parsed if isinstance(parsed, dict) else {"keys": None}


def client_input(values: dict[str, Any], workspace_id: str) -> ClientInput:
    """What the form asks for, bound to this workspace only; ``ValidationFailed`` for a pasted
    key set that is not JSON."""
    confidential = values["client_type"] == "confidential"
    refresh = confidential and values["refresh_tokens"] == "yes"
    keys = confidential and values.get("auth") == "keys"
    return ClientInput(
        name=values["name"],
        redirect_uris=_lines(values["redirect_uris"]),
        client_type=values["client_type"],
        token_endpoint_auth_method=assertions.METHOD if keys else None,
        workspace_ids=[workspace_id],
        post_logout_redirect_uris=_lines(values["post_logout_redirect_uris"]),
        backchannel_logout_uri=values["backchannel_logout_uri"].strip() or None,
        initiate_login_uri=values["initiate_login_uri"].strip() or None,
        allowed_scopes=["openid", *values["scopes"]],
        grant_types=["authorization_code", "refresh_token"] if refresh else ["authorization_code"],
        jwks=_key_set(values.get("jwks", "")) if keys else None,
        jwks_uri=values.get("jwks_uri", "").strip() or None if keys else None,
    )


async def _form_values(request: Request) -> dict[str, Any]:
    async with request.form() as form:
        values: dict[str, Any] = {name: str(form.get(name) or "")[:500] for name in TEXT}
        values |= {name: str(form.get(name) or "")[: 20 * 501] for name in LISTS}
        values["jwks"] = str(form.get("jwks") or "")[: MAX_JWKS_TEXT + 1]  # one more: too long is said, not cut
        values["client_type"] = "public" if form.get("client_type") == "public" else "confidential"
        values["auth"] = "keys" if form.get("auth") == "keys" else "secret"
        values["refresh_tokens"] = "yes" if form.get("refresh_tokens") == "yes" else ""
        values["scopes"] = [scope for scope in OPTIONAL_SCOPES if form.get(f"scope_{scope}") == "yes"]
    return values


@router.post("/admin/{workspace_id}/apps/new", response_class=HTMLResponse)
async def register_app(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Register an app bound to this workspace; the answer shows its secret, this once."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    values = await _form_values(request)
    organization_id = _organization(admin)
    try:
        given = client_input(values, admin.workspace_id)
        app, secret = await blocking(
            lambda: clients.create(ctx, admin.actor, organization_id, given, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        field = FIELD_OF.get(exc.field or "", "form")
        return _app_form(admin, request, status_of(exc), values=values, errors={field: exc.message})
    page = admin.page(
        request, "admin_app_created.html", section="apps", app=app, secret=secret, discovery=_discovery(ctx)
    )
    page.headers["cache-control"] = "no-store"
    return page


def _discovery(ctx: Context) -> str:
    return ctx.link("/.well-known/openid-configuration")


async def _app_of(ctx: Context, admin: Admin, client_id: str) -> dict[str, Any]:
    organization_id = _organization(admin)
    return await blocking(
        lambda: clients.get(ctx, admin.actor, organization_id, client_id, workspace_id=admin.workspace_id)
    )


async def _question(
    request: Request, ctx: Context, workspace_id: str, client_id: str, template: str, **context: Any
) -> Response:
    """A page that asks before something final is done to an app (a GET: nothing changes)."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        app = await _app_of(ctx, admin, client_id)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return admin.page(request, template, section="apps", app=app, **context)


@router.get("/admin/{workspace_id}/apps/{client_id}/remove", response_class=HTMLResponse)
async def confirm_remove(workspace_id: str, client_id: str, request: Request, ctx: Ctx) -> Response:
    """Removing an app is final: a page asks first."""
    return await _question(request, ctx, workspace_id, client_id, "admin_app_remove.html")


@router.post("/admin/{workspace_id}/apps/{client_id}/remove", response_class=HTMLResponse)
async def remove_app(workspace_id: str, client_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    try:
        await blocking(
            lambda: clients.remove(ctx, admin.actor, organization_id, client_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return RedirectResponse(f"{apps_path(admin.workspace_id)}?done=removed", status_code=303)


def _values_of(app: dict[str, Any]) -> dict[str, Any]:
    """The form's values for a registered app."""
    return {
        "name": app["name"],
        "redirect_uris": "\n".join(app["redirect_uris"]),
        "post_logout_redirect_uris": "\n".join(app["post_logout_redirect_uris"]),
        "backchannel_logout_uri": app["backchannel_logout_uri"] or "",
        "initiate_login_uri": app["initiate_login_uri"] or "",
        "client_type": app["client_type"],
        "auth": "keys" if app["token_endpoint_auth_method"] == assertions.METHOD else "secret",
        "jwks_uri": app["jwks_uri"] or "",
        "jwks": json.dumps(app["jwks"], indent=2) if app["jwks"] else "",
        "refresh_tokens": "yes" if "refresh_token" in app["grant_types"] else "",
        "scopes": [scope for scope in OPTIONAL_SCOPES if scope in app["allowed_scopes"]],
    }


def _changes(values: dict[str, Any], app: dict[str, Any]) -> dict[str, Any]:
    """What the edit form sets (the type, the way the app proves itself and the workspaces are
    not on it; an app with keys has its keys on it)."""
    keys = app["token_endpoint_auth_method"] == assertions.METHOD
    given = client_input({**values, "client_type": app["client_type"], "auth": "keys" if keys else "secret"}, "")
    names = ("name", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri", "initiate_login_uri")
    names += ("allowed_scopes", "grant_types", *(KEYS if keys else ()))
    return {name: getattr(given, name) for name in names}


@router.get("/admin/{workspace_id}/apps/{client_id}/edit", response_class=HTMLResponse)
async def edit_app(workspace_id: str, client_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        app = await _app_of(ctx, admin, client_id)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return _app_form(admin, request, app=app, values=_values_of(app), errors={})


@router.post("/admin/{workspace_id}/apps/{client_id}/edit", response_class=HTMLResponse)
async def save_app(workspace_id: str, client_id: str, request: Request, ctx: Ctx) -> Response:
    """Save the app's registration through the same use case as the API's PATCH."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    values = await _form_values(request)
    organization_id = _organization(admin)
    try:
        app = await _app_of(ctx, admin, client_id)
        changes = _changes(values, app)
        await blocking(
            lambda: clients.update(
                ctx, admin.actor, organization_id, client_id, changes, workspace_id=admin.workspace_id
            )
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        field = FIELD_OF.get(exc.field or "", "form")
        values["client_type"] = app["client_type"]
        values["auth"] = _values_of(app)["auth"]
        return _app_form(admin, request, status_of(exc), app=app, values=values, errors={field: exc.message})
    return RedirectResponse(f"{apps_path(admin.workspace_id)}?done=saved", status_code=303)


@router.get("/admin/{workspace_id}/apps/{client_id}/secret", response_class=HTMLResponse)
async def confirm_new_secret(workspace_id: str, client_id: str, request: Request, ctx: Ctx) -> Response:
    """A new secret ends the current one: a page asks first."""
    return await _question(request, ctx, workspace_id, client_id, "admin_app_secret.html", secret=None)


@router.post("/admin/{workspace_id}/apps/{client_id}/secret", response_class=HTMLResponse)
async def new_secret(workspace_id: str, client_id: str, request: Request, ctx: Ctx) -> Response:
    """The new secret, shown on the page that answers, this once."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    try:
        app = await _app_of(ctx, admin, client_id)
        secret = await blocking(
            lambda: clients.rotate_secret(ctx, admin.actor, organization_id, client_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:  # a public app or one with keys: the page says it has no secret
        return admin.refusal(request, exc) or admin.page(
            request, "admin_app_secret.html", status_of(exc), section="apps", app=app, secret=None
        )
    page = admin.page(request, "admin_app_secret.html", section="apps", app=app, secret=secret)
    page.headers["cache-control"] = "no-store"
    return page

"""Sign-in in the workspace admin console: the organization's own identity providers (OpenID
Connect), the redirect URI to register at them, adding one (its discovery document fetched live
by :func:`admit.admin.identity_providers.create`), removing one after a confirmation page, and
"Test connection": a real sign-in at the provider whose callback shows the claims received and
how they map, creating nothing and leaving the administrator's own session as it was.

Who may do what is decided by :mod:`admit.admin.identity_providers` and
:mod:`admit.flows.sso.single_sign_on` (manage settings, enterprise plan to add, the test's flow
bound to the account and browser session that started it). The workspace's login methods, "SSO
required" and just-in-time members stay on the settings page; this page links there."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.adapters.identity.oidc import ProviderUnavailable, SsoRejected
from admit.admin import identity_providers
from admit.admin.identity_providers import CLAIM_FIELDS, DEFAULT_CLAIMS, DEFAULT_SCOPES, ProviderInput
from admit.domain.errors import Conflict, DomainError, SecretRejected
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.pages.common import browser_cookies, token_binding
from admit.entrypoints.web.routing import Router
from admit.entrypoints.web.security import csp_sending_forms_to, origin
from admit.flows.sso import single_sign_on
from admit.flows.sso.single_sign_on import CALLBACK

router = Router(include_in_schema=False)
TEXT = ("name", "issuer", "client_id", "client_secret", "scopes")
FIELD_OF = {name: name for name in (*TEXT, "claims")} | {"plan": "form"}
CLAIM_INPUTS = tuple(f"claim_{name}" for name in CLAIM_FIELDS)


def sign_in_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/sign-in"


def _organization(admin: Admin) -> str:
    return str(admin.workspace["organization_id"])


def _session(request: Request) -> str:
    """The browser's session, as a digest: a test belongs to the session that started it."""
    token = browser_cookies(request).session(request)
    return token_binding(token) if token else ""


def _usage(admin: Admin) -> dict[str, list[str]]:
    """For each provider, this workspace's login methods that use it."""
    methods = admin.workspace.get("login_methods") or []
    used: dict[str, list[str]] = {}
    for method in methods:
        kind, _, provider_id = str(method).partition(":")
        if kind == "sso" and provider_id:
            used.setdefault(provider_id, []).append(str(method))
    return used


async def _page(admin: Admin, request: Request, ctx: Ctx, status: int = 200, **context: Any) -> HTMLResponse | Response:
    organization_id = _organization(admin)
    try:
        rows = await blocking(
            lambda: identity_providers.list_providers(
                ctx, admin.actor, organization_id, workspace_id=admin.workspace_id
            )
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    context.setdefault("values", {"scopes": " ".join(DEFAULT_SCOPES)})
    context.setdefault("errors", {})
    response = admin.page(
        request,
        "admin_sign_in.html",
        status,
        section="sign-in",
        providers=rows,
        used=_usage(admin),
        redirect_uri=ctx.link(CALLBACK),
        default_claims=DEFAULT_CLAIMS,
        claim_fields=CLAIM_FIELDS,
        sso_required=bool(admin.workspace.get("sso_required")),
        **context,
    )
    if rows:  # "Test connection" is a form whose answer leads to the provider
        response.headers["content-security-policy"] = csp_sending_forms_to([origin(p.issuer) for p in rows])
    return response


@router.get("/admin/{workspace_id}/sign-in", response_class=HTMLResponse)
async def sign_in(workspace_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return await _page(admin, request, ctx, notice=done if done in ("added", "removed") else None)


async def _form_values(request: Request) -> dict[str, str]:
    async with request.form() as form:
        values = {name: str(form.get(name) or "")[:2001] for name in (*TEXT, *CLAIM_INPUTS)}
    return values


def provider_input(values: dict[str, str]) -> ProviderInput:
    """What the form says: scopes separated by spaces, an empty claim name for the default."""
    claims = {name: values[f"claim_{name}"].strip() for name in CLAIM_FIELDS if values[f"claim_{name}"].strip()}
    return ProviderInput(
        name=values["name"],
        issuer=values["issuer"].strip(),
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        scopes=values["scopes"].split(),
        claims=claims,
    )


@router.post("/admin/{workspace_id}/sign-in/providers", response_class=HTMLResponse)
async def add_provider(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Add a provider to the organization; its discovery document is checked now."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    values = await _form_values(request)
    given = provider_input(values)
    organization_id = _organization(admin)
    try:
        await blocking(
            lambda: identity_providers.create(ctx, admin.actor, organization_id, given, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        field = FIELD_OF.get(exc.field or "", "form")
        kept = {**values, "client_secret": ""}  # a secret is never sent back to the browser
        return await _page(admin, request, ctx, status_of(exc), values=kept, errors={field: exc.message})
    return RedirectResponse(f"{sign_in_path(admin.workspace_id)}?done=added", status_code=303)


@router.post("/admin/{workspace_id}/sign-in/providers/{provider_id}/test", response_class=HTMLResponse)
async def test_provider(workspace_id: str, provider_id: str, request: Request, ctx: Ctx) -> Response:
    """Start a real sign-in at the provider; its callback shows the result in the console."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    session = _session(request)
    try:
        url, flow = await blocking(
            lambda: single_sign_on.start_test(ctx, admin.actor, admin.workspace_id, provider_id, session)
        )
    except ProviderUnavailable as exc:
        return _result(admin, request, 503, reason="unavailable", detail=exc.message)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    flow["console"] = admin.workspace_id
    response = RedirectResponse(url, status_code=303)
    browser_cookies(request).hold(response, "sso", {"flow": flow})
    return response


def _result(admin: Admin, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    page = admin.page(request, "admin_sign_in_test.html", status, section="sign-in", **context)
    page.headers["cache-control"] = "no-store"
    return page


async def test_result(request: Request, ctx: Ctx, flow: dict[str, Any], params: dict[str, str]) -> Response:
    """The provider's answer to a test (at the SSO callback): the claims and their mapping, or
    what went wrong. Only for the administrator and browser session that started the test."""
    admin = await admin_for(request, ctx, str(flow.get("console") or ""))
    if isinstance(admin, Response):
        return admin
    session = _session(request)
    try:
        found = await blocking(
            lambda: single_sign_on.complete_test(ctx, admin.actor, admin.workspace_id, flow, params, session)
        )
    except ProviderUnavailable as exc:
        return _result(admin, request, 503, reason="unavailable", detail=exc.message)
    except (SsoRejected, SecretRejected) as exc:
        return _result(admin, request, 400, reason="rejected", detail=exc.message)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    provider = await _provider_of(ctx, admin, found["provider"])
    claims = [(name, _shown(value)) for name, value in sorted(found["claims"].items())]
    return _result(admin, request, provider=provider, claims=claims, identity=found["identity"])


def _shown(value: Any) -> str:
    """A claim's value as text (JSON for lists and objects), cut at 500 characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 500 else f"{text[:500]}…"


async def _provider_of(ctx: Ctx, admin: Admin, provider_id: str) -> identity_providers.ProviderView:
    return await blocking(
        lambda: identity_providers.get(ctx, admin.actor, provider_id, workspace_id=admin.workspace_id)
    )


@router.get("/admin/{workspace_id}/sign-in/providers/{provider_id}/remove", response_class=HTMLResponse)
async def confirm_remove(workspace_id: str, provider_id: str, request: Request, ctx: Ctx) -> Response:
    """Removing a provider is final: a page asks first; nothing changes here."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        provider = await _provider_of(ctx, admin, provider_id)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return admin.page(request, "admin_sign_in_remove.html", section="sign-in", provider=provider)


@router.post("/admin/{workspace_id}/sign-in/providers/{provider_id}/remove", response_class=HTMLResponse)
async def remove_provider(workspace_id: str, provider_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        await blocking(
            lambda: identity_providers.remove(ctx, admin.actor, provider_id, workspace_id=admin.workspace_id)
        )
    except Conflict as exc:
        provider = await _provider_of(ctx, admin, provider_id)
        page = "admin_sign_in_remove.html"
        return admin.page(request, page, 409, section="sign-in", provider=provider, refused=exc.message)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return RedirectResponse(f"{sign_in_path(admin.workspace_id)}?done=removed", status_code=303)

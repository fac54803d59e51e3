"""SCIM provisioning in the workspace admin console (reached from Settings): the SCIM tokens of
this workspace and those for every workspace of the organization, creating one for this workspace
(its secret shown once, on the page that answers the form), revoking one after a confirmation
page, and each token's request log, newest first, a page at a time. Who may do what is decided by
:mod:`admit.admin.scim_tokens` and :mod:`admit.admin.scim_log`: a token for every workspace is
listed without "Revoke" and without its log (the organization manages it)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import scim_log, scim_tokens
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
ROLES = scim_tokens.ROLES


def scim_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/scim"


def _change_text(change: Any) -> str:
    """What changed, as compact JSON (escaped where it is shown, like everything else)."""
    return "" if change is None else json.dumps(change, ensure_ascii=False, separators=(", ", ": "))[:2000]


def _organization(admin: Admin) -> str:
    return str(admin.workspace["organization_id"])


async def _listing(request: Request, ctx: Context, admin: Admin, status: int = 200, **context: Any) -> Response:
    organization_id = _organization(admin)
    try:
        rows = await blocking(
            lambda: scim_tokens.list_tokens(ctx, admin.actor, organization_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    context.setdefault("values", {"name": "", "role": "member"})
    context.setdefault("errors", {})
    return admin.page(
        request,
        "admin_scim.html",
        status,
        section="settings",
        tokens=rows,
        roles=ROLES,
        scim_url=ctx.link("/scim/v2"),
        **context,
    )


@router.get("/admin/{workspace_id}/scim", response_class=HTMLResponse)
async def scim_tokens_page(workspace_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return await _listing(request, ctx, admin, notice="revoked" if done == "revoked" else None)


@router.post("/admin/{workspace_id}/scim", response_class=HTMLResponse)
async def create_scim_token(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Create a token for this workspace; the answer shows it, this once."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        values = {"name": str(form.get("name") or "")[:500], "role": str(form.get("role") or "")[:20]}
    organization_id = _organization(admin)
    try:
        token, secret = await blocking(
            lambda: scim_tokens.create(
                ctx,
                admin.actor,
                organization_id,
                name=values["name"],
                role=values["role"],
                workspace_id=admin.workspace_id,
            )
        )
    except DomainError as exc:
        field = exc.field if exc.field in ("name", "role") else None
        if field is None:
            refused = admin.refusal(request, exc)
            if refused is not None:
                return refused
        return await _listing(request, ctx, admin, status_of(exc), values=values, errors={field or "form": exc.message})
    page = admin.page(
        request,
        "admin_scim_created.html",
        section="settings",
        token=token,
        secret=secret,
        scim_url=ctx.link("/scim/v2"),
    )
    page.headers["cache-control"] = "no-store"
    return page


async def _token(request: Request, ctx: Context, workspace_id: str, token_id: str) -> tuple[Admin, Any] | Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    try:
        token = await blocking(
            lambda: scim_tokens.get(ctx, admin.actor, organization_id, token_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return admin, token


@router.get("/admin/{workspace_id}/scim/{token_id}/revoke", response_class=HTMLResponse)
async def confirm_revoke(workspace_id: str, token_id: str, request: Request, ctx: Ctx) -> Response:
    """Revoking is final: a page asks first (a GET: nothing changes)."""
    found = await _token(request, ctx, workspace_id, token_id)
    if isinstance(found, Response):
        return found
    admin, token = found
    return admin.page(request, "admin_scim_revoke.html", section="settings", token=token)


@router.post("/admin/{workspace_id}/scim/{token_id}/revoke", response_class=HTMLResponse)
async def revoke(workspace_id: str, token_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    try:
        await blocking(
            lambda: scim_tokens.revoke(ctx, admin.actor, organization_id, token_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return RedirectResponse(f"{scim_path(admin.workspace_id)}?done=revoked", status_code=303)


@router.get("/admin/{workspace_id}/scim/{token_id}", response_class=HTMLResponse)
async def request_log(workspace_id: str, token_id: str, request: Request, ctx: Ctx, before: str = "") -> Response:
    """The token's requests, newest first, ``scim_log.PAGE`` at a time (``before``: the next page)."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    position = before[:100] or None
    try:
        token, rows, following = await blocking(
            lambda: scim_log.recent(
                ctx, admin.actor, organization_id, token_id, workspace_id=admin.workspace_id, before=position
            )
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return RedirectResponse(request.url.path, status_code=303)  # a mangled page position: the newest
    base = f"{scim_path(admin.workspace_id)}/{quote(token_id)}"
    return admin.page(
        request,
        "admin_scim_log.html",
        section="settings",
        token=token,
        rows=[{**row, "change_text": _change_text(row["change"])} for row in rows],
        older_url=f"{base}?{urlencode({'before': following})}" if following else None,
        newest_url=base if position else None,
    )

"""Webhooks in the workspace admin console (linked from Settings): the endpoints that get this
workspace's events (its own and the organization-wide ones), adding one for this workspace (its
signing secret shown once, on the page that answers the form), a test event, a new secret,
disabling and enabling, and an endpoint's delivery log with "Send again". Who may do what is
decided by :mod:`admit.admin.webhooks` (manage settings in this workspace; an organization-wide
endpoint is listed read-only: the organization's API token manages it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import webhooks
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router

router = Router(include_in_schema=False)
NOTICES = ("test", "enabled", "disabled", "replayed")


def hooks_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/webhooks"


def _organization(admin: Admin) -> str:
    return str(admin.workspace["organization_id"])


async def _list_page(request: Request, ctx: Ctx, admin: Admin, status: int = 200, **context: Any) -> Response:
    organization_id = _organization(admin)
    try:
        rows = await blocking(
            lambda: webhooks.list_endpoints(ctx, admin.actor, organization_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    context.setdefault("values", {"url": "", "event_types": []})
    context.setdefault("errors", {})
    return admin.page(
        request, "admin_webhooks.html", status, section="settings", hooks=rows, catalogue=webhooks.SUBSCRIBABLE,
        **context,
    )  # fmt: skip


@router.get("/admin/{workspace_id}/webhooks", response_class=HTMLResponse)
async def hooks(workspace_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return await _list_page(request, ctx, admin, notice=done if done in NOTICES else None)


@router.post("/admin/{workspace_id}/webhooks/new", response_class=HTMLResponse)
async def add_hook(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Add an endpoint for this workspace; the answer shows its signing secret, this once."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        url = str(form.get("url") or "")[:2100]
        chosen = [name for name in webhooks.SUBSCRIBABLE if form.get(f"type_{name}") == "yes"]
    organization_id = _organization(admin)
    try:
        created, secret = await blocking(
            lambda: webhooks.create(
                ctx, admin.actor, organization_id, url=url, event_types=chosen or None, workspace_id=admin.workspace_id
            )
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        field = exc.field if exc.field in ("url", "event_types") else "form"
        values = {"url": url, "event_types": chosen}
        return await _list_page(request, ctx, admin, status_of(exc), values=values, errors={field: exc.message})
    return _secret_page(request, admin, created, secret, rotated=False)


def _secret_page(request: Request, admin: Admin, hook: dict[str, Any], secret: str, *, rotated: bool) -> Response:
    page = admin.page(
        request, "admin_webhook_secret.html", section="settings", hook=hook, secret=secret, rotated=rotated
    )
    page.headers["cache-control"] = "no-store"
    return page


async def _act(request: Request, ctx: Ctx, workspace_id: str, hook_id: str, action: str) -> Response:
    """A button on the list: test, enable, disable or a new secret."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    scope = admin.workspace_id
    try:
        if action == "rotate":
            rotated, secret = await blocking(
                lambda: webhooks.rotate(ctx, admin.actor, organization_id, hook_id, workspace_id=scope)
            )
            return _secret_page(request, admin, rotated, secret, rotated=True)
        if action == "test":
            await blocking(lambda: webhooks.send_test(ctx, admin.actor, organization_id, hook_id, workspace_id=scope))
        else:
            on = action == "enable"
            await blocking(
                lambda: webhooks.set_enabled(ctx, admin.actor, organization_id, hook_id, on, workspace_id=scope)
            )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    done = {"test": "test", "enable": "enabled", "disable": "disabled"}[action]
    return RedirectResponse(f"{hooks_path(admin.workspace_id)}?done={done}", status_code=303)


@router.post("/admin/{workspace_id}/webhooks/{hook_id}/test", response_class=HTMLResponse)
async def test_hook(workspace_id: str, hook_id: str, request: Request, ctx: Ctx) -> Response:
    return await _act(request, ctx, workspace_id, hook_id, "test")


@router.post("/admin/{workspace_id}/webhooks/{hook_id}/enable", response_class=HTMLResponse)
async def enable_hook(workspace_id: str, hook_id: str, request: Request, ctx: Ctx) -> Response:
    return await _act(request, ctx, workspace_id, hook_id, "enable")


@router.post("/admin/{workspace_id}/webhooks/{hook_id}/disable", response_class=HTMLResponse)
async def disable_hook(workspace_id: str, hook_id: str, request: Request, ctx: Ctx) -> Response:
    return await _act(request, ctx, workspace_id, hook_id, "disable")


@router.post("/admin/{workspace_id}/webhooks/{hook_id}/rotate", response_class=HTMLResponse)
async def rotate_hook(workspace_id: str, hook_id: str, request: Request, ctx: Ctx) -> Response:
    """A new secret, shown on the page that answers, this once (the old one signs 24 hours more)."""
    return await _act(request, ctx, workspace_id, hook_id, "rotate")


@router.get("/admin/{workspace_id}/webhooks/{hook_id}", response_class=HTMLResponse)
async def delivery_log(workspace_id: str, hook_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    """The endpoint's latest messages and attempts."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    scope = admin.workspace_id
    try:
        hook = await blocking(lambda: webhooks.get(ctx, admin.actor, organization_id, hook_id, workspace_id=scope))
        log = await blocking(
            lambda: webhooks.deliveries(ctx, admin.actor, organization_id, hook_id, workspace_id=scope, limit=100)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    notice = done if done in NOTICES else None
    return admin.page(request, "admin_webhook_log.html", section="settings", hook=hook, log=log, notice=notice)


@router.post("/admin/{workspace_id}/webhooks/{hook_id}/messages/{message_id}/replay", response_class=HTMLResponse)
async def replay(workspace_id: str, hook_id: str, message_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    organization_id = _organization(admin)
    number = int(message_id) if message_id.isdigit() and len(message_id) < 19 else -1
    try:
        await blocking(
            lambda: webhooks.replay(ctx, admin.actor, organization_id, hook_id, number, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return RedirectResponse(f"{hooks_path(admin.workspace_id)}/{quote(hook_id)}?done=replayed", status_code=303)

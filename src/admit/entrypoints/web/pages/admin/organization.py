"""The organization area of the console (issue 17), for system administrators: the licence report
by workspace, the workspaces with links to their consoles, the system and group administrators
(grant by the email of a member with an account, revoke) and the security controls. Every rule
is in :mod:`admit.admin.organization_roles`, :mod:`admit.admin.licences` and
:mod:`admit.admin.security_controls`; a person who is not a system administrator of the
organization gets its refusal (another organization is not found)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import licences, organization_roles, security_controls, sellers
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import refusal, render, signed_in
from admit.entrypoints.web.routing import Router
from admit.shared.context import Actor, Context

router = Router(include_in_schema=False)
DONE = ("admin_added", "admin_removed", "security", "licences")


def org_path(organization_id: str) -> str:
    return f"/admin/org/{quote(organization_id, safe='')}"


def _read(ctx: Context, actor: Actor, organization_id: str) -> dict[str, Any]:
    return {
        "report": licences.report(ctx, actor, organization_id),
        "admins": organization_roles.list_admins(ctx, actor, organization_id),
        "security": security_controls.get(ctx, actor, organization_id),
        "seller": sellers.is_seller(ctx, actor, organization_id),  # links the customers page (issue 17)
    }


async def _page(request: Request, ctx: Ctx, organization_id: str, status: int = 200, **context: Any) -> Response:
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        found = await blocking(lambda: _read(ctx, me.actor, organization_id))
    except DomainError as exc:
        refused = refusal(request, exc, me.language)
        if refused is None:
            raise
        return refused
    security = found["security"]
    context.setdefault("errors", {})
    context.setdefault(
        "values",
        {"allowed_domains": ", ".join(security.allowed_email_domains), "who_may_invite": security.who_may_invite},
    )
    return render(
        request,
        "admin_org.html",
        status,
        language=me.language,
        admin_name=me.actor.name,
        organization_id=organization_id,
        **found,
        **context,
    )


@router.get("/admin/org/{organization_id}", response_class=HTMLResponse)
async def organization(organization_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    return await _page(request, ctx, organization_id, notice=done if done in DONE else None)


async def _post(
    request: Request,
    ctx: Ctx,
    organization_id: str,
    change: Any,
    done: str,
    field_of: dict[str, str],
    values: dict[str, str] | None = None,
) -> Response:
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        await blocking(lambda: change(me.actor))
    except DomainError as exc:
        refused = refusal(request, exc, me.language)
        if refused is not None and not (exc.field and exc.field in field_of):
            return refused
        field = field_of.get(exc.field or "", next(iter(field_of.values())))
        extra = {"values": values} if values is not None else {}
        return await _page(request, ctx, organization_id, status_of(exc), errors={field: exc.message}, **extra)
    return RedirectResponse(f"{org_path(organization_id)}?done={done}", status_code=303)


@router.post("/admin/org/{organization_id}/administrators", response_class=HTMLResponse)
async def add_administrator(organization_id: str, request: Request, ctx: Ctx) -> Response:
    async with request.form() as form:
        email = str(form.get("email") or "")[:400]
        role = str(form.get("role") or "")[:20]
    return await _post(
        request,
        ctx,
        organization_id,
        lambda actor: organization_roles.grant(ctx, actor, organization_id, role, email=email),
        "admin_added",
        {"email": "email", "role": "email", "": "email"},
        {"email": email},
    )


@router.post("/admin/org/{organization_id}/administrators/{account_id}/remove", response_class=HTMLResponse)
async def remove_administrator(organization_id: str, account_id: str, request: Request, ctx: Ctx) -> Response:
    return await _post(
        request,
        ctx,
        organization_id,
        lambda actor: organization_roles.revoke(ctx, actor, organization_id, account_id),
        "admin_removed",
        {"account_id": "admins", "": "admins"},
    )


@router.post("/admin/org/{organization_id}/security", response_class=HTMLResponse)
async def change_security(organization_id: str, request: Request, ctx: Ctx) -> Response:
    async with request.form() as form:
        domains = str(form.get("allowed_domains") or "")[: security_controls.MAX_DOMAINS * 255]
        who = str(form.get("who_may_invite") or "")[:40]
    return await _post(
        request,
        ctx,
        organization_id,
        lambda actor: security_controls.update(
            ctx, actor, organization_id, allowed_email_domains=domains, who_may_invite=who
        ),
        "security",
        {"allowed_email_domains": "allowed_domains", "who_may_invite": "who_may_invite", "": "allowed_domains"},
        {"allowed_domains": domains, "who_may_invite": who},
    )


@router.post("/admin/org/{organization_id}/licences", response_class=HTMLResponse)
async def change_licences(organization_id: str, request: Request, ctx: Ctx) -> Response:
    async with request.form() as form:
        reserve = form.get("reserve_seats_for_invitations") == "yes"
    return await _post(
        request,
        ctx,
        organization_id,
        lambda actor: licences.set_reservation(ctx, actor, organization_id, reserve),
        "licences",
        {"reserve_seats_for_invitations": "reserve_seats_for_invitations", "": "reserve_seats_for_invitations"},
    )

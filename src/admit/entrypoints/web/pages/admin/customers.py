"""The seller's customers page of the organization area (issue 17, AppXite): a searchable list
of the seller and its customer organizations with their workspaces, a form to create a customer,
and "Invite into a customer" (organization and workspace from the searched list, role, identity
provider). Every rule is in :mod:`admit.admin.sellers`; a person who is not a system
administrator of the seller gets its refusal (another organization, or a customer, is not found)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import sellers
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import refusal, render, signed_in
from admit.entrypoints.web.routing import Router
from admit.shared.context import Actor, Context

router = Router(include_in_schema=False)
DONE = ("customer_created", "invited")
ROLES = ("guest", "member", "admin", "owner")
INVITE_FIELDS = {
    "organization_id": "target",
    "workspace_id": "target",
    "email": "email",
    "role": "role",
    "identity_provider": "identity_provider",
    "first_name": "email",
    "last_name": "email",
    "": "email",
}


def customers_path(organization_id: str, **query: str) -> str:
    path = f"/admin/org/{quote(organization_id, safe='')}/customers"
    return f"{path}?{urlencode(query)}" if query else path


def _read(ctx: Context, actor: Actor, organization_id: str, q: str) -> dict[str, Any]:
    found = sellers.targets(ctx, actor, organization_id, q=q)
    providers: dict[str, str] = {}
    for target in found:
        for workspace in target.workspaces:
            for choice in workspace["identity_providers"]:
                if choice["id"] != sellers.PASSWORD:
                    providers.setdefault(choice["id"], f"{choice['name']} ({target.name})")
    return {"targets": found, "providers": providers}


async def _page(
    request: Request, ctx: Ctx, organization_id: str, q: str = "", status: int = 200, **context: Any
) -> Response:
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        try:
            found = await blocking(lambda: _read(ctx, me.actor, organization_id, q))
        except DomainError as exc:
            if exc.field != "q":
                raise
            # a search too long or with NULs: said next to the box, the list unfiltered
            context.setdefault("errors", {})["q"] = exc.message
            status = status_of(exc)
            found = await blocking(lambda: _read(ctx, me.actor, organization_id, ""))
    except DomainError as exc:  # the organization itself (not found, not theirs): a page that says so
        refused = refusal(request, exc, me.language)
        if refused is None:
            raise
        return refused
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return render(
        request,
        "admin_customers.html",
        status,
        language=me.language,
        admin_name=me.actor.name,
        organization_id=organization_id,
        q=q,
        roles=ROLES,
        **found,
        **context,
    )


@router.get("/admin/org/{organization_id}/customers", response_class=HTMLResponse)
async def customers(organization_id: str, request: Request, ctx: Ctx, q: str = "", done: str = "") -> Response:
    return await _page(request, ctx, organization_id, q[:200], notice=done if done in DONE else None)


async def _post(
    request: Request,
    ctx: Ctx,
    organization_id: str,
    change: Any,
    done: str,
    field_of: dict[str, str],
    values: Any,
    q: str,
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
        field = field_of.get(exc.field or "", field_of[""])
        return await _page(request, ctx, organization_id, q, status_of(exc), errors={field: exc.message}, values=values)
    return RedirectResponse(customers_path(organization_id, q=q, done=done), status_code=303)


@router.post("/admin/org/{organization_id}/customers", response_class=HTMLResponse)
async def create_customer(organization_id: str, request: Request, ctx: Ctx) -> Response:
    async with request.form() as form:
        name = str(form.get("name") or "")[:400]
    return await _post(
        request,
        ctx,
        organization_id,
        lambda actor: sellers.create_customer(ctx, actor, organization_id, name),
        "customer_created",
        {"name": "name", "seats": "name", "": "name"},
        {"name": name},
        "",
    )


@router.post("/admin/org/{organization_id}/customers/invite", response_class=HTMLResponse)
async def invite(organization_id: str, request: Request, ctx: Ctx) -> Response:
    async with request.form() as form:
        values = {
            name: str(form.get(name) or "")[:400]
            for name in ("target", "email", "first_name", "last_name", "role", "identity_provider", "q")
        }
    target_org, _, workspace_id = values["target"].partition("/")
    return await _post(
        request,
        ctx,
        organization_id,
        lambda actor: sellers.invite(
            ctx,
            actor,
            organization_id,
            organization_id=target_org,
            workspace_id=workspace_id,
            email=values["email"],
            role=values["role"],
            identity_provider=values["identity_provider"],
            first_name=values["first_name"] or None,
            last_name=values["last_name"] or None,
        ),
        "invited",
        INVITE_FIELDS,
        values,
        values["q"],
    )

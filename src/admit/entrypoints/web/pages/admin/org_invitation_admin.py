"""The organization area's invitations page (issue 17): ``/admin/org/{org}/invitations`` lists the
organization's invitations to join its account (email, state, sent, expires, and why a merge was
refused, said by its code in the administrator's language), with a form to invite someone and, for
a pending one, Withdraw (a confirmation page, then a POST). Errors are said by their code too.
Every rule is :mod:`admit.admin.organization_invitations`'s: a person who is not a system
administrator of the organization gets its refusal (another organization is not found)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import organization_invitations as oi
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import refusal, render, signed_in
from admit.entrypoints.web.routing import Router

router = Router(include_in_schema=False)
DONE = ("invited", "withdrawn")
LANGUAGES = oi.LANGUAGES


def invitations_path(organization_id: str) -> str:
    return f"/admin/org/{quote(organization_id, safe='')}/invitations"


async def _page(request: Request, ctx: Ctx, organization_id: str, status: int = 200, **context: Any) -> Response:
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        found = await blocking(lambda: oi.list_invitations(ctx, me.actor, organization_id))
    except DomainError as exc:
        refused = refusal(request, exc, me.language)
        if refused is None:
            raise
        return refused
    context.setdefault("errors", {})
    context.setdefault("values", {"language": me.language or "en"})
    return render(
        request,
        "admin_org_invitations.html",
        status,
        language=me.language,
        admin_name=me.actor.name,
        organization_id=organization_id,
        invitations=found,
        languages=LANGUAGES,
        **context,
    )


@router.get("/admin/org/{organization_id}/invitations", response_class=HTMLResponse)
async def invitations(organization_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    return await _page(request, ctx, organization_id, notice=done if done in DONE else None)


@router.post("/admin/org/{organization_id}/invitations", response_class=HTMLResponse)
async def invite(organization_id: str, request: Request, ctx: Ctx) -> Response:
    async with request.form() as form:
        email = str(form.get("email") or "")[:400]
        language = str(form.get("language") or "")[:10]
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        await blocking(lambda: oi.invite(ctx, me.actor, organization_id, email, language=language or None))
    except DomainError as exc:
        refused = refusal(request, exc, me.language)
        if refused is not None and exc.field is None:
            return refused
        field = "language" if exc.field == "language" else "email"
        values = {"email": email, "language": language}
        return await _page(request, ctx, organization_id, status_of(exc), errors={field: exc}, values=values)
    return RedirectResponse(f"{invitations_path(organization_id)}?done=invited", status_code=303)


@router.get("/admin/org/{organization_id}/invitations/{invitation_id}/withdraw", response_class=HTMLResponse)
async def confirm_withdraw(organization_id: str, invitation_id: str, request: Request, ctx: Ctx) -> Response:
    """The confirmation: what withdrawing does, and the POST form (GET changes nothing)."""
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        invitation = await blocking(lambda: oi.get_invitation(ctx, me.actor, organization_id, invitation_id))
    except DomainError as exc:
        refused = refusal(request, exc, me.language)
        if refused is None:
            raise
        return refused
    return render(
        request,
        "admin_org_withdraw.html",
        language=me.language,
        admin_name=me.actor.name,
        organization_id=organization_id,
        invitation=invitation,
        back=invitations_path(organization_id),
    )


@router.post("/admin/org/{organization_id}/invitations/{invitation_id}/withdraw", response_class=HTMLResponse)
async def withdraw(organization_id: str, invitation_id: str, request: Request, ctx: Ctx) -> Response:
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        await blocking(lambda: oi.withdraw(ctx, me.actor, organization_id, invitation_id))
    except DomainError as exc:
        refused = refusal(request, exc, me.language)
        if refused is not None:
            return refused
        return await _page(request, ctx, organization_id, status_of(exc), errors={"invitations": exc})
    return RedirectResponse(f"{invitations_path(organization_id)}?done=withdrawn", status_code=303)

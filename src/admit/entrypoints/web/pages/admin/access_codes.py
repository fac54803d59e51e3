"""The access code buttons of a person's page: create (the answer shows the code once, never
cached), send by SMS, withdraw. ``admin.access_codes`` checks the permission and the rules; a
refusal is shown on the person's page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import access_codes
from admit.domain.errors import DomainError
from admit.domain.roles import Permission
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.pages.admin.person import _person_for, person_page, person_path
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)


async def _refused(request: Request, ctx: Context, admin: Admin, member_id: str, exc: DomainError) -> Response:
    refused = admin.refusal(request, exc)
    if refused is not None:
        return refused
    found = await _person_for(request, ctx, admin, member_id)
    if isinstance(found, Response):
        return found
    return await person_page(request, ctx, admin, found, status=status_of(exc), error=exc.message)


@router.post("/admin/{workspace_id}/people/{member_id}/access-code", response_class=HTMLResponse)
async def create(workspace_id: str, member_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    try:
        issued = await blocking(
            lambda: access_codes.issue(ctx, admin.actor, member_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return await _refused(request, ctx, admin, member_id, exc)
    response = admin.page(
        request,
        "admin_access_code.html",
        section="people",
        issued=issued,
        url=access_codes.redeem_url(ctx),
        filled=access_codes.redeem_url(ctx, issued.code),
        back=person_path(workspace_id, member_id),
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/admin/{workspace_id}/people/{member_id}/access-code/withdraw", response_class=HTMLResponse)
async def withdraw(workspace_id: str, member_id: str, request: Request, ctx: Ctx) -> Response:
    return await _action(request, ctx, workspace_id, member_id, "code_withdrawn")


@router.post("/admin/{workspace_id}/people/{member_id}/access-code/sms", response_class=HTMLResponse)
async def send_by_sms(workspace_id: str, member_id: str, request: Request, ctx: Ctx) -> Response:
    return await _action(request, ctx, workspace_id, member_id, "code_sent")


async def _action(request: Request, ctx: Context, workspace_id: str, member_id: str, done: str) -> Response:
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    use_case = access_codes.withdraw if done == "code_withdrawn" else access_codes.send_by_sms
    try:
        await blocking(lambda: use_case(ctx, admin.actor, member_id, workspace_id=admin.workspace_id))
    except DomainError as exc:
        return await _refused(request, ctx, admin, member_id, exc)
    return RedirectResponse(f"{person_path(workspace_id, member_id)}?done={done}", status_code=303)

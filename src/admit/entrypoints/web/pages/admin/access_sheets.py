"""Access codes for a selection, in the console: the workspace's people without email awaiting
invitation or invited, with checkboxes, and two buttons that make fresh codes for the selected
people (each earlier code withdrawn) and answer them as a CSV or as a printable PDF sheet, a
download never cached. ``admin.access_codes`` checks ``manage_people``, the selection and the
rules; a refusal that a form can fix is shown on the page, next to the list."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from admit.admin import access_codes
from admit.domain.errors import DomainError
from admit.domain.members import MemberStatus
from admit.domain.roles import Permission
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
PICK = "pick:"  # a checkbox per person, named after them (a form names each field once)
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "access-codes.csv"),
    "pdf": ("application/pdf", "access-codes.pdf"),
}


def sheets_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/access-codes"


async def _page(
    request: Request,
    ctx: Context,
    admin: Admin,
    selected: set[str] | None,  # None: everyone listed
    *,
    status: int = 200,
    error: str | None = None,
    waiting: bool = False,  # select everyone listed who is awaiting invitation (Invite All's link)
) -> Response:
    try:
        people = await blocking(lambda: access_codes.without_email(ctx, admin.actor, admin.workspace_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    if waiting:
        selected = {p.id for p in people if p.status == MemberStatus.PROVISIONED}
    return admin.page(
        request,
        "admin_access_codes.html",
        status,
        section="people",
        people=people,
        selected={p.id for p in people} if selected is None else selected,
        error=error,
        limit=access_codes.MAX_SELECTION,
    )


@router.get("/admin/{workspace_id}/access-codes", response_class=HTMLResponse)
async def listing(workspace_id: str, request: Request, ctx: Ctx, select: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    return await _page(request, ctx, admin, None if select == "all" else set(), waiting=select == "waiting")


@router.post("/admin/{workspace_id}/access-codes", response_class=HTMLResponse)
async def download(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        member_ids = [name.removeprefix(PICK) for name in form if name.startswith(PICK)]
        kind = str(form.get("format") or "")
    if kind not in FORMATS:
        kind = "csv"
    language = str(admin.workspace.get("default_language") or "en")
    try:
        body = await blocking(lambda: _make(ctx, admin, member_ids, kind, language))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await _page(request, ctx, admin, set(member_ids), status=status_of(exc), error=exc.message)
    media_type, filename = FORMATS[kind]
    return Response(
        body,
        media_type=media_type,
        headers={
            "cache-control": "no-store",
            "pragma": "no-cache",
            "content-disposition": f'attachment; filename="{filename}"',
        },
    )


def _make(ctx: Context, admin: Admin, member_ids: list[str], kind: str, language: str) -> bytes:
    issued = access_codes.issue_for_selection(ctx, admin.actor, admin.workspace_id, member_ids)
    if kind == "pdf":
        return access_codes.as_sheet(ctx, issued, language)
    return access_codes.as_csv(ctx, issued).encode("utf-8")

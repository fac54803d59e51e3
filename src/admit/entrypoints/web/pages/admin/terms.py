"""Terms of service in the workspace admin console: every published version with how many
accounts accepted it, publishing a new version by upload (a PDF or a UTF-8 text file; the file's
type, size and who may publish are decided by :mod:`admit.admin.terms`, whose complaint is shown
next to the file field), downloading a version's document and downloading who accepted which
version as CSV (cells a spreadsheet would run as formulas are neutralised)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from admit.adapters.spreadsheets import write_csv
from admit.admin import terms
from admit.domain.errors import DomainError, NotFound
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router

router = Router(include_in_schema=False)
CSV_HEADERS = ("Version", "Name", "Email", "Accepted at (UTC)")


def terms_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/terms"


async def _terms_page(
    admin: Admin, request: Request, ctx: Ctx, status: int = 200, **context: Any
) -> HTMLResponse | Response:
    try:
        found = await blocking(lambda: terms.versions(ctx, admin.actor, admin.workspace_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return admin.page(
        request,
        "admin_terms.html",
        status,
        section="terms",
        versions=found,
        limit_mb=terms.MAX_BYTES // 2**20,
        **context,
    )


@router.get("/admin/{workspace_id}/terms", response_class=HTMLResponse)
async def terms_list(workspace_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    published = int(done) if done.isdigit() and len(done) < 10 else None
    return await _terms_page(admin, request, ctx, published=published)


@router.post("/admin/{workspace_id}/terms", response_class=HTMLResponse)
async def publish(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Publish the uploaded file as the next version; the service decides whether it may be."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        notify = form.get("notify") == "yes"
        upload = form.get("document")
        filename: str | None = None
        document = b""
        if isinstance(upload, UploadFile):
            filename = (upload.filename or "")[:200] or None
            document = await upload.read(terms.MAX_BYTES + 1)  # one byte more: the service says "too large"
    values = {"notify": notify}
    try:
        published = await blocking(
            lambda: terms.publish(
                ctx, admin.actor, admin.workspace_id, filename=filename, document=document, notify=notify
            )
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await _terms_page(admin, request, ctx, status_of(exc), values=values, errors={"document": exc.message})
    return RedirectResponse(f"{terms_path(admin.workspace_id)}?done={published.version}", status_code=303)


@router.get("/admin/{workspace_id}/terms/acceptances.csv")
async def acceptances_csv(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Who accepted which version when, as CSV."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        found = await blocking(lambda: terms.acceptances(ctx, admin.actor, admin.workspace_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    rows = [[a.version, a.name, a.email, a.accepted_at.strftime("%Y-%m-%d %H:%M:%S")] for a in found]
    content = write_csv(CSV_HEADERS, rows)
    disposition = f'attachment; filename="terms-acceptances-{admin.workspace_id}.csv"'
    headers = {"content-disposition": disposition, "cache-control": "no-store"}
    return Response(content, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/admin/{workspace_id}/terms/{version}/document")
async def document(workspace_id: str, version: str, request: Request, ctx: Ctx) -> Response:
    """A version's document as it was uploaded (reading it records nothing)."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        if not version.isdigit() or len(version) > 9:
            raise NotFound("these terms do not exist")
        number = int(version)
        found = await blocking(lambda: terms.document(ctx, admin.actor, admin.workspace_id, number))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    media = found.content_type + ("; charset=utf-8" if found.content_type.startswith("text/") else "")
    headers = {
        "content-disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
        "x-content-type-options": "nosniff",
    }
    return Response(found.document, media_type=media, headers=headers)

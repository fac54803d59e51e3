"""Choose people to invite (the Workplace article): upload a CSV or XLSX file whose header has
``Email`` or ``External ID`` ("Import File", then "Next"), review the invitation, "Send", confirm;
the invitations then go out as a job whose page lists every row that matched nobody.

The uploaded list is carried from step to step inside the form (compressed), so nothing is kept
on the server before the administrator confirms; lists up to ``LIST_MAX_BYTES`` (larger ones
through the API or the CLI)."""

from __future__ import annotations

import base64
import binascii
import zlib
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from admit.adapters.spreadsheets import write_csv, write_xlsx
from admit.admin import bulk_invites
from admit.domain.errors import DomainError, ValidationFailed
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import XLSX, Admin, admin_for, read_upload
from admit.entrypoints.web.pages.admin.invitations import FORM_MAX_PART, Target, base, flow, review
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
LIST_MAX_BYTES = 5 * 1024 * 1024
ROWS_SHOWN = 200  # of each kind on the review; the job's report lists every row


def _pack(data: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(data, 6)).decode("ascii")


def _unpack(text: str) -> bytes:
    lost = ValidationFailed("the uploaded list was lost on the way; please upload it again", field="file")
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.urlsafe_b64decode(text.encode("ascii")), LIST_MAX_BYTES + 1)
    except (binascii.Error, zlib.error, ValueError, UnicodeEncodeError):
        raise lost from None
    if not data or len(data) > LIST_MAX_BYTES or not inflater.eof:
        raise lost
    return data


def _listed(ctx: Context, admin: Admin, data: bytes, filename: str) -> Target:
    """Read the list and match it now: a file without an Email or External ID column is refused at
    once, and the review shows who will be invited and which rows match nobody."""
    match = bulk_invites.match_listed(ctx, admin.actor, admin.workspace_id, data, filename)

    def act(message: str | None) -> str:
        job = bulk_invites.invite_listed(ctx, admin.actor, admin.workspace_id, data, filename, message=message)
        return f"{base(admin)}/jobs/{quote(job.id)}"

    return Target(
        "listed",
        f"{base(admin)}/invitations/choose/review",
        act,
        hidden={"upload": _pack(data), "filename": filename},
        facts={
            "count": match.to_invite,
            "rows": len(match.rows),
            "filename": filename,
            "column": match.column,
            "matched": [row for row in match.rows if row.outcome == "invite"][:ROWS_SHOWN],
            "unmatched": [row for row in match.rows if row.outcome != "invite"][:ROWS_SHOWN],
            "rows_shown": ROWS_SHOWN,
        },
    )


@router.get("/admin/{workspace_id}/invitations/choose", response_class=HTMLResponse)
async def choose(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return admin.page(request, "admin_choose.html", section="invitations", limit_mb=LIST_MAX_BYTES // 2**20)


@router.post("/admin/{workspace_id}/invitations/choose", response_class=HTMLResponse)
async def upload_list(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """ "Import File", then "Next": the list is read and the review shown."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        async with request.form(max_part_size=FORM_MAX_PART) as form:
            data, filename = await read_upload(form, LIST_MAX_BYTES)
        target = await blocking(lambda: _listed(ctx, admin, data, filename))
    except DomainError as exc:
        return _refused(request, admin, exc)
    return await review(request, ctx, admin, target, "")


@router.post("/admin/{workspace_id}/invitations/choose/review", response_class=HTMLResponse)
async def invite_listed(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form(max_part_size=FORM_MAX_PART) as form:
        try:
            data = _unpack(str(form.get("upload") or ""))
            filename = str(form.get("filename") or "list.csv")[:200]
            target = await blocking(lambda: _listed(ctx, admin, data, filename))
        except DomainError as exc:
            return _refused(request, admin, exc)
        return await flow(request, ctx, admin, target, form)


def _refused(request: Request, admin: Admin, exc: DomainError) -> Response:
    """The choose page again, saying why the list was not taken."""
    return admin.page(
        request,
        "admin_choose.html",
        status_of(exc),
        section="invitations",
        limit_mb=LIST_MAX_BYTES // 2**20,
        error=exc.message,
    )


@router.get("/admin/{workspace_id}/invitations/template.{kind}")
async def list_template(workspace_id: str, kind: str, request: Request, ctx: Ctx) -> Response:
    """An empty list to fill in: the two columns that name people."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    headers = ["Email", "External ID"]
    if kind == "xlsx":
        content, media = write_xlsx(headers, []), XLSX
    elif kind == "csv":
        content, media = write_csv(headers, []), "text/csv; charset=utf-8"
    else:
        return admin.page(request, "admin_error.html", 404, kind="not_found")
    disposition = f'attachment; filename="people-to-invite.{kind}"'
    return Response(content, media_type=media, headers={"content-disposition": disposition})

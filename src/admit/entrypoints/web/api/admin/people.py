"""Bulk work on people: imports, "Invite All", invitations from a list, their jobs, the import
template, the invitation preview, and the audit log."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Query, Request
from fastapi.responses import Response

from admit.admin import audit, bulk_invites, imports, jobs
from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file itself: CSV (UTF-8, UTF-16 or Latin-1; , ; tab or | separated) or XLSX.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
FileName = Query(
    None,
    max_length=200,
    description="The file's name (its extension tells CSV from XLSX). Without it: `people.xlsx` when the "
    f"body is sent as `{XLSX}`, else `people.csv`.",
)


def file_name(given: str | None, request: Request) -> str:
    """The upload's name: as given, else from the body's declared media type (as the OpenAPI
    document offers both)."""
    if given is not None:
        return given
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return "people.xlsx" if media == XLSX else "people.csv"


Message = Query(None, max_length=2000, description="A personal message for the invitations.")
MemberId = Query(None, max_length=32, description="Preview for this member (their name and language).")


@router.post(
    "/workspaces/{workspace_id}/imports",
    status_code=202,
    response_model=s.JobOut,
    tags=["imports"],
    openapi_extra=FILE_BODY,
)
async def start_import(
    workspace_id: str,
    request: Request,
    ctx: Ctx,
    token: Bearer,
    invite: Literal["now", "later"] = Query(
        ..., description="Invite new people now, or leave them awaiting invitation."
    ),
    dry_run: bool = Query(False, description="Report what would happen without writing anything."),
    filename: str | None = FileName,
    message: str | None = Message,
) -> Any:
    """Import people from a CSV or XLSX file as a background job; poll `GET /jobs/{id}`."""
    data, filename = await request.body(), file_name(filename, request)
    return await as_caller(
        ctx,
        token,
        lambda actor: imports.start(
            ctx, actor, workspace_id, data, filename, invite=invite, dry_run=dry_run, message=message
        ),
    )


TEMPLATE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The template file.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/workspaces/{workspace_id}/imports/template", tags=["imports"], response_class=Response, responses=TEMPLATE
)
async def import_template(
    workspace_id: str, ctx: Ctx, token: Bearer, format: Literal["csv", "xlsx"] = Query("csv")
) -> Response:
    """The import template with every column Admit reads and an example row."""
    name, content = await as_caller(ctx, token, lambda actor: imports.template(ctx, actor, workspace_id, format))
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX
    return Response(content, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.post(
    "/workspaces/{workspace_id}/invitations/all", status_code=202, response_model=s.JobOut, tags=["invitations"]
)
async def invite_all(workspace_id: str, body: s.BulkInviteIn, ctx: Ctx, token: Bearer) -> Any:
    """Invite every member awaiting invitation, as a background job."""
    return await as_caller(
        ctx,
        token,
        lambda actor: bulk_invites.invite_all(ctx, actor, workspace_id, message=body.message),
        quick=True,
    )


@router.post(
    "/workspaces/{workspace_id}/invitations/list",
    status_code=202,
    response_model=s.JobOut,
    tags=["invitations"],
    openapi_extra=FILE_BODY,
)
async def invite_listed(
    workspace_id: str,
    request: Request,
    ctx: Ctx,
    token: Bearer,
    filename: str | None = FileName,
    message: str | None = Message,
) -> Any:
    """Invite the members a CSV or XLSX file names in an `Email` or `External ID` column."""
    data, filename = await request.body(), file_name(filename, request)
    return await as_caller(
        ctx, token, lambda actor: bulk_invites.invite_listed(ctx, actor, workspace_id, data, filename, message=message)
    )


@router.get("/workspaces/{workspace_id}/invitations/preview", response_model=s.PreviewOut, tags=["invitations"])
async def preview(
    workspace_id: str, ctx: Ctx, token: Bearer, message: str | None = Message, member_id: str | None = MemberId
) -> Any:
    """The invitation email exactly as `member_id` will receive it (their name and language), or,
    without it, as the first member awaiting invitation will."""
    rendered = await as_caller(
        ctx,
        token,
        lambda actor: bulk_invites.preview(ctx, actor, workspace_id, message=message, member_id=member_id),
        quick=True,
    )
    return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}


@router.get("/workspaces/{workspace_id}/jobs", response_model=list[s.JobOut], tags=["jobs"])
async def list_jobs(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: jobs.list_jobs(ctx, actor, workspace_id), quick=True)


@router.get("/jobs/{job_id}", response_model=s.JobOut, tags=["jobs"])
async def get_job(job_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: jobs.get(ctx, actor, job_id), quick=True)


@router.post("/jobs/{job_id}/cancel", response_model=s.JobOut, tags=["jobs"])
async def cancel_job(job_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Stop a job after its current chunk; what was committed stays."""
    return await as_caller(ctx, token, lambda actor: jobs.cancel(ctx, actor, job_id), quick=True)


@router.post("/jobs/{job_id}/run", response_model=s.JobOut, status_code=202, tags=["jobs"])
async def run_import_for_real(job_id: str, ctx: Ctx, token: Bearer) -> Any:
    """After a dry run of an import that finished: the same file and choices, imported for real
    (no second upload). Once per dry run: asked again, the import queued the first time (409 for
    any other job)."""
    return await as_caller(ctx, token, lambda actor: imports.run_after_dry_run(ctx, actor, job_id))


@router.get("/workspaces/{workspace_id}/events", response_model=list[s.EventOut], tags=["audit"])
async def list_events(
    workspace_id: str,
    ctx: Ctx,
    token: Bearer,
    action: str | None = Query(None, max_length=40, description='An action or its prefix ("member.").'),
    subject_id: str | None = Query(None, max_length=32),
    actor_id: str | None = Query(None, max_length=32),
    before: int | None = Query(None, ge=1, le=s.MAX_ID, description="Page on: the id of the last event seen."),
    limit: int = Query(50, ge=1, le=500),
) -> Any:
    """The workspace's audit log, newest first."""
    return await as_caller(
        ctx,
        token,
        lambda actor: audit.events(
            ctx,
            actor,
            workspace_id,
            action=action,
            subject_id=subject_id,
            actor_id=actor_id,
            before=before,
            limit=limit,
        ),
        quick=True,
    )

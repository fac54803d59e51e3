"""Imports and the jobs that carry out bulk work: upload a spreadsheet ("Invite now" or "Invite
later" must be chosen; optionally a dry run), download the import template, follow a job's
progress (the page refreshes itself while it runs; Cancel stops it after the current part), read
what happened in words with every problem row, and download that report as CSV (cells that a
spreadsheet would run as formulas are neutralised)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.adapters.spreadsheets import MAX_BYTES, write_csv
from admit.admin import access_codes, imports, jobs
from admit.domain.errors import DomainError
from admit.domain.invitations import invite_now, personal_message
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.access_sheets import FORMATS
from admit.entrypoints.web.pages.admin.console import XLSX, Admin, admin_for, read_upload
from admit.entrypoints.web.pages.admin.invitations import MESSAGE_MAX
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
SHOWN_PROBLEMS = 500  # on the page; the CSV report has every one the job kept


def _import_form(admin: Admin, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    return admin.page(
        request,
        "admin_import.html",
        status,
        section="import",
        limit_mb=MAX_BYTES // 2**20,
        message_max=MESSAGE_MAX,
        **context,
    )


@router.get("/admin/{workspace_id}/import", response_class=HTMLResponse)
async def import_form(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return _import_form(admin, request, values={}, errors={})


@router.post("/admin/{workspace_id}/import", response_class=HTMLResponse)
async def start_import(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        values = {
            "invite": str(form.get("invite") or ""),
            "dry_run": form.get("dry_run") == "yes",
            "message": str(form.get("message") or "").strip(),
        }
        try:  # the service checks these too; checked first here, the file is not read for nothing
            invite_now(str(values["invite"]))
            personal_message(str(values["message"]))
            data, filename = await read_upload(form, MAX_BYTES)
        except DomainError as exc:
            return _import_refused(admin, request, exc, values)

    def start() -> jobs.JobView:
        return imports.start(
            ctx,
            admin.actor,
            workspace_id,
            data,
            filename,
            invite=str(values["invite"]),
            dry_run=bool(values["dry_run"]),
            message=str(values["message"]) or None,
        )

    try:
        job = await blocking(start)
    except DomainError as exc:
        return _import_refused(admin, request, exc, values)
    return RedirectResponse(f"/admin/{quote(workspace_id)}/jobs/{quote(job.id)}", status_code=303)


def _import_refused(admin: Admin, request: Request, exc: DomainError, values: dict[str, Any]) -> Response:
    refused = admin.refusal(request, exc)
    if refused is not None:
        return refused
    field = exc.field if exc.field in ("invite", "message") else "file"
    return _import_form(admin, request, status_of(exc), values=values, errors={field: exc.message})


@router.get("/admin/{workspace_id}/import/template.{kind}")
async def import_template(workspace_id: str, kind: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    if kind not in ("csv", "xlsx"):
        return admin.page(request, "admin_error.html", 404, kind="not_found")
    name, content = await blocking(lambda: imports.template(ctx, admin.actor, workspace_id, kind))
    media = XLSX if kind == "xlsx" else "text/csv; charset=utf-8"
    return Response(content, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/admin/{workspace_id}/jobs", response_class=HTMLResponse)
async def job_list(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    found = await blocking(lambda: jobs.list_jobs(ctx, admin.actor, workspace_id))
    return admin.page(request, "admin_jobs.html", section="jobs", jobs=found)


async def _job(ctx: Context, admin: Admin, job_id: str) -> jobs.JobView:
    """A job of this workspace (another workspace's job is not found here)."""
    return await blocking(lambda: jobs.get(ctx, admin.actor, job_id, workspace_id=admin.workspace_id))


async def _admin_and_job(
    request: Request, ctx: Context, workspace_id: str, job_id: str
) -> tuple[Admin, jobs.JobView] | Response:
    """The signed-in administrator and the job, or the page (sign-in, refusal) to answer with."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        return admin, await _job(ctx, admin, job_id)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))


@router.get("/admin/{workspace_id}/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(workspace_id: str, job_id: str, request: Request, ctx: Ctx) -> Response:
    found = await _admin_and_job(request, ctx, workspace_id, job_id)
    if isinstance(found, Response):
        return found
    admin, job = found
    return await _job_page(request, ctx, admin, job)


async def _job_page(
    request: Request,
    ctx: Context,
    admin: Admin,
    job: jobs.JobView,
    *,
    status: int = 200,
    codes_error: str | None = None,
) -> Response:
    running = job.state in ("queued", "running")
    need_codes = None  # who of this job needs an access code; None: nothing to offer here
    if not running and (job.kind == "invite_all" or (job.kind == "import" and not job.options.get("dry_run"))):
        try:
            need_codes = len(
                await blocking(
                    lambda: access_codes.job_people(ctx, admin.actor, job.id, workspace_id=admin.workspace_id)
                )
            )
        except DomainError:
            need_codes = None
    return admin.page(
        request,
        "admin_job.html",
        status,
        section="jobs",
        job=job,
        running=running,
        problems=job.report[:SHOWN_PROBLEMS],
        shown_problems=SHOWN_PROBLEMS,
        need_codes=need_codes,
        codes_error=codes_error,
        codes_limit=access_codes.MAX_JOB_SHEET,
    )


@router.post("/admin/{workspace_id}/jobs/{job_id}/access-codes", response_class=HTMLResponse)
async def job_access_codes(workspace_id: str, job_id: str, request: Request, ctx: Ctx) -> Response:
    """Fresh access codes for the people of this import (or Invite All) no message can reach, as a
    PDF sheet or a CSV, shown once (``admin.access_codes.issue_for_job``)."""
    found = await _admin_and_job(request, ctx, workspace_id, job_id)
    if isinstance(found, Response):
        return found
    admin, job = found
    async with request.form() as form:
        kind = str(form.get("format") or "")
    if kind not in FORMATS:
        kind = "pdf"
    language = str(admin.workspace.get("default_language") or "en")

    def make() -> bytes:
        issued = access_codes.issue_for_job(ctx, admin.actor, job_id, workspace_id=admin.workspace_id)
        if kind == "pdf":
            return access_codes.as_sheet(ctx, issued, language)
        return access_codes.as_csv(ctx, issued).encode("utf-8")

    try:
        body = await blocking(make)
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await _job_page(request, ctx, admin, job, status=status_of(exc), codes_error=exc.message)
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


@router.post("/admin/{workspace_id}/jobs/{job_id}/cancel", response_class=HTMLResponse)
async def cancel(workspace_id: str, job_id: str, request: Request, ctx: Ctx) -> Response:
    found = await _admin_and_job(request, ctx, workspace_id, job_id)
    if isinstance(found, Response):
        return found
    admin, _ = found
    try:
        await blocking(lambda: jobs.cancel(ctx, admin.actor, job_id, workspace_id=admin.workspace_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return RedirectResponse(f"/admin/{quote(workspace_id)}/jobs/{quote(job_id)}", status_code=303)


@router.post("/admin/{workspace_id}/jobs/{job_id}/run", response_class=HTMLResponse)
async def run_for_real(workspace_id: str, job_id: str, request: Request, ctx: Ctx) -> Response:
    """ "Run this import" after a dry run: the same file and choices, queued for real."""
    found = await _admin_and_job(request, ctx, workspace_id, job_id)
    if isinstance(found, Response):
        return found
    admin, _ = found
    try:
        queued = await blocking(
            lambda: imports.run_after_dry_run(ctx, admin.actor, job_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or RedirectResponse(
            f"/admin/{quote(workspace_id)}/jobs/{quote(job_id)}", status_code=303
        )
    return RedirectResponse(f"/admin/{quote(workspace_id)}/jobs/{quote(queued.id)}", status_code=303)


@router.get("/admin/{workspace_id}/jobs/{job_id}/report.csv")
async def report(workspace_id: str, job_id: str, request: Request, ctx: Ctx) -> Response:
    found = await _admin_and_job(request, ctx, workspace_id, job_id)
    if isinstance(found, Response):
        return found
    _, job = found
    rows = [[p.get("row"), p.get("column"), p.get("reason"), p.get("kind")] for p in job.report]
    content = write_csv(["Row", "Column", "Problem", "Kind"], rows)
    disposition = f'attachment; filename="report-{job.kind}-{job.id}.csv"'
    return Response(content, media_type="text/csv; charset=utf-8", headers={"content-disposition": disposition})

"""The audit log of a workspace: who did what to whom and when, newest first, filtered by the kind
of action and paged with "Older"."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from admit.admin import audit
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import admin_for
from admit.entrypoints.web.routing import Router

router = Router(include_in_schema=False)
PAGE_SIZE = 50
PREFIXES = ("member.", "invitation.", "job.", "terms.", "account.", "workspace.", "message.")


@router.get("/admin/{workspace_id}/audit", response_class=HTMLResponse)
async def audit_log(workspace_id: str, request: Request, ctx: Ctx, action: str = "", before: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    prefix = action if action in PREFIXES else None
    older_than = int(before) if before.isdigit() else None
    try:
        events = await blocking(
            lambda: audit.events(ctx, admin.actor, workspace_id, action=prefix, before=older_than, limit=PAGE_SIZE + 1)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    base = f"/admin/{quote(workspace_id)}/audit"
    filtered = {"action": prefix} if prefix else {}
    older = None
    if len(events) > PAGE_SIZE:
        events = events[:PAGE_SIZE]
        older = f"{base}?{urlencode({**filtered, 'before': events[-1]['id']})}"
    newest = (f"{base}?{urlencode(filtered)}" if filtered else base) if older_than is not None else None
    return admin.page(
        request,
        "admin_audit.html",
        section="audit",
        events=events,
        prefixes=PREFIXES,
        action=prefix or "",
        older_url=older,
        newest_url=newest,
    )

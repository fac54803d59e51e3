"""Held SCIM deprovisioning in the workspace admin console (``/admin/{ws}/scim/holds``, linked
from the SCIM page and announced on the People page): the deactivations and removals the brake
(:mod:`admit.admin.scim_brake`) holds, each released (applied) or dismissed, or all at once. The
service decides who may (people managers of the workspace); this page only shows and asks."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import scim_brake
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
DONE = ("released", "dismissed")


def holds_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/scim/holds"


async def _page(request: Request, ctx: Context, admin: Admin, status: int = 200, **context: Any) -> Response:
    try:
        holds = await blocking(lambda: scim_brake.list_holds(ctx, admin.actor, admin.workspace_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    context.setdefault("refused", [])
    return admin.page(request, "admin_scim_holds.html", status, section="settings", holds=holds, **context)


@router.get("/admin/{workspace_id}/scim/holds", response_class=HTMLResponse)
async def holds_page(workspace_id: str, request: Request, ctx: Ctx, done: str = "", count: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    notice = {"done": done, "count": int(count)} if done in DONE and count.isdigit() and len(count) < 6 else None
    return await _page(request, ctx, admin, notice=notice)


@router.post("/admin/{workspace_id}/scim/holds/{decision}", response_class=HTMLResponse)
async def decide(workspace_id: str, decision: str, request: Request, ctx: Ctx) -> Response:
    """Release or dismiss one held change (``hold``) or every one (``all``)."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    if decision not in ("release", "dismiss"):
        return Response(status_code=404)
    async with request.form() as form:
        every = form.get("all") == "1"
        hold = str(form.get("hold") or "")[:100]
    act = scim_brake.release if decision == "release" else scim_brake.dismiss
    chosen = None if every else [hold]
    try:
        outcome = await blocking(lambda: act(ctx, admin.actor, admin.workspace_id, chosen))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None and status_of(exc) != 404:
            return refused
        return await _page(request, ctx, admin, status_of(exc), error=exc.message)
    done = "released" if decision == "release" else "dismissed"
    if outcome.refused:
        return await _page(
            request, ctx, admin, 409, notice={"done": done, "count": len(outcome.done)}, refused=outcome.refused
        )
    return RedirectResponse(f"{holds_path(admin.workspace_id)}?done={done}&count={len(outcome.done)}", status_code=303)

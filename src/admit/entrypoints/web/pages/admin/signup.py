"""Sign-up in the workspace admin console (``/admin/{ws}/signup``): the self-sign-up settings
(``MANAGE_SETTINGS``), the department sign-up links with their uses and URLs (create, pause,
resume, rotate, delete; download each link's QR code as PNG or SVG and an A4 poster as PDF) and the
approval queue (approve or reject), both ``MANAGE_PEOPLE``. The
rules are in :mod:`admit.admin.signup_settings`, :mod:`admit.admin.signup_links` and
:mod:`admit.flows.signup.self_sign_up`; this page only turns form fields into values."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import signup_links, signup_settings
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router
from admit.flows.signup import self_sign_up
from admit.i18n import negotiate, pick_language
from admit.shared.context import Context

router = Router(include_in_schema=False)
NOTICES = ("saved", "created", "paused", "resumed", "rotated", "deleted", "approved", "rejected")
LINK_ACTIONS = {
    "pause": signup_links.pause,
    "resume": signup_links.resume,
    "rotate": signup_links.rotate,
    "delete": signup_links.delete,
}


def signup_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/signup"


def _overview(ctx: Context, admin: Admin) -> dict[str, Any]:
    """What the page shows; a part the administrator may not manage is left out (None)."""
    shown: dict[str, Any] = {}
    for name, load in (
        ("settings", lambda: signup_settings.get(ctx, admin.actor, admin.workspace_id)),
        ("links", lambda: signup_links.list_links(ctx, admin.actor, admin.workspace_id)),
        ("queue", lambda: signup_settings.queue(ctx, admin.actor, admin.workspace_id)),
    ):
        try:
            shown[name] = load()
        except DomainError:
            shown[name] = None
    return shown


async def _page(admin: Admin, request: Request, ctx: Context, status: int = 200, **context: Any) -> Response:
    shown = await blocking(lambda: _overview(ctx, admin))
    if context.get("values") is not None:
        shown["settings"] = context.pop("values")
    context.setdefault("errors", {})
    context.setdefault("link_values", {})
    return admin.page(request, "admin_signup.html", status, section="signup", **shown, **context)


@router.get("/admin/{workspace_id}/signup", response_class=HTMLResponse)
async def signup_page(workspace_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return await _page(admin, request, ctx, notice=done if done in NOTICES else None)


def _cap(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) < 10 else text  # the service refuses what is not a number


async def _settings_values(request: Request) -> dict[str, Any]:
    async with request.form() as form:
        domains = str(form.get("allowed_domains") or "")[:5000].replace(",", "\n")
        return {
            "enabled": form.get("enabled") == "yes",
            "default_role": str(form.get("default_role") or "")[:20],
            "default_department": str(form.get("default_department") or "")[:200] or None,
            "default_job_profile": str(form.get("default_job_profile") or "")[:200] or None,
            "departments_pickable": [str(form.get(f"pick_{i}"))[:200] for i in range(500) if form.get(f"pick_{i}")],
            "allowed_domains": [line.strip() for line in domains.splitlines() if line.strip()],
            "approval_required": form.get("approval_required") == "yes",
            "daily_cap": _cap(str(form.get("daily_cap") or "")[:20]),
        }


@router.post("/admin/{workspace_id}/signup/settings", response_class=HTMLResponse)
async def save_settings(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    values = await _settings_values(request)
    try:
        await blocking(lambda: signup_settings.save(ctx, admin.actor, admin.workspace_id, values))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        shown = signup_settings.SignUpSettings(**values)
        return await _page(
            admin, request, ctx, status_of(exc), values=shown, errors={exc.field or "enabled": exc.message}
        )
    return RedirectResponse(f"{signup_path(admin.workspace_id)}?done=saved", status_code=303)


async def _link_values(request: Request) -> dict[str, str]:
    async with request.form() as form:
        names = ("department", "job_profile", "role", "expires_at", "max_uses")
        return {name: str(form.get(name) or "")[:200] for name in names}


@router.post("/admin/{workspace_id}/signup/links", response_class=HTMLResponse)
async def create_link(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    typed = await _link_values(request)
    try:
        given = {
            "department": typed["department"] or None,
            "job_profile": typed["job_profile"] or None,
            "role": typed["role"] or "member",
            "expires_at": signup_links.end_of_day(typed["expires_at"]),
            "max_uses": _cap(typed["max_uses"]),
        }
        await blocking(lambda: signup_links.create(ctx, admin.actor, admin.workspace_id, given))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        errors = {f"link_{exc.field or 'department'}": exc.message}
        return await _page(admin, request, ctx, status_of(exc), errors=errors, link_values=typed)
    return RedirectResponse(f"{signup_path(admin.workspace_id)}?done=created#links", status_code=303)


@router.post("/admin/{workspace_id}/signup/links/{link_id}/{action}", response_class=HTMLResponse)
async def change_link(workspace_id: str, link_id: str, action: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    change = LINK_ACTIONS.get(action)
    if change is None:
        return admin.page(request, "admin_error.html", 404, kind="not_found")
    try:
        await blocking(lambda: change(ctx, admin.actor, admin.workspace_id, link_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or await _page(
            admin, request, ctx, status_of(exc), errors={"links": exc.message}
        )
    done = {"pause": "paused", "resume": "resumed", "rotate": "rotated", "delete": "deleted"}[action]
    return RedirectResponse(f"{signup_path(admin.workspace_id)}?done={done}#links", status_code=303)


@router.get("/admin/{workspace_id}/signup/links/{link_id}/delete", response_class=HTMLResponse)
async def confirm_delete_link(workspace_id: str, link_id: str, request: Request, ctx: Ctx) -> Response:
    """Delete a link? The question, with what the link is; only its form's POST deletes."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        link = await blocking(lambda: signup_links.get(ctx, admin.actor, admin.workspace_id, link_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or await _page(
            admin, request, ctx, status_of(exc), errors={"links": exc.message}
        )
    return admin.page(request, "admin_signup_link_delete.html", section="signup", link=link)


DOWNLOADS = {"qr.png": "png", "qr.svg": "svg", "poster.pdf": "poster"}


@router.get("/admin/{workspace_id}/signup/links/{link_id}/{file}")
async def download_link_file(workspace_id: str, link_id: str, file: str, request: Request, ctx: Ctx) -> Response:
    """The link's QR code (PNG, SVG) or poster (PDF, in the administrator's language), as an
    attachment (an SVG never renders on Admit's origin), ``no-store`` (it holds the link's secret);
    the security headers add ``nosniff``. Downloading changes nothing."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    kind = DOWNLOADS.get(file)
    if kind is None:
        return admin.page(request, "admin_error.html", 404, kind="not_found")
    language = pick_language(
        admin.language, admin.workspace.get("default_language"), negotiate(request.headers.get("accept-language"))
    )
    try:
        if kind == "png":
            download = await blocking(lambda: signup_links.qr_png(ctx, admin.actor, admin.workspace_id, link_id))
        elif kind == "svg":
            download = await blocking(lambda: signup_links.qr_svg(ctx, admin.actor, admin.workspace_id, link_id))
        else:
            download = await blocking(
                lambda: signup_links.poster(ctx, admin.actor, admin.workspace_id, link_id, language)
            )
    except DomainError as exc:
        return admin.refusal(request, exc) or await _page(
            admin, request, ctx, status_of(exc), errors={"links": exc.message}
        )
    return Response(
        download.content,
        media_type=download.media_type,
        headers={"cache-control": "no-store", "content-disposition": f'attachment; filename="{download.filename}"'},
    )


@router.post("/admin/{workspace_id}/signup/requests/{request_id}/{decision}", response_class=HTMLResponse)
async def decide(workspace_id: str, request_id: str, decision: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    if decision not in ("approve", "reject"):
        return admin.page(request, "admin_error.html", 404, kind="not_found")
    act = self_sign_up.approve if decision == "approve" else self_sign_up.reject
    try:
        await blocking(lambda: act(ctx, admin.actor, admin.workspace_id, request_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or await _page(
            admin, request, ctx, status_of(exc), errors={"queue": exc.message}
        )
    done = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(f"{signup_path(admin.workspace_id)}?done={done}#queue", status_code=303)

"""The terms-of-service gate: every way into a workspace from Admit (the "Let's go" page, the
workspace switcher) passes through ``/go/{workspace}``, which sends a member who has not accepted
the newest terms to them first. Submit is enabled once the document has been downloaded and the
box ticked; the server checks both again. The download is a POST (a form's button: a GET changes
nothing) that records it in the account's terms flow on the server; the browser keeps only the
flow's handle, in a cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import Conflict, NotFound
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_account, browser_cookies, page, safe_next
from admit.entrypoints.web.pages.settings import change_first
from admit.entrypoints.web.routing import Router
from admit.entrypoints.web.security import csp_sending_forms_to, origin
from admit.flows.invitation import claims
from admit.flows.settings import password_change
from admit.flows.terms import acceptance
from admit.shared.context import Context

router = Router(include_in_schema=False)


def _sign_in_first(path: str) -> Response:
    return RedirectResponse(f"/sign-in?next={quote(path)}", status_code=303)


def _flow(request: Request) -> str | None:
    return browser_cookies(request).flow(request, "terms")


@router.get("/go/{workspace_id}")
async def enter(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Into the workspace (its app, or Admit's home), once an initial password is replaced and the
    newest terms are accepted."""
    account_id = await blocking(lambda: browser_account(ctx, request))
    if account_id is None:
        return _sign_in_first(f"/go/{workspace_id}")
    if await blocking(lambda: password_change.must_change(ctx, account_id)):
        return change_first(f"/go/{workspace_id}")  # an initial password is replaced before anything else
    try:
        pending = await blocking(lambda: acceptance.to_accept(ctx, account_id, workspace_id))
        workspace = await blocking(lambda: claims.joined_workspace(ctx, account_id, workspace_id))
    except NotFound:
        return page(request, "dead_link.html", 404, state="invalid")
    if pending is not None:
        return RedirectResponse(f"/terms/{quote(workspace_id)}", status_code=303)
    return RedirectResponse((workspace or {}).get("app_url") or "/", status_code=303)


async def _pending(request: Request, ctx: Context, workspace_id: str) -> tuple[str, dict[str, Any]] | Response:
    """The signed-in member and the terms they still have to accept, or where to send them
    instead: to sign in, into the workspace (nothing to accept), or a not-found page."""
    account_id = await blocking(lambda: browser_account(ctx, request))
    if account_id is None:
        return _sign_in_first(f"/terms/{workspace_id}")
    try:
        pending = await blocking(lambda: acceptance.to_accept(ctx, account_id, workspace_id))
    except NotFound:
        return page(request, "dead_link.html", 404, state="invalid")
    if pending is None:
        return RedirectResponse(f"/go/{quote(workspace_id)}", status_code=303)
    return account_id, pending


@router.get("/terms/{workspace_id}", response_class=HTMLResponse)
async def show(workspace_id: str, request: Request, ctx: Ctx, next: str = "") -> Response:
    """``next``: where to go once accepted (an app's authorization request), instead of the workspace."""
    found = await _pending(request, ctx, workspace_id)
    if isinstance(found, Response):
        return found
    account_id, pending = found
    return await _terms_page(request, ctx, account_id, pending, next=safe_next(next) if next else "")


async def _terms_page(
    request: Request, ctx: Context, account_id: str, pending: dict[str, Any], **extra: Any
) -> Response:
    workspace_id, version = pending["workspace_id"], pending["version"]
    downloaded = await blocking(lambda: acceptance.downloaded(ctx, account_id, workspace_id, version, _flow(request)))
    response = page(request, "terms.html", extra.pop("status", 200), terms=pending, downloaded=downloaded, **extra)
    if pending.get("app_url"):  # accepting leads into the app: the form may end on its origin
        response.headers["content-security-policy"] = csp_sending_forms_to([origin(pending["app_url"])])
    return response


@router.post("/terms/{workspace_id}/{version}/download")
async def download(workspace_id: str, version: int, request: Request, ctx: Ctx) -> Response:
    """The document, as an attachment (the page stays where it is); the download is recorded."""
    account_id = await blocking(lambda: browser_account(ctx, request))
    if account_id is None:
        return _sign_in_first(f"/terms/{workspace_id}")
    held = _flow(request)
    try:
        doc = await blocking(lambda: acceptance.record_download(ctx, account_id, workspace_id, version, held))
    except NotFound:
        return page(request, "dead_link.html", 404, state="invalid")
    ascii_name = doc["filename"].encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    media = doc["content_type"] + ("; charset=utf-8" if doc["content_type"].startswith("text/") else "")
    response = Response(
        doc["document"],
        media_type=media,
        headers={
            "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(doc['filename'])}"
        },
    )
    if doc["flow"] != held:
        browser_cookies(request).keep_flow(response, "terms", doc["flow"])
    return response


@router.post("/terms/{workspace_id}/accept", response_class=HTMLResponse)
async def accept(
    workspace_id: str,
    request: Request,
    ctx: Ctx,
    version: int = Form(0),
    agree: str = Form(""),
    next: str = Form(""),
) -> Response:
    found = await _pending(request, ctx, workspace_id)
    if isinstance(found, Response):
        return found
    account_id, pending = found
    then = safe_next(next) if next else ""
    if pending["version"] != version:
        return await _terms_page(request, ctx, account_id, pending, status=409, error="changed", next=then)
    held = _flow(request)
    if not await blocking(lambda: acceptance.downloaded(ctx, account_id, workspace_id, version, held)):
        return await _terms_page(request, ctx, account_id, pending, status=400, error="download", next=then)
    if agree != "yes":
        return await _terms_page(request, ctx, account_id, pending, status=400, error="agree", next=then)
    try:
        await blocking(lambda: acceptance.accept(ctx, account_id, workspace_id, version, held))
    except Conflict as exc:
        fresh = await blocking(lambda: acceptance.to_accept(ctx, account_id, workspace_id))
        if fresh is not None:
            if exc.code == "terms_not_downloaded":
                return await _terms_page(request, ctx, account_id, fresh, status=400, error="download", next=then)
            return await _terms_page(request, ctx, account_id, fresh, status=409, error="changed", next=then)
    return RedirectResponse(then or f"/go/{quote(workspace_id)}", status_code=303)

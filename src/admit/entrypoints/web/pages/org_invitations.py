"""An invitation to join an organization's account (issue 17): the page its email's links open
(``/org-invitations/{token}``) and the one the signed-in home links to
(``/home/org-invitations/{id}``). Both show the merge plan before the person answers; answering is
a POST. Every rule is ``admin.organization_invitations``'s: this module only shows its answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import organization_invitations as oi
from admit.domain.errors import DomainError, NotFound, SecretRejected
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_cookies, page
from admit.flows.signin import sessions

router = APIRouter(include_in_schema=False)


def _here(token: str | None, invitation_id: str | None) -> str:
    if token:
        return f"/org-invitations/{quote(token, safe='')}"
    return f"/home/org-invitations/{quote(invitation_id or '', safe='')}"


def _gone(request: Request, exc: SecretRejected) -> Response:
    """The link is over: a withdrawn invitation says so, any other ending the general words."""
    return page(request, "welcome_organization.html", 410, gone=True, withdrawn=exc.code == oi.WITHDRAWN)


async def _signed_in(request: Request, ctx: Ctx) -> tuple[str, str] | None:
    """(session token, account id) of the active account on this browser, if any."""
    token = browser_cookies(request).session(request)
    if not token:
        return None
    try:
        account_id = await blocking(lambda: sessions.authenticate_session(ctx, token))
    except DomainError:
        return None
    return token, account_id


async def _show(
    request: Request, ctx: Ctx, *, token: str | None, invitation_id: str | None, status: int = 200, **extra: Any
) -> Response:
    here = (
        f"/org-invitations/{quote(token, safe='')}"
        if token
        else f"/home/org-invitations/{quote(invitation_id or '', safe='')}"
    )
    signed_in = await _signed_in(request, ctx)
    if signed_in is None:
        if token is None:
            return RedirectResponse(f"/sign-in?next={quote(here, safe='/')}", status_code=303)
        try:
            invitation = await blocking(lambda: oi.preview(ctx, token))
        except SecretRejected as exc:
            return _gone(request, exc)
        return page(request, "welcome_organization.html", invitation=invitation, plan=None, here=here, **extra)
    _, account_id = signed_in
    try:
        invitation, plan = await blocking(
            lambda: oi.plan_for_account(ctx, account_id, invitation_id=invitation_id, token=token)
        )
    except NotFound:
        return page(request, "welcome_organization.html", 404, other_address=True, here=here)
    except SecretRejected as exc:
        return _gone(request, exc)
    answer = request.query_params.get("answer")
    return page(
        request, "welcome_organization.html", status, invitation=invitation, plan=plan, here=here,
        decline_first=answer == "decline", **extra,
    )  # fmt: skip


@router.get("/org-invitations/{token}", response_class=HTMLResponse)
async def by_link(token: str, request: Request, ctx: Ctx) -> Response:
    return await _show(request, ctx, token=token, invitation_id=None)


@router.get("/home/org-invitations/{invitation_id}", response_class=HTMLResponse)
async def by_id(invitation_id: str, request: Request, ctx: Ctx) -> Response:
    return await _show(request, ctx, token=None, invitation_id=invitation_id)


async def _answer(request: Request, ctx: Ctx, answer: str, *, token: str | None, invitation_id: str | None) -> Response:
    here = (
        f"/org-invitations/{quote(token, safe='')}"
        if token
        else f"/home/org-invitations/{quote(invitation_id or '', safe='')}"
    )
    signed_in = await _signed_in(request, ctx)
    if signed_in is None or answer not in ("accept", "decline"):
        return RedirectResponse(f"/sign-in?next={quote(here, safe='/')}", status_code=303)
    session, account_id = signed_in
    try:
        if answer == "decline":
            await blocking(lambda: oi.decline(ctx, account_id, invitation_id=invitation_id, token=token))
            return RedirectResponse("/?notice=org_declined", status_code=303)
        await blocking(lambda: oi.accept(ctx, session, invitation_id=invitation_id, token=token))
    except oi.ReauthenticationRequired:
        return RedirectResponse(f"/sign-in?next={quote(here, safe='/')}&again=1", status_code=303)
    except oi.MergeRefused as refused:
        return await _show(request, ctx, token=token, invitation_id=invitation_id, status=409, error=refused.message)
    except NotFound:
        return page(request, "welcome_organization.html", 404, other_address=True, here=here)
    except SecretRejected as exc:
        return _gone(request, exc)
    return RedirectResponse("/?notice=org_joined", status_code=303)


@router.post("/org-invitations/{token}/{answer}", response_class=HTMLResponse)
async def answer_by_link(token: str, answer: str, request: Request, ctx: Ctx) -> Response:
    return await _answer(request, ctx, answer, token=token, invitation_id=None)


@router.post("/home/org-invitations/{invitation_id}/{answer}", response_class=HTMLResponse)
async def answer_by_id(invitation_id: str, answer: str, request: Request, ctx: Ctx) -> Response:
    return await _answer(request, ctx, answer, token=None, invitation_id=invitation_id)

"""The signed-in home: pending invitations to accept or decline (the notification area), the
workspace switcher, and the account switcher for every account signed in on this browser."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import organization_invitations, overview
from admit.domain.errors import DomainError, SecretRejected
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_cookies, page, to_joined
from admit.entrypoints.web.pages.settings import change_first
from admit.entrypoints.web.routing import Router
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.shared.context import Context

router = Router(include_in_schema=False)


def _accounts(ctx: Context, tokens: list[str]) -> list[tuple[str, str]]:
    """(token, account id) for each session of this browser that is still valid, active first."""
    valid = []
    for token in tokens:
        try:
            valid.append((token, sessions.authenticate_session(ctx, token, initial_password_ok=True)))
        except SecretRejected:
            continue
    return valid


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, ctx: Ctx) -> Response:
    tokens = browser_cookies(request).sessions(request)

    def facts() -> tuple[list[tuple[str, str]], dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        accounts = _accounts(ctx, tokens)
        if not accounts:
            return accounts, None, [], []
        others = [{"identifiers": claims.account_emails(ctx, account_id)} for _, account_id in accounts[1:]]
        return accounts, claims.home(ctx, accounts[0][1]), others, overview.administered(ctx, accounts[0][1])

    accounts, mine, others, administered = await blocking(facts)
    if mine is None:
        return page(request, "landing.html")
    if mine["account"].must_change_password:  # an initial password from an import
        return change_first("/")
    # Issue 17: invitations to join an organization's account (pages/org_invitations.py answers them).
    org_invitations = await blocking(lambda: organization_invitations.pending_for_account(ctx, accounts[0][1]))
    response = page(
        request,
        "home.html",
        **mine,
        org_invitations=org_invitations,
        others=others,
        administered=administered,
        notice=request.query_params.get("notice"),
    )
    if len(accounts) != len(tokens):  # forget sessions that ended elsewhere
        browser_cookies(request).keep_sessions(response, [token for token, _ in accounts])
    return response


@router.get("/home/invitations/{invitation_id}/decline", response_class=HTMLResponse)
async def confirm_decline(invitation_id: str, request: Request, ctx: Ctx) -> Response:
    """Declining asks first (a GET changes nothing): the invitation, and what declining does."""
    token = browser_cookies(request).session(request)
    accounts = await blocking(lambda: _accounts(ctx, [token] if token else []))
    if not accounts:
        return RedirectResponse(f"/sign-in?next=/home/invitations/{quote(invitation_id)}/decline", status_code=303)
    account_id = accounts[0][1]
    pending = await blocking(lambda: claims.pending_for_account(ctx, account_id))
    invitation = next((each for each in pending if each.id == invitation_id), None)
    if invitation is None:
        return RedirectResponse("/?notice=gone", status_code=303)
    return page(request, "decline_confirm.html", invitation=invitation)


@router.post("/home/invitations/{invitation_id}/{answer}", response_class=HTMLResponse)
async def answer(invitation_id: str, answer: str, request: Request, ctx: Ctx) -> Response:
    token = browser_cookies(request).session(request)
    accounts = await blocking(lambda: _accounts(ctx, [token] if token else []))
    if not accounts or answer not in ("accept", "decline"):
        return RedirectResponse("/sign-in?next=/", status_code=303)
    account_id = accounts[0][1]
    try:
        if answer == "accept":
            result = await blocking(lambda: claims.accept_for_account(ctx, account_id, invitation_id))
            return to_joined(request, result["workspace_id"])
        await blocking(lambda: claims.decline_for_account(ctx, account_id, invitation_id))
    except DomainError:
        return RedirectResponse("/?notice=gone", status_code=303)
    return RedirectResponse("/?notice=declined", status_code=303)


@router.post("/switch-account", response_class=HTMLResponse)
async def switch(request: Request, position: int = Form(0)) -> Response:
    tokens = browser_cookies(request).sessions(request)
    response = RedirectResponse("/", status_code=303)
    if 0 <= position < len(tokens):
        browser_cookies(request).keep_sessions(
            response, [tokens[position], *tokens[:position], *tokens[position + 1 :]]
        )
    return response

"""An invitation to join an organization's account (issue 17): the page its email's links open
(``/org-invitations/{token}``) and the one the signed-in home links to
(``/home/org-invitations/{id}``). Both show the merge plan before the person answers; answering is
a POST. Someone whose address has no account creates one from the link (the link proves the
address) and joins in the same step; declining needs no account. The page speaks the signed-in
person's language, else the invitation's. Every rule is ``admin.organization_invitations``'s:
this module only shows its answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import organization_invitations as oi
from admit.domain.errors import Conflict, DomainError, NotFound, PermissionDenied, SecretRejected, ValidationFailed
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.common import browser_cookies, page, password_rules
from admit.entrypoints.web.routing import Router
from admit.flows.signin import sessions

router = Router(include_in_schema=False)


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
    here = _here(token, invitation_id)
    signed_in = await _signed_in(request, ctx)
    answer = request.query_params.get("answer")
    if signed_in is None:
        if token is None:
            return RedirectResponse(f"/sign-in?next={quote(here, safe='/')}", status_code=303)
        try:
            facts = await blocking(lambda: oi.link_facts(ctx, token))
        except SecretRejected as exc:
            return _gone(request, exc)
        new_account = {} if facts.has_account else {"new_account": True, **password_rules(facts.password_policy)}
        return page(
            request, "welcome_organization.html", status, invitation=facts.invitation, plan=facts.plan, here=here,
            ui_language=facts.invitation.language, password_allowed=facts.password_allowed,
            decline_first=answer == "decline", **new_account, **extra,
        )  # fmt: skip
    _, account_id = signed_in
    try:
        invitation, plan = await blocking(
            lambda: oi.plan_for_account(ctx, account_id, invitation_id=invitation_id, token=token)
        )
    except NotFound:
        return page(request, "welcome_organization.html", 404, other_address=True, here=here)
    except SecretRejected as exc:
        return _gone(request, exc)
    language = await blocking(lambda: oi.reader_language(ctx, account_id))
    return page(
        request, "welcome_organization.html", status, invitation=invitation, plan=plan, here=here,
        decline_first=answer == "decline", account={"language": language}, ui_language=invitation.language,
        **extra,
    )  # fmt: skip


@router.get("/org-invitations/{token}", response_class=HTMLResponse)
async def by_link(token: str, request: Request, ctx: Ctx) -> Response:
    return await _show(request, ctx, token=token, invitation_id=None)


@router.get("/home/org-invitations/{invitation_id}", response_class=HTMLResponse)
async def by_id(invitation_id: str, request: Request, ctx: Ctx) -> Response:
    return await _show(request, ctx, token=None, invitation_id=invitation_id)


async def _answer(request: Request, ctx: Ctx, answer: str, *, token: str | None, invitation_id: str | None) -> Response:
    here = _here(token, invitation_id)
    signed_in = await _signed_in(request, ctx)
    if signed_in is None and token is not None and answer == "decline":
        try:
            invitation = await blocking(lambda: oi.decline_by_link(ctx, token))
        except SecretRejected as exc:
            return _gone(request, exc)
        return page(
            request, "welcome_organization.html", declined=True, invitation=invitation, ui_language=invitation.language
        )
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
        return await _show(request, ctx, token=token, invitation_id=invitation_id, status=409, error=refused)
    except NotFound:
        return page(request, "welcome_organization.html", 404, other_address=True, here=here)
    except SecretRejected as exc:
        return _gone(request, exc)
    return RedirectResponse("/?notice=org_joined", status_code=303)


@router.post("/org-invitations/{token}/create", response_class=HTMLResponse)
async def create_account(
    token: str,
    request: Request,
    ctx: Ctx,
    password: str = Form(""),
    first_name: str = Form(""),
    last_name: str = Form(""),
) -> Response:
    """Create the invited address's account with this password, join, and sign in (the service
    refuses an address that has an account: that person is asked to sign in, as the link says)."""
    try:
        result = await blocking(
            lambda: oi.accept_as_new_account(
                ctx, token, password, first_name=first_name[:200] or None, last_name=last_name[:200] or None
            )
        )
    except SecretRejected as exc:
        return _gone(request, exc)
    except oi.MergeRefused as refused:
        return await _show(request, ctx, token=token, invitation_id=None, status=409, error=refused)
    except Conflict as exc:  # sign_in_required: the page the link shows a person with an account
        return await _show(request, ctx, token=token, invitation_id=None, status=status_of(exc))
    except (ValidationFailed, PermissionDenied) as exc:
        return await _show(
            request, ctx, token=token, invitation_id=None, status=status_of(exc), error=exc,
            first_name=first_name[:200], last_name=last_name[:200],
        )  # fmt: skip
    response = RedirectResponse("/?notice=org_joined", status_code=303)
    browser_cookies(request).start_session(response, result.session, request)
    return response


@router.post("/org-invitations/{token}/{answer}", response_class=HTMLResponse)
async def answer_by_link(token: str, answer: str, request: Request, ctx: Ctx) -> Response:
    return await _answer(request, ctx, answer, token=token, invitation_id=None)


@router.post("/home/org-invitations/{invitation_id}/{answer}", response_class=HTMLResponse)
async def answer_by_id(invitation_id: str, answer: str, request: Request, ctx: Ctx) -> Response:
    return await _answer(request, ctx, answer, token=None, invitation_id=invitation_id)

"""The invitation's pages: the link, the welcome page in each of its modes, accept, decline, claim
(choose a password), ask for a new invitation, and the joined page. The link's token moves from the
URL into a signed cookie on first load, and nothing here changes state on GET: mail scanners may
open links as often as they like."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import (
    Conflict,
    DomainError,
    InvalidCredentials,
    PermissionDenied,
    SecretRejected,
    TooManyAttempts,
    ValidationFailed,
    WeakPassword,
)
from admit.entrypoints.web.deps import Ctx, blocking, context_of, run_work
from admit.entrypoints.web.pages.common import (
    browser_account,
    browser_cookies,
    into_workspace,
    page,
    password_rules,
)
from admit.entrypoints.web.pages.signup import sign_up_progress
from admit.entrypoints.web.routing import Router
from admit.flows.invitation import claims, reinvite
from admit.flows.signin import sessions
from admit.flows.terms import acceptance
from admit.shared.context import Context

router = Router(include_in_schema=False)


@router.api_route("/i/{token}", methods=["GET", "HEAD"])
async def invitation_link(token: str, request: Request) -> Response:
    """Keep the token in a signed cookie and continue on a URL without it."""
    response = RedirectResponse("/welcome", status_code=303)
    browser_cookies(request).hold_invitation(response, token)
    return response


@router.page("/welcome")
async def welcome(request: Request) -> Response:
    ctx = context_of(request)
    token = browser_cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")
    state, info, account_id = await run_work(ctx, lambda: _welcome_facts(ctx, request, token), quick=True)
    if state != "pending":
        return page(request, "dead_link.html", 404 if state == "invalid" else 410, state=state, **info)
    if account_id is not None:
        if info.get("signed_in_as") is not None:  # another account is signed in: say so before any button
            return page(request, "welcome_wrong_account.html", **info)
        return page(request, "welcome_confirm.html", **info)
    if info["mode"] == "sign_in":
        return page(request, "welcome_sign_in.html", **info)
    if info["mode"] == "sso":  # the workspace lets people in through its identity providers only
        return page(request, "welcome_sso.html", **info)
    if info["mode"] in SIGN_UP and info["verification"] != "verified":
        first = "welcome_choose.html" if info["mode"] == "choose" else "welcome_sign_up.html"
        return page(request, "welcome_verify.html" if info["verification"] else first, **info)
    return page(request, "welcome_claim.html", **info, **password_rules(info["workspace"]["password_policy"]))


SIGN_UP = claims.SIGN_UP  # "choose": the person's account uses a provider this workspace does not allow


def _welcome_facts(ctx: Context, request: Request, token: str) -> tuple[str, dict[str, Any], str | None]:
    state, languages, info = claims.welcome_facts(ctx, token)
    if state != "pending" or info is None:
        return state if state != "pending" else "invalid", languages, None
    info["verification"] = sign_up_progress(ctx, request, info) if info["mode"] in SIGN_UP else None
    account_id = browser_account(ctx, request)
    invited = info["invitation"]
    if account_id is not None and not claims.addressed_to(ctx, account_id, invited.email, invited.phone):
        info["signed_in_as"] = claims.account_emails(ctx, account_id)
    return state, info, account_id


@router.post("/welcome/claim", response_class=HTMLResponse)
async def claim(
    request: Request, ctx: Ctx, password: str = Form(""), first_name: str = Form(""), last_name: str = Form("")
) -> Response:
    token = browser_cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")

    def work() -> dict[str, Any]:
        return claims.claim_and_sign_in(
            ctx,
            token,
            password=password,
            first_name=first_name,
            last_name=last_name,
            sign_up_flow=browser_cookies(request).flow(request, "signup"),
        )

    try:
        result = await blocking(work)
    except (WeakPassword, ValidationFailed) as exc:
        info = await blocking(lambda: claims.inspect_token(ctx, token))
        errors = exc.failures if isinstance(exc, WeakPassword) else [exc.message]
        return page(
            request,
            "welcome_claim.html",
            422,
            errors=errors,
            first_name=first_name,
            last_name=last_name,
            **info,
            **password_rules(info["workspace"]["password_policy"]),
        )
    except (SecretRejected, Conflict, PermissionDenied):
        return RedirectResponse("/welcome", status_code=303)  # e.g. not verified yet, or the workspace now requires SSO
    response = await into_workspace(request, ctx, result, result["session"])
    browser_cookies(request).drop(response, "signup")
    return response


@router.post("/welcome/accept", response_class=HTMLResponse)
async def accept(request: Request, ctx: Ctx) -> Response:
    token = browser_cookies(request).invitation(request)
    account_id = await blocking(lambda: browser_account(ctx, request))
    if token is None or account_id is None:
        return RedirectResponse("/welcome", status_code=303)
    try:
        result = await blocking(lambda: claims.accept_with_token(ctx, token, account_id=account_id))
    except Conflict as exc:
        if exc.code != "wrong_account":
            return RedirectResponse("/welcome", status_code=303)
        facts = await blocking(lambda: (claims.inspect_token(ctx, token), claims.account_emails(ctx, account_id)))
        return page(request, "welcome_wrong_account.html", 409, **facts[0], signed_in_as=facts[1])
    except SecretRejected:
        return RedirectResponse("/welcome", status_code=303)
    except PermissionDenied as exc:  # the workspace does not allow this account's login method
        info = await blocking(lambda: claims.inspect_token(ctx, token))
        return page(
            request,
            "welcome_sso.html" if info["mode"] == "sso" else "welcome_choose.html",
            403,
            refused=exc.code,
            **info,
        )
    return await into_workspace(request, ctx, result)


@router.post("/welcome/sign-in", response_class=HTMLResponse)
async def sign_in_and_join(
    request: Request, ctx: Ctx, identifier: str = Form(""), password: str = Form("")
) -> Response:
    """The invited address's account signs in and joins in one step (it signed in to accept)."""
    token = browser_cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")

    def again(status: int, **shown: Any) -> Response:
        try:
            info = claims.inspect_token(ctx, token)
        except DomainError:  # the link ended meanwhile: the welcome page says how
            return RedirectResponse("/welcome", status_code=303)
        return page(request, "welcome_sign_in.html", status, **info, **shown)

    try:
        session, account = await blocking(lambda: sessions.sign_in(ctx, identifier, password))
    except InvalidCredentials:
        return await blocking(lambda: again(401, error=True))
    except PermissionDenied:  # a member of a workspace requiring SSO, after the right password
        return await blocking(lambda: again(403, sso_required=True))
    except TooManyAttempts as exc:
        wait = exc.retry_after
        throttled = await blocking(lambda: again(429, wait=wait))
        throttled.headers["Retry-After"] = str(wait)
        return throttled
    except (SecretRejected, Conflict):
        return RedirectResponse("/welcome", status_code=303)
    if account.must_change_password:  # an initial password from an import: replace it first
        response: Response = RedirectResponse("/change-password?next=/welcome", status_code=303)
    else:
        try:
            joined = await blocking(lambda: claims.accept_with_token(ctx, token, account_id=account.id))
            response = await into_workspace(request, ctx, joined)
        except DomainError:  # another account's address, a policy refusal, a link gone meanwhile
            response = RedirectResponse("/welcome", status_code=303)  # the page says which
    browser_cookies(request).start_session(response, session, request)
    return response


@router.post("/welcome/decline", response_class=HTMLResponse)
async def decline(request: Request, ctx: Ctx) -> Response:
    token = browser_cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")
    try:
        invitation = await blocking(lambda: claims.inspect_token(ctx, token))
        await blocking(lambda: claims.decline_with_token(ctx, token))
    except (SecretRejected, Conflict):
        return RedirectResponse("/welcome", status_code=303)
    response = page(request, "declined.html", **invitation)
    browser_cookies(request).drop_invitation(response)
    return response


@router.post("/welcome/ask-again", response_class=HTMLResponse)
async def ask_again(request: Request, ctx: Ctx) -> Response:
    """Ask for a new invitation from an expired link: the page says who was told, or whom to
    contact when nobody can be (a link that is not an expired invitation learns nothing)."""
    token = browser_cookies(request).invitation(request)
    languages: dict[str, Any] = {}
    told = reinvite.Asked.UNKNOWN
    if token is not None:
        told = await blocking(lambda: reinvite.ask_for_new_invitation(ctx, token))
        _, languages = await blocking(lambda: claims.link_state(ctx, token))
    return page(request, "asked_again.html", told=told.value, **languages)


@router.get("/joined/{workspace_id}", response_class=HTMLResponse)
async def joined(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    account_id = await blocking(lambda: browser_account(ctx, request))
    if account_id is None:
        return RedirectResponse("/sign-in", status_code=303)
    workspace = await blocking(lambda: claims.joined_workspace(ctx, account_id, workspace_id))
    if workspace is None:
        return page(request, "dead_link.html", 404, state="invalid")
    if await blocking(lambda: acceptance.to_accept(ctx, account_id, workspace_id)) is not None:
        return RedirectResponse(f"/terms/{quote(workspace_id)}", status_code=303)  # the terms come first
    return page(
        request,
        "joined.html",
        workspace=workspace,
        member={"language": workspace["member_language"]},
        account={"language": workspace["account_language"]},
    )

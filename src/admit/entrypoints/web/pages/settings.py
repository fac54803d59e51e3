"""The account's own settings. Change password: an account created by an import with an initial
one-time password must choose its own before anything else (after signing in, on the home page,
on the way into a workspace and on the admin pages); anyone signed in may change theirs here too.
Add an email address (``/settings/email``) or a phone number (``/settings/phone``), each verified
by a code sent to it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import overview
from admit.admin.overview import SignedIn
from admit.domain.errors import (
    Conflict,
    InvalidCode,
    InvalidCredentials,
    NotFound,
    SecretRejected,
    TooManyAttempts,
    ValidationFailed,
    WeakPassword,
)
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_account, browser_cookies, page, safe_next
from admit.entrypoints.web.routing import Router
from admit.flows.settings import emails, new_identifier, password_change, phones
from admit.shared.context import Context

router = Router(include_in_schema=False)


def change_first(next_path: str) -> Response:
    return RedirectResponse(f"/change-password?next={quote(safe_next(next_path), safe='/')}", status_code=303)


def _form(request: Request, me: SignedIn, status: int = 200, **context: Any) -> HTMLResponse:
    policy = password_change.policy()
    return page(
        request,
        "change_password.html",
        status,
        policy=policy,
        rules=policy.rules(),
        required=me.must_change_password,
        member={"language": me.language},
        **context,
    )


def _signed_in(ctx: Context, request: Request) -> SignedIn | None:
    account_id = browser_account(ctx, request, initial_password_ok=True)
    try:
        return None if account_id is None else overview.signed_in(ctx, account_id)
    except NotFound:
        return None


def _sign_in_first(next_path: str) -> Response:
    target = f"/change-password?next={quote(next_path, safe='/')}"
    return RedirectResponse(f"/sign-in?next={quote(target, safe='/')}", status_code=303)


@router.get("/change-password", response_class=HTMLResponse)
async def form(request: Request, ctx: Ctx, next: str = "/") -> Response:
    me = await blocking(lambda: _signed_in(ctx, request))
    if me is None:
        return _sign_in_first(safe_next(next))
    return _form(request, me, next=safe_next(next))


@router.post("/change-password", response_class=HTMLResponse)
async def change(
    request: Request,
    ctx: Ctx,
    current_password: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    target = safe_next(next)
    tokens = browser_cookies(request).sessions(request)
    me = await blocking(lambda: _signed_in(ctx, request))
    if me is None or me.actor.id is None:
        return _sign_in_first(target)
    account_id = me.actor.id
    try:
        session = await blocking(lambda: password_change.change_password(ctx, account_id, current_password, password))
    except InvalidCredentials:
        return _form(request, me, 401, next=target, error="current")
    except WeakPassword as exc:
        return _form(request, me, 422, next=target, errors=exc.failures)
    except ValidationFailed as exc:
        return _form(request, me, 422, next=target, errors=[exc.message])
    except TooManyAttempts as exc:
        throttled = _form(request, me, 429, next=target, wait=exc.retry_after)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    response = RedirectResponse(target, status_code=303)
    browser_cookies(request).keep_sessions(response, [session, *tokens[1:]])  # the old session has ended
    return response


# Adding an email address to one's account (the rules: ``admit.flows.settings.emails``).
ADD_EMAIL = "add_email"


def _email_page(request: Request, me: SignedIn, pending: str | None, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page(request, "add_email.html", status, pending=pending, **context)


async def _email_state(request: Request, ctx: Context) -> tuple[SignedIn | None, str | None]:
    """The signed-in person and the address awaiting its code (None: none)."""
    me = await blocking(lambda: _signed_in(ctx, request))
    if me is None or me.actor.id is None:
        return None, None
    account_id = me.actor.id
    handle = browser_cookies(request).flow(request, ADD_EMAIL)
    return me, await blocking(lambda: emails.pending(ctx, account_id, handle))


def _sign_in_for_email() -> Response:
    return RedirectResponse(f"/sign-in?next={quote('/settings/email', safe='')}", status_code=303)


@router.get("/settings/email", response_class=HTMLResponse)
async def email_form(request: Request, ctx: Ctx, done: str = "") -> Response:
    me, pending = await _email_state(request, ctx)
    if me is None:
        return _sign_in_for_email()
    account_id = me.actor.id or ""
    held = await blocking(lambda: new_identifier.identifiers(ctx, account_id))
    return _email_page(request, me, pending, added=done == "added", identifiers=held)


@router.post("/settings/email", response_class=HTMLResponse)
async def send_email_code(request: Request, ctx: Ctx, email: str = Form("")) -> Response:
    me, _ = await _email_state(request, ctx)
    if me is None or me.actor.id is None:
        return _sign_in_for_email()
    account_id = me.actor.id
    held = browser_cookies(request).flow(request, ADD_EMAIL)
    values = {"email": email[:400]}
    try:
        handle = await blocking(lambda: emails.start(ctx, account_id, email[:400], replaces=held))
    except ValidationFailed as exc:
        return _email_page(request, me, None, 422, values=values, errors={"email": exc.message})
    except TooManyAttempts as exc:
        throttled = _email_page(request, me, None, 429, values=values, wait=exc.retry_after)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    response = RedirectResponse("/settings/email", status_code=303)
    browser_cookies(request).keep_flow(response, ADD_EMAIL, handle)
    return response


@router.post("/settings/email/code", response_class=HTMLResponse)
async def confirm_email(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    me, pending = await _email_state(request, ctx)
    if me is None or me.actor.id is None:
        return _sign_in_for_email()
    account_id = me.actor.id
    handle = browser_cookies(request).flow(request, ADD_EMAIL)
    try:
        await blocking(lambda: emails.confirm(ctx, account_id, handle, code[:20]))
    except InvalidCode as exc:
        return _email_page(request, me, pending, 422, errors={"code": "invalid"}, attempts_left=exc.attempts_left)
    except SecretRejected:
        return _email_page(request, me, None, 410, errors={"email": "expired"})
    except Conflict as exc:
        response = _email_page(request, me, None, 409, errors={"email": exc.message})
        browser_cookies(request).drop(response, ADD_EMAIL)
        return response
    response = RedirectResponse("/settings/email?done=added", status_code=303)
    browser_cookies(request).drop(response, ADD_EMAIL)
    return response


# Adding a phone number to one's account (the rules: ``admit.flows.settings.phones``).
ADD_PHONE = "add_phone"


def _phone_page(request: Request, me: SignedIn, pending: str | None, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page(request, "add_phone.html", status, pending=pending, **context)


async def _phone_state(request: Request, ctx: Context) -> tuple[SignedIn | None, str | None]:
    """The signed-in person and the number awaiting its code (None: none)."""
    me = await blocking(lambda: _signed_in(ctx, request))
    if me is None or me.actor.id is None:
        return None, None
    account_id = me.actor.id
    handle = browser_cookies(request).flow(request, ADD_PHONE)
    return me, await blocking(lambda: phones.pending(ctx, account_id, handle))


def _sign_in_for_phone() -> Response:
    return RedirectResponse(f"/sign-in?next={quote('/settings/phone', safe='')}", status_code=303)


@router.get("/settings/phone", response_class=HTMLResponse)
async def phone_form(request: Request, ctx: Ctx, done: str = "") -> Response:
    me, pending = await _phone_state(request, ctx)
    if me is None:
        return _sign_in_for_phone()
    account_id = me.actor.id or ""
    held = await blocking(lambda: new_identifier.identifiers(ctx, account_id))
    return _phone_page(request, me, pending, added=done == "added", identifiers=held)


@router.post("/settings/phone", response_class=HTMLResponse)
async def send_phone_code(request: Request, ctx: Ctx, phone: str = Form("")) -> Response:
    me, _ = await _phone_state(request, ctx)
    if me is None or me.actor.id is None:
        return _sign_in_for_phone()
    account_id = me.actor.id
    held = browser_cookies(request).flow(request, ADD_PHONE)
    values = {"phone": phone[:100]}
    try:
        handle = await blocking(lambda: phones.start(ctx, account_id, phone[:100], replaces=held))
    except ValidationFailed as exc:
        return _phone_page(request, me, None, 422, values=values, errors={"phone": exc.message})
    except TooManyAttempts as exc:
        throttled = _phone_page(request, me, None, 429, values=values, wait=exc.retry_after)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    response = RedirectResponse("/settings/phone", status_code=303)
    browser_cookies(request).keep_flow(response, ADD_PHONE, handle)
    return response


@router.post("/settings/phone/code", response_class=HTMLResponse)
async def confirm_phone(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    me, pending = await _phone_state(request, ctx)
    if me is None or me.actor.id is None:
        return _sign_in_for_phone()
    account_id = me.actor.id
    handle = browser_cookies(request).flow(request, ADD_PHONE)
    try:
        await blocking(lambda: phones.confirm(ctx, account_id, handle, code[:20]))
    except InvalidCode as exc:
        return _phone_page(request, me, pending, 422, errors={"code": "invalid"}, attempts_left=exc.attempts_left)
    except SecretRejected:
        return _phone_page(request, me, None, 410, errors={"phone": "expired"})
    except Conflict as exc:
        response = _phone_page(request, me, None, 409, errors={"phone": exc.message})
        browser_cookies(request).drop(response, ADD_PHONE)
        return response
    response = RedirectResponse("/settings/phone?done=added", status_code=303)
    browser_cookies(request).drop(response, ADD_PHONE)
    return response

"""The account's own settings. Change password: an account created by an import with an initial
one-time password must choose its own before anything else (after signing in, on the home page,
on the way into a workspace and on the admin pages); anyone signed in may change theirs here too.
Add an email address (``/settings/email``) or a phone number (``/settings/phone``), each verified
by a code sent to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


# Adding an email address or a phone number to one's account: the same pages for both (the rules:
# ``admit.flows.settings.new_identifier``, with ``emails`` and ``phones`` reading what is typed).
@dataclass(frozen=True)
class _Adding:
    path: str
    flow: str  # the flow cookie's name in ``FLOW_COOKIES``
    template: str
    kind: new_identifier.Kind  # its ``identifier`` is also the form field's name
    limit: int  # characters of the typed value passed on
    start: Callable[..., str]  # ``emails.start`` or ``phones.start``: reads the typed value, sends the code

    @property
    def field(self) -> str:
        return self.kind.identifier


ADD_EMAIL = _Adding("/settings/email", "add_email", "add_email.html", emails.KIND, 400, emails.start)
ADD_PHONE = _Adding("/settings/phone", "add_phone", "add_phone.html", phones.KIND, 100, phones.start)


def _adding_page(adding: _Adding, request: Request, pending: str | None, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page(request, adding.template, status, pending=pending, **context)


async def _adding_state(adding: _Adding, request: Request, ctx: Context) -> tuple[SignedIn | None, str | None]:
    """The signed-in person and the identifier awaiting its code (None: none)."""
    me = await blocking(lambda: _signed_in(ctx, request))
    if me is None or me.actor.id is None:
        return None, None
    account_id = me.actor.id
    handle = browser_cookies(request).flow(request, adding.flow)
    return me, await blocking(lambda: new_identifier.pending(ctx, adding.kind, account_id, handle))


def _sign_in_for(adding: _Adding) -> Response:
    return RedirectResponse(f"/sign-in?next={quote(adding.path, safe='')}", status_code=303)


async def _adding_form(adding: _Adding, request: Request, ctx: Context, done: str) -> Response:
    me, pending = await _adding_state(adding, request, ctx)
    if me is None or me.actor.id is None:
        return _sign_in_for(adding)
    account_id = me.actor.id
    held = await blocking(lambda: new_identifier.identifiers(ctx, account_id))
    return _adding_page(adding, request, pending, added=done == "added", identifiers=held)


async def _send_code(adding: _Adding, request: Request, ctx: Context, typed: str) -> Response:
    me, _ = await _adding_state(adding, request, ctx)
    if me is None or me.actor.id is None:
        return _sign_in_for(adding)
    account_id = me.actor.id
    held = browser_cookies(request).flow(request, adding.flow)
    value = typed[: adding.limit]
    values = {adding.field: value}
    try:
        handle = await blocking(lambda: adding.start(ctx, account_id, value, replaces=held))
    except ValidationFailed as exc:
        return _adding_page(adding, request, None, 422, values=values, errors={adding.field: exc.message})
    except TooManyAttempts as exc:
        throttled = _adding_page(adding, request, None, 429, values=values, wait=exc.retry_after)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    response = RedirectResponse(adding.path, status_code=303)
    browser_cookies(request).keep_flow(response, adding.flow, handle)
    return response


async def _confirm_code(adding: _Adding, request: Request, ctx: Context, code: str) -> Response:
    me, pending = await _adding_state(adding, request, ctx)
    if me is None or me.actor.id is None:
        return _sign_in_for(adding)
    account_id = me.actor.id
    handle = browser_cookies(request).flow(request, adding.flow)
    try:
        await blocking(lambda: new_identifier.confirm(ctx, adding.kind, account_id, handle, code[:20]))
    except InvalidCode as exc:
        return _adding_page(adding, request, pending, 422, errors={"code": "invalid"}, attempts_left=exc.attempts_left)
    except SecretRejected:
        return _adding_page(adding, request, None, 410, errors={adding.field: "expired"})
    except Conflict as exc:
        response = _adding_page(adding, request, None, 409, errors={adding.field: exc.message})
        browser_cookies(request).drop(response, adding.flow)
        return response
    response = RedirectResponse(f"{adding.path}?done=added", status_code=303)
    browser_cookies(request).drop(response, adding.flow)
    return response


@router.get("/settings/email", response_class=HTMLResponse)
async def email_form(request: Request, ctx: Ctx, done: str = "") -> Response:
    return await _adding_form(ADD_EMAIL, request, ctx, done)


@router.post("/settings/email", response_class=HTMLResponse)
async def send_email_code(request: Request, ctx: Ctx, email: str = Form("")) -> Response:
    return await _send_code(ADD_EMAIL, request, ctx, email)


@router.post("/settings/email/code", response_class=HTMLResponse)
async def confirm_email(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    return await _confirm_code(ADD_EMAIL, request, ctx, code)


@router.get("/settings/phone", response_class=HTMLResponse)
async def phone_form(request: Request, ctx: Ctx, done: str = "") -> Response:
    return await _adding_form(ADD_PHONE, request, ctx, done)


@router.post("/settings/phone", response_class=HTMLResponse)
async def send_phone_code(request: Request, ctx: Ctx, phone: str = Form("")) -> Response:
    return await _send_code(ADD_PHONE, request, ctx, phone)


@router.post("/settings/phone/code", response_class=HTMLResponse)
async def confirm_phone(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    return await _confirm_code(ADD_PHONE, request, ctx, code)

"""Self-sign-up pages: the form behind a workspace's "Create one now!" (``/sign-up?workspace=``)
and behind a department link (``/join/<token>``), then one page for the next step (the code, the
password, or what became of the request). The browser keeps only the request's handle; every
rule is in :mod:`admit.flows.signup.self_sign_up`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import (
    Conflict,
    DomainError,
    InvalidCode,
    SecretRejected,
    TooManyAttempts,
    ValidationFailed,
)
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.common import browser_account, browser_cookies, page, to_joined
from admit.entrypoints.web.routing import Router
from admit.flows.signup import self_sign_up
from admit.i18n import negotiate

router = Router(include_in_schema=False)
FLOW = "self_signup"
FIELDS = ("first_name", "last_name", "email", "username", "phone", "department")
STEP = "/sign-up/next"


def _closed(request: Request, exc: DomainError) -> HTMLResponse:
    """The friendly page for a form or link that does not work (paused, expired, used up …)."""
    reason = exc.code if isinstance(exc, SecretRejected) else "signup_closed"
    return page(request, "sign_up_closed.html", 410 if reason.startswith("link_") else 404, reason=reason)


def _here(workspace_id: str | None, token: str | None) -> str:
    """This form's own path: where the sign-in comes back to, and what its forms post to."""
    return f"/join/{quote(token, safe='')}" if token else f"/sign-up?workspace={quote(workspace_id or '', safe='')}"


async def _form(
    request: Request, ctx: Ctx, workspace_id: str | None, token: str | None, status: int = 200, **context: Any
) -> Response:
    account_id = await blocking(lambda: browser_account(ctx, request))
    if account_id is not None:  # signed in: "Join <workspace> as <name>", never the new-account form
        return await _join_as(request, ctx, account_id, workspace_id, token, status, **context)
    try:
        form = await blocking(lambda: self_sign_up.form(ctx, workspace_id=workspace_id, link_token=token))
    except DomainError as exc:
        return _closed(request, exc)
    action = _here(form.workspace_id if token is None else None, token)
    sign_in = f"/sign-in?next={quote(action, safe='')}"
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page(request, "sign_up_form.html", status, form=form, action=action, sign_in=sign_in, **context)


async def _join_as(
    request: Request,
    ctx: Ctx,
    account_id: str,
    workspace_id: str | None,
    token: str | None,
    status: int = 200,
    **context: Any,
) -> Response:
    try:
        offer = await blocking(
            lambda: self_sign_up.join_offer(ctx, account_id, workspace_id=workspace_id, link_token=token)
        )
    except DomainError as exc:
        return _closed(request, exc)
    here = _here(offer.form.workspace_id if token is None else None, token)
    action = (
        f"/join/{quote(token, safe='')}/account"
        if token
        else f"/sign-up/account?workspace={quote(offer.form.workspace_id, safe='')}"
    )
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page(request, "sign_up_join.html", status, offer=offer, action=action, here=here, **context)


async def _join(request: Request, ctx: Ctx, workspace_id: str | None, token: str | None) -> Response:
    """The signed-in account joins (the rules: ``self_sign_up.join_with_account``)."""
    account_id = await blocking(lambda: browser_account(ctx, request))
    if account_id is None:
        return RedirectResponse(f"/sign-in?next={quote(_here(workspace_id, token), safe='')}", status_code=303)
    async with request.form() as form:
        department = str(form.get("department") or "")[:400]
    try:
        done = await blocking(
            lambda: self_sign_up.join_with_account(
                ctx, account_id, workspace_id=workspace_id, link_token=token, department=department
            )
        )
    except (ValidationFailed, Conflict) as exc:  # a field, or someone in the directory already
        field = "department" if exc.field == "department" else "form"
        values = {"department": department}
        return await _join_as(
            request, ctx, account_id, workspace_id, token, status_of(exc), values=values, errors={field: exc.message}
        )
    except DomainError as exc:
        return _closed(request, exc)
    if done["status"] == "active":
        return to_joined(request, done["workspace_id"])
    return page(request, "sign_up_joined.html", 200, outcome=done["status"], workspace_name=done["workspace_name"])


@router.get("/sign-up", response_class=HTMLResponse)
async def sign_up_form(request: Request, ctx: Ctx, workspace: str = "") -> Response:
    return await _form(request, ctx, workspace[:64], None)


@router.get("/join/{token}", response_class=HTMLResponse)
async def join_form(token: str, request: Request, ctx: Ctx) -> Response:
    response = await _form(request, ctx, None, token[:300])
    response.headers["referrer-policy"] = "no-referrer"
    return response


@router.post("/sign-up/account", response_class=HTMLResponse)
async def join_form_with_account(request: Request, ctx: Ctx, workspace: str = "") -> Response:
    return await _join(request, ctx, workspace[:64], None)


@router.post("/join/{token}/account", response_class=HTMLResponse)
async def join_link_with_account(token: str, request: Request, ctx: Ctx) -> Response:
    return await _join(request, ctx, None, token[:300])


async def _values(request: Request) -> dict[str, str]:
    async with request.form() as form:
        return {name: str(form.get(name) or "")[:400] for name in FIELDS}


async def _request(request: Request, ctx: Ctx, workspace_id: str | None, token: str | None) -> Response:
    values = await _values(request)
    try:
        language = negotiate(request.headers.get("accept-language"))
        handle = await blocking(
            lambda: self_sign_up.request(ctx, workspace_id=workspace_id, link_token=token, language=language, **values)
        )
    except ValidationFailed as exc:
        field = exc.field if exc.field in FIELDS else "form"
        return await _form(request, ctx, workspace_id, token, 422, values=values, errors={field: exc.message})
    except TooManyAttempts as exc:
        return await _form(request, ctx, workspace_id, token, 429, values=values, wait=exc.retry_after)
    except DomainError as exc:
        return _closed(request, exc)
    response = RedirectResponse(STEP, status_code=303)
    browser_cookies(request).keep_flow(response, FLOW, handle)
    return response


@router.post("/sign-up", response_class=HTMLResponse)
async def sign_up(request: Request, ctx: Ctx, workspace: str = "") -> Response:
    return await _request(request, ctx, workspace[:64], None)


@router.post("/join/{token}", response_class=HTMLResponse)
async def join(token: str, request: Request, ctx: Ctx) -> Response:
    return await _request(request, ctx, None, token[:300])


async def _step(request: Request, ctx: Ctx, status: int = 200, **context: Any) -> Response:
    handle = browser_cookies(request).flow(request, FLOW)
    try:
        state = await blocking(lambda: self_sign_up.state(ctx, handle))
    except DomainError:
        return page(request, "sign_up_closed.html", 410, reason="signup_expired")
    return page(request, "sign_up_step.html", status, **state, **context)


@router.get(STEP, response_class=HTMLResponse)
async def next_step(request: Request, ctx: Ctx) -> Response:
    return await _step(request, ctx)


@router.post("/sign-up/code", response_class=HTMLResponse)
async def check_code(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    handle = browser_cookies(request).flow(request, FLOW) or ""
    try:
        await blocking(lambda: self_sign_up.verify(ctx, handle, code[:20]))
    except InvalidCode as exc:
        return await _step(request, ctx, 422, error="invalid", attempts_left=exc.attempts_left)
    except SecretRejected as exc:
        if exc.code == "code_expired":
            return await _step(request, ctx, 410, error="expired")
        return page(request, "sign_up_closed.html", 410, reason="signup_expired")
    except DomainError:
        return page(request, "sign_up_closed.html", 410, reason="signup_expired")
    return RedirectResponse(STEP, status_code=303)


@router.post("/sign-up/resend", response_class=HTMLResponse)
async def resend(request: Request, ctx: Ctx) -> Response:
    handle = browser_cookies(request).flow(request, FLOW) or ""
    try:
        await blocking(lambda: self_sign_up.resend(ctx, handle))
    except TooManyAttempts as exc:
        throttled = await _step(request, ctx, 429, wait=exc.retry_after)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    except DomainError:
        pass  # already verified, or over: the next step says where it stands
    return RedirectResponse(STEP, status_code=303)


@router.post("/sign-up/password", response_class=HTMLResponse)
async def choose_password(request: Request, ctx: Ctx, password: str = Form("")) -> Response:
    handle = browser_cookies(request).flow(request, FLOW) or ""
    try:
        done = await blocking(lambda: self_sign_up.complete(ctx, handle, password[:1000]))
    except ValidationFailed as exc:
        return await _step(request, ctx, status_of(exc), password_error=exc.message)
    except SecretRejected as exc:
        return page(request, "sign_up_closed.html", 410, reason=exc.code)
    except DomainError as exc:
        return await _step(request, ctx, status_of(exc), password_error=exc.message)
    if done["status"] != "active":
        return RedirectResponse(STEP, status_code=303)
    response = to_joined(request, done["workspace_id"], done["session"])
    browser_cookies(request).drop(response, FLOW)
    return response

"""RP-initiated logout over HTTP (:mod:`admit.oidc_provider.logout`): ``GET /oauth2/logout``
asks "Sign out of Admit?" and changes nothing; its form (CSRF-checked like every page form) posts
to ``/oauth2/logout/confirm``, which signs the browser's session out and sends the browser back to
the app's registered post-logout URI with ``state`` (or shows that the person is signed out).

An app may also POST its request to ``/oauth2/logout`` (the spec's form post, from the app's
origin: outside the form guard, which would refuse another site's form); that answer only
redirects to the GET, so it changes nothing either."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import InvalidCredentials, ValidationFailed
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_cookies, page
from admit.entrypoints.web.routing import Router
from admit.entrypoints.web.security import origin
from admit.flows.signin import sessions
from admit.oidc_provider import logout
from admit.oidc_provider.discovery import LOGOUT_PATH
from admit.shared.context import Context

router = Router(include_in_schema=False)
CONFIRM_PATH = f"{LOGOUT_PATH}/confirm"
POST_MAX = 64 * 1024  # a few parameters (not behind the form guard's limits)


def _first(items: list[tuple[str, str]]) -> dict[str, str]:
    """Each logout parameter's first value (the others are ignored)."""
    fields: dict[str, str] = {}
    for name, value in items:
        if name in logout.FIELDS:
            fields.setdefault(name, value)
    return fields


@router.get(LOGOUT_PATH, response_class=HTMLResponse)
async def ask(request: Request, ctx: Ctx) -> Response:
    fields = _first(list(request.query_params.multi_items()))
    return await blocking(lambda: _ask(request, ctx, fields))


@router.post(LOGOUT_PATH)
async def posted(request: Request) -> Response:
    """An app's form post: the same request as a GET (which asks first)."""
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > POST_MAX:
        return Response(status_code=413)
    form = await request.form()
    fields = _first([(name, value) for name, value in form.multi_items() if isinstance(value, str)])
    return RedirectResponse(f"{LOGOUT_PATH}?{urlencode(fields)}", status_code=303)


def _ask(request: Request, ctx: Context, fields: dict[str, str]) -> Response:
    try:
        asked = logout.inspect(ctx, fields)
    except (InvalidCredentials, ValidationFailed) as refused:
        return page(request, "oidc_logout_error.html", 400, reason=refused.message)
    tokens = browser_cookies(request).sessions(request)
    if logout.session_to_end(ctx, asked, tokens) is None:  # nobody to sign out: straight back
        back = asked.back()
        if back is not None:
            return RedirectResponse(back, status_code=303)
        return page(request, "oidc_logged_out.html", asked=asked, ui_language=asked.language)
    targets = [origin(asked.redirect_uri)] if asked.redirect_uri else []
    return page(
        request, "oidc_logout.html", asked=asked, fields=asked.fields, ui_language=asked.language, form_targets=targets
    )


@router.post(CONFIRM_PATH, response_class=HTMLResponse)
async def confirm(request: Request, ctx: Ctx) -> Response:
    """The person said yes: the session ends, then back to the app (its request checked again)."""
    form = await request.form()
    fields = _first([(name, value) for name, value in form.multi_items() if isinstance(value, str)])
    return await blocking(lambda: _sign_out(request, ctx, fields))


def _sign_out(request: Request, ctx: Context, fields: dict[str, str]) -> Response:
    try:
        asked = logout.inspect(ctx, fields)
    except (InvalidCredentials, ValidationFailed) as refused:
        return page(request, "oidc_logout_error.html", 400, reason=refused.message)
    tokens = browser_cookies(request).sessions(request)
    position = logout.session_to_end(ctx, asked, tokens)
    if position is not None:
        sessions.sign_out(ctx, tokens[position])
    back = asked.back()
    response: Response
    if back is not None:
        response = RedirectResponse(back, status_code=303)
    else:
        response = page(request, "oidc_logged_out.html", asked=asked, ui_language=asked.language)
    if position is not None:
        browser_cookies(request).keep_sessions(response, [t for i, t in enumerate(tokens) if i != position])
    return response

"""``prompt=select_account``: an app asks which of the accounts signed in on this browser goes on
to it. The page lists them (the active one first) and offers to sign in with another; the choice
makes that account the active one and goes back to the app's request, without the prompt."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.domain.errors import SecretRejected
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_cookies, page
from admit.entrypoints.web.routing import Router
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.oidc_provider.discovery import AUTHORIZE_PATH
from admit.shared.context import Context

router = Router(include_in_schema=False)
CHOOSE_PATH = f"{AUTHORIZE_PATH}/account"


def _without_prompt(fields: dict[str, str]) -> str:
    return urlencode([(name, value) for name, value in fields.items() if name != "prompt"])


def choose(request: Request, ctx: Context, app: str, fields: dict[str, str]) -> Response:
    """The account chooser (called from the authorization endpoint, off the event loop)."""
    accounts = []
    for position, token in enumerate(browser_cookies(request).sessions(request)):
        try:
            account_id = sessions.authenticate_session(ctx, token, initial_password_ok=True)
        except SecretRejected:
            continue  # a session that ended elsewhere
        accounts.append({"position": position, "identifiers": claims.account_emails(ctx, account_id) or ["…"]})
    query = _without_prompt(fields)
    after = f"{AUTHORIZE_PATH}?{query}"  # where the choice leads (its form may end on the app)
    another = f"/sign-in?next={quote(after, safe='')}"
    return page(request, "oidc_account.html", accounts=accounts, query=query, app=app, another=another, next=after)


@router.post(CHOOSE_PATH, response_class=HTMLResponse)
async def chosen(
    request: Request, ctx: Ctx, query: str = Form(""), choice: str = Form("", alias="position")
) -> Response:
    """The account picked: made the active one, then back to the app's request (no prompt). A
    position that is not one of the browser's accounts changes nothing (never an error page)."""
    position = int(choice) if choice.isdigit() and len(choice) < 3 else -1
    fields = [(name, value) for name, value in parse_qsl(query) if name != "prompt"]
    response = RedirectResponse(f"{AUTHORIZE_PATH}?{urlencode(fields)}", status_code=303)
    tokens = browser_cookies(request).sessions(request)
    if 0 <= position < len(tokens):
        valid = await blocking(lambda: _still_valid(ctx, tokens[position]))
        if valid:
            browser_cookies(request).start_session(response, tokens[position], request)
    return response


def _still_valid(ctx: Context, token: str) -> bool:
    try:
        sessions.authenticate_session(ctx, token, initial_password_ok=True)
    except SecretRejected:
        return False
    return True

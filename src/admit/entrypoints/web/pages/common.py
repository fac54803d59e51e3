"""What every page shares: templates in the person's language, the signed cookies, the
browser's signed-in account, safe redirects. Pages import these public names from here only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel.dates import format_date
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from admit.domain.errors import (
    SecretRejected,
)
from admit.domain.passwords import PasswordPolicy
from admit.domain.secrets import digest as secret_digest
from admit.entrypoints.web.deps import blocking
from admit.entrypoints.web.security import Cookies, csp_sending_forms_to, origin
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.i18n import catalog, negotiate, pick_language, runtime_translator
from admit.oidc_provider import authorize
from admit.oidc_provider.discovery import AUTHORIZE_PATH
from admit.shared.context import Context

HERE = Path(__file__).parent.parent


@cache
def templates(language: str) -> Jinja2Templates:
    """The page templates with the language's catalog (pages are rendered in en, de or fr)."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # templates ship with the release: no stat() of each file on every page
        cache_size=-1,  # every template stays loaded, in a plain dict (the bounded cache locks on each look-up)
    )
    translations = catalog(HERE / "locales" / "pages", language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["tr"] = runtime_translator(translations)  # gettext() is for literals only
    env.filters["day"] = lambda value: _day(value, language)
    return Jinja2Templates(env=env)


def _day(value: Any, language: str) -> str:
    """A date in the page's language ("3 December 2026"); anything else as its text."""
    if isinstance(value, date):
        return str(format_date(value, format="long", locale=language))
    return str(value)


def browser_cookies(request: Request) -> Cookies:
    cookies: Cookies = request.app.state.cookies
    return cookies


def _field(value: Any, name: str) -> Any:
    """A field of a dict or of a record (pages get both)."""
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the person's one language: their account's, else their member record's, else the
    workspace's, else the one an app asked for (``ui_language``), else the browser's (the same
    order on every page of a journey). ``form_targets``: other origins this page's form may end on
    (its redirect is checked against the CSP's ``form-action``); ``leads_to``: the addresses a
    welcome page's joining leads into (the workspace's app, through ``/go``)."""
    csrf = request.scope.get("csrftoken")
    language = pick_language(
        _field(context.get("account"), "language"),
        _field(context.get("member"), "language"),
        _field(context.get("workspace"), "default_language"),
        context.get("ui_language"),
        negotiate(request.headers.get("accept-language")),
    )
    values = {"csrftoken": csrf() if csrf else "", "language": language, **context}
    response = templates(language).TemplateResponse(request, name, values, status_code=status)
    providers = (context.get("login") or {}).get("providers") or context.get("providers") or []
    targets = [origin(p["issuer"]) for p in providers]  # its forms may lead to these identity providers
    targets += _app_origin(request, context.get("next")) + list(context.get("form_targets") or [])
    targets += [origin(url) for url in context.get("leads_to") or []]
    if targets:
        response.headers["content-security-policy"] = csp_sending_forms_to(targets)
    return response


def _app_origin(request: Request, target: object) -> list[str]:
    """An app's origin when this page's form leads on to an authorization request (``next``): the
    form's redirects end there. A single indexed read, only for such pages."""
    if not isinstance(target, str) or not target.startswith(AUTHORIZE_PATH):
        return []
    found = authorize.redirect_origin(request.app.state.context, target)
    return [found] if found else []


def browser_account(ctx: Context, request: Request, *, initial_password_ok: bool = False) -> str | None:
    """The browser's active account; ``PasswordChangeRequired`` (the page is then not shown, see
    ``entrypoints.web.errors``) while it must replace an initial password, unless ``initial_password_ok``."""
    token = browser_cookies(request).session(request)
    if not token:
        return None
    try:
        return sessions.authenticate_session(ctx, token, initial_password_ok=initial_password_ok)
    except SecretRejected:
        return None


def to_joined(request: Request, workspace_id: str, session: str | None = None, *, into_app: bool = False) -> Response:
    """After joining: the joined page; ``into_app`` (the workspace has an app, and the page whose
    form this answers allows its origin, ``leads_to``) straight into the workspace through ``/go``,
    which puts an initial password and the terms first."""
    where = "go" if into_app else "joined"
    response = RedirectResponse(f"/{where}/{quote(workspace_id)}", status_code=303)
    if session is not None:
        browser_cookies(request).start_session(response, session, request)
    browser_cookies(request).drop_invitation(response)
    return response


async def into_workspace(
    request: Request, ctx: Context, joined: Mapping[str, Any], session: str | None = None
) -> Response:
    """After joining from a welcome page (whose forms allow the app's origin): into the workspace's
    app when it has one, else the joined page."""
    workspace = await blocking(lambda: claims.joined_workspace(ctx, joined["account_id"], joined["workspace_id"]))
    into_app = bool(workspace and workspace["app_url"])
    return to_joined(request, joined["workspace_id"], session, into_app=into_app)


def safe_next(target: str) -> str:
    """Only paths of this site: never another host (no open redirect)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


# Sign-up: the invited address is verified by an emailed code before a password is chosen. The
# browser keeps only the handle of the sign-up flow; the server records the verified address,
# bound to this invitation, and the claim checks it.
def token_binding(token: str) -> str:
    return secret_digest(token)[:24]


def password_rules(name: str) -> dict[str, Any]:
    policy = PasswordPolicy.named(name)
    return {"rules": policy.rules(), "policy": policy}

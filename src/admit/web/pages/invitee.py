"""The invitee's pages. The link's token moves from the URL into a signed cookie on first load,
and nothing here changes state on GET: mail scanners may open links as often as they like."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from admit.domain.errors import (
    Conflict,
    InvalidCode,
    InvalidCredentials,
    PermissionDenied,
    SecretRejected,
    TooManyAttempts,
    ValidationFailed,
    WeakPassword,
)
from admit.domain.passwords import PasswordPolicy
from admit.domain.secrets import digest as secret_digest
from admit.i18n import catalog, negotiate, pick_language, runtime_translator
from admit.services import claims, reinvite, sessions, terms, verification
from admit.services.context import Context
from admit.web.deps import Ctx, blocking
from admit.web.pages.security import Cookies, csp_sending_forms_to, origin

HERE = Path(__file__).parent.parent
router = APIRouter(include_in_schema=False)


@cache
def templates(language: str) -> Jinja2Templates:
    """The page templates with the language's catalog (pages are rendered in en, de or fr)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"])
    translations = catalog(HERE / "locales" / "pages", language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["tr"] = runtime_translator(translations)  # gettext() is for literals only
    return Jinja2Templates(env=env)


def _cookies(request: Request) -> Cookies:
    cookies: Cookies = request.app.state.cookies
    return cookies


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the invitee's language (their member record's, the workspace's, or the browser's)."""
    csrf = request.scope.get("csrftoken")
    member, workspace = context.get("member") or {}, context.get("workspace") or {}
    language = pick_language(
        member.get("language"), workspace.get("default_language"), negotiate(request.headers.get("accept-language"))
    )
    values = {"csrftoken": csrf() if csrf else "", "language": language, **context}
    response = templates(language).TemplateResponse(request, name, values, status_code=status)
    providers = (context.get("login") or {}).get("providers") or context.get("providers") or []
    if providers:  # its forms may lead to these identity providers
        response.headers["content-security-policy"] = csp_sending_forms_to([origin(p["issuer"]) for p in providers])
    return response


def _account(ctx: Context, request: Request, *, initial_password_ok: bool = False) -> str | None:
    """The browser's active account; ``PasswordChangeRequired`` (the page is then not shown, see
    ``web.errors``) while it must replace an initial password, unless ``initial_password_ok``."""
    token = _cookies(request).session(request)
    if not token:
        return None
    try:
        return sessions.authenticate_session(ctx, token, initial_password_ok=initial_password_ok)
    except SecretRejected:
        return None


@router.api_route("/i/{token}", methods=["GET", "HEAD"])
async def invitation_link(token: str, request: Request) -> Response:
    """Keep the token in a signed cookie and continue on a URL without it."""
    response = RedirectResponse("/welcome", status_code=303)
    _cookies(request).hold_invitation(response, token)
    return response


@router.get("/welcome", response_class=HTMLResponse)
async def welcome(request: Request, ctx: Ctx) -> Response:
    token = _cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")
    state, info, account_id = await blocking(lambda: _welcome_facts(ctx, request, token))
    if state != "pending":
        return page(request, "dead_link.html", 404 if state == "invalid" else 410, state=state, **info)
    if account_id is not None:
        return page(request, "welcome_confirm.html", **info)
    if info["mode"] == "sign_in":
        return page(request, "welcome_sign_in.html", **info)
    if info["mode"] == "sso":  # the workspace lets people in through its identity providers only
        return page(request, "welcome_sso.html", **info)
    if info["mode"] in SIGN_UP and info["verification"] != "verified":
        first = "welcome_choose.html" if info["mode"] == "choose" else "welcome_sign_up.html"
        return page(request, "welcome_verify.html" if info["verification"] else first, **info)
    return page(request, "welcome_claim.html", **info, **_policy(info["workspace"]["password_policy"]))


SIGN_UP = claims.SIGN_UP  # "choose": the person's account uses a provider this workspace does not allow


# Sign-up: the invited address is verified by an emailed code before a password is chosen. The
# browser keeps only the handle of the sign-up flow; the server records the verified address,
# bound to this invitation, and the claim checks it.
def _binding(token: str) -> str:
    return secret_digest(token)[:24]


def _sign_up_progress(ctx: Context, request: Request, info: dict[str, Any]) -> str | None:
    return verification.progress(ctx, info["invitation"]["id"], _cookies(request).flow(request, "signup"))


@router.post("/welcome/sign-up", response_class=HTMLResponse)
async def send_code(request: Request, ctx: Ctx) -> Response:
    """Email a verification code to the invited address (a new code replaces the last one)."""
    token = _cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")
    held = _cookies(request).flow(request, "signup")
    try:
        handle = await blocking(lambda: verification.start(ctx, token, replaces=held))
    except (SecretRejected, Conflict):
        return RedirectResponse("/welcome", status_code=303)
    except TooManyAttempts as exc:
        info = await blocking(lambda: claims.inspect_token(ctx, token))
        sent = await blocking(lambda: _sign_up_progress(ctx, request, info))
        first = "welcome_choose.html" if info["mode"] == "choose" else "welcome_sign_up.html"
        throttled = page(request, "welcome_verify.html" if sent else first, 429, wait=exc.retry_after, **info)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    response = RedirectResponse("/welcome", status_code=303)
    _cookies(request).keep_flow(response, "signup", handle)
    return response


@router.post("/welcome/verify", response_class=HTMLResponse)
async def verify(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    token = _cookies(request).invitation(request)
    held = _cookies(request).flow(request, "signup")
    if token is None or held is None:
        return RedirectResponse("/welcome", status_code=303)
    try:
        info = await blocking(lambda: claims.inspect_token(ctx, token))
    except SecretRejected:
        return RedirectResponse("/welcome", status_code=303)
    try:
        await blocking(lambda: verification.check_code(ctx, held, code))
    except InvalidCode as exc:
        return page(request, "welcome_verify.html", 422, error="invalid", attempts_left=exc.attempts_left, **info)
    except SecretRejected:
        return page(request, "welcome_verify.html", 410, error="expired", **info)
    return RedirectResponse("/welcome", status_code=303)


def _welcome_facts(ctx: Context, request: Request, token: str) -> tuple[str, dict[str, Any], str | None]:
    state, languages = claims.link_state(ctx, token)
    if state != "pending":
        return state, languages, None
    info = claims.inspect_token(ctx, token)
    info["verification"] = _sign_up_progress(ctx, request, info) if info["mode"] in SIGN_UP else None
    return state, info, _account(ctx, request)


def _policy(name: str) -> dict[str, Any]:
    policy = PasswordPolicy.named(name)
    return {"rules": policy.rules(), "policy": policy}


@router.post("/welcome/claim", response_class=HTMLResponse)
async def claim(
    request: Request, ctx: Ctx, password: str = Form(""), first_name: str = Form(""), last_name: str = Form("")
) -> Response:
    token = _cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")

    def work() -> dict[str, Any]:
        return claims.claim_and_sign_in(
            ctx,
            token,
            password=password,
            first_name=first_name,
            last_name=last_name,
            sign_up_flow=_cookies(request).flow(request, "signup"),
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
            **_policy(info["workspace"]["password_policy"]),
        )
    except (SecretRejected, Conflict, PermissionDenied):
        return RedirectResponse("/welcome", status_code=303)  # e.g. not verified yet, or the workspace now requires SSO
    response = _joined(request, result["workspace_id"], result["session"])
    _cookies(request).drop(response, "signup")
    return response


def _joined(request: Request, workspace_id: str, session: str | None = None) -> Response:
    response = RedirectResponse(f"/joined/{quote(workspace_id)}", status_code=303)
    if session is not None:
        _cookies(request).start_session(response, session, request)
    _cookies(request).drop_invitation(response)
    return response


@router.post("/welcome/accept", response_class=HTMLResponse)
async def accept(request: Request, ctx: Ctx) -> Response:
    token = _cookies(request).invitation(request)
    account_id = await blocking(lambda: _account(ctx, request))
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
    return _joined(request, result["workspace_id"])


@router.post("/welcome/decline", response_class=HTMLResponse)
async def decline(request: Request, ctx: Ctx) -> Response:
    token = _cookies(request).invitation(request)
    if token is None:
        return page(request, "dead_link.html", 404, state="missing")
    try:
        invitation = await blocking(lambda: claims.inspect_token(ctx, token))
        await blocking(lambda: claims.decline_with_token(ctx, token))
    except (SecretRejected, Conflict):
        return RedirectResponse("/welcome", status_code=303)
    response = page(request, "declined.html", **invitation)
    _cookies(request).drop_invitation(response)
    return response


@router.post("/welcome/ask-again", response_class=HTMLResponse)
async def ask_again(request: Request, ctx: Ctx) -> Response:
    """Ask for a new invitation from an expired link; the same answer whatever happened."""
    token = _cookies(request).invitation(request)
    languages: dict[str, Any] = {}
    if token is not None:
        await blocking(lambda: reinvite.ask_for_new_invitation(ctx, token))
        _, languages = await blocking(lambda: claims.link_state(ctx, token))
    return page(request, "asked_again.html", **languages)


@router.get("/joined/{workspace_id}", response_class=HTMLResponse)
async def joined(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    account_id = await blocking(lambda: _account(ctx, request))
    if account_id is None:
        return RedirectResponse("/sign-in", status_code=303)
    workspace = await blocking(lambda: claims.joined_workspace(ctx, account_id, workspace_id))
    if workspace is None:
        return page(request, "dead_link.html", 404, state="invalid")
    if await blocking(lambda: terms.to_accept(ctx, account_id, workspace_id)) is not None:
        return RedirectResponse(f"/terms/{quote(workspace_id)}", status_code=303)  # the terms come first
    return page(request, "joined.html", workspace=workspace, member={"language": workspace["member_language"]})


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str = "/") -> Response:
    return page(request, "sign_in.html", next=_safe_next(next))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    ctx: Ctx,
    identifier: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    break_glass: bool = Form(False),
) -> Response:
    try:
        token, account = await blocking(lambda: sessions.sign_in(ctx, identifier, password, break_glass=break_glass))
    except InvalidCredentials as exc:
        return page(request, "sign_in.html", 401, next=_safe_next(next), identifier=identifier, error=exc.message)
    except PermissionDenied:  # a member of a workspace requiring SSO, after the right password
        return page(request, "sign_in.html", 403, next=_safe_next(next), identifier=identifier, sso_required=True)
    except TooManyAttempts as exc:
        throttled = page(
            request, "sign_in.html", 429, next=_safe_next(next), identifier=identifier, wait=exc.retry_after
        )
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled
    target = _safe_next(next)
    if account.get("must_change_password"):  # an initial password from an import: replace it first
        target = f"/change-password?next={quote(target, safe='/')}"
    response = RedirectResponse(target, status_code=303)
    _cookies(request).start_session(response, token, request)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, ctx: Ctx, next: str = Form("/sign-in")) -> Response:
    """Sign the active account out; other accounts on this browser stay signed in."""
    tokens = _cookies(request).sessions(request)
    if tokens:
        await blocking(lambda: sessions.sign_out(ctx, tokens[0]))
    response = RedirectResponse(_safe_next(next), status_code=303)
    _cookies(request).keep_sessions(response, tokens[1:])
    return response


def _safe_next(target: str) -> str:
    """Only paths of this site: never another host (no open redirect)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"

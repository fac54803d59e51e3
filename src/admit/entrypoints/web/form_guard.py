"""The guard in front of every page: each request that is not a GET (HEAD, OPTIONS, TRACE) is a
form, and a form is handed on only if

1. it does not come from another site: ``Sec-Fetch-Site`` is not ``cross-site``, and an
   ``Origin`` header, when sent, is the configured base URL's origin, or ``null`` together with
   ``Sec-Fetch-Site: same-origin`` (see ``from_this_site``); the ``Host`` header is never read;
2. it is no larger than its path allows (1 MiB; the administrators' upload and review forms more);
3. it names each field once (``email=a&email=b`` is refused, file fields too);
4. its ``csrftoken`` field equals this browser's signed ``csrftoken`` cookie.

No request header switches this off: the ``Authorization`` header is removed from page requests
(pages authenticate by cookie only). A refusal is a page in the person's language; nothing
reaches the handler. The API, the health check, SCIM (``/scim/v2/``) and the OpenID endpoints
apps call (token, userinfo, JWKS) are not pages: they bypass the guard, authenticate by bearer
token (or client credentials) only and never read the session cookie.

The guard also hands each page its token (``scope["csrftoken"]``, a callable, see
:meth:`FormGuard.with_token`): the browser's own when its cookie carries our signature, else a new one, set
as the cookie by the answer of the page that used it. The token and cookie are asgi-csrf's format
(``URLSafeSerializer(secret).dumps(token_hex(16), "csrftoken")``, ``Path=/; SameSite=Lax``), which
issued them before: browsers' cookies stay valid."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admit.adapters.spreadsheets.reader import MAX_BYTES as UPLOAD_MAX
from admit.config import Settings
from admit.entrypoints.web import form_body
from admit.entrypoints.web.form_body import ClientGone, FormRefused, header
from admit.entrypoints.web.pages.admin.invitations import FORM_MAX_PART
from admit.entrypoints.web.pages.common import templates
from admit.i18n import negotiate, pick_language

# Apps call the OpenID provider's token, revocation, introspection, userinfo and JWKS endpoints
# with their own credentials.
UNPROTECTED = (
    "/api/",
    "/healthz",
    "/readyz",
    "/metrics",  # its own bearer token (ADMIT_METRICS_TOKEN), or loopback only
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/userinfo",
    "/oauth2/jwks",
    "/scim/v2/",  # identity providers' bearer-token provisioning (SCIM): no cookies, no pages
)
# An app may post its logout request (RP-initiated logout) from its own origin: that route only
# redirects to the GET, which asks the person (whose confirmation is a page form, checked here).
APPS_POST_TO = frozenset({"/oauth2/logout"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_COOKIE = "csrftoken"
CSRF_NAMESPACE = "csrftoken"  # the signature's salt
MIB = 1024 * 1024
PAGE_FORM_MAX = MIB
ADMIN_FORM_MAX = {"urlencoded": FORM_MAX_PART + MIB, "multipart": UPLOAD_MAX + MIB}  # a carried list; a file
DEFAULT_PORTS = {"http": 80, "https": 443}


def guarded(path: str, method: str = "GET") -> bool:
    if path.startswith(UNPROTECTED) or path == "/scim/v2":
        return False
    return not (method == "POST" and path in APPS_POST_TO)


def limit(path: str, kind: str) -> int:
    """The largest form body ``path`` takes."""
    return ADMIN_FORM_MAX.get(kind, PAGE_FORM_MAX) if path.startswith("/admin/") else PAGE_FORM_MAX


def web_origin(url: str) -> str | None:
    """``scheme://host[:port]`` with the default port left out, or None (``null``, malformed)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else "")


def from_this_site(scope: Scope, expected: str | None) -> bool:
    """No sign of another site. ``Origin: null`` is another site, unless the browser also says
    ``Sec-Fetch-Site: same-origin``: our pages' ``no-referrer`` policy makes browsers send ``null``
    on their own same-origin form posts (Fetch standard, "append a request Origin header")."""
    fetch_site = header(scope, b"sec-fetch-site").strip().lower()
    if fetch_site == b"cross-site":
        return False
    for name, value in scope.get("headers") or []:
        if name.lower() != b"origin":
            continue
        if value.strip() == b"null":
            if fetch_site != b"same-origin":
                return False
        elif expected is None or web_origin(value.decode("latin-1")) != expected:
            return False
    return True


def without_authorization(scope: Scope) -> Scope:
    headers = [(name, value) for name, value in scope.get("headers") or [] if name.lower() != b"authorization"]
    return {**scope, "headers": headers}


def cookie_token(scope: Scope, signer: URLSafeSerializer) -> str | None:
    """This browser's csrftoken cookie, if it carries our signature (the first that does, when a
    browser sends several)."""
    for name, value in scope.get("headers") or []:
        if name.lower() != b"cookie":
            continue
        text: str = value.decode("latin-1")
        for pair in text.split(";"):
            key, _, token = pair.strip().partition("=")
            if key != CSRF_COOKIE or not token:
                continue
            try:
                signer.loads(token, CSRF_NAMESPACE)
            except BadSignature:
                continue
            return token
    return None


def matches(token: str | None, expected: str) -> bool:
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


class FormGuard:
    """Wraps the app: pages through the checks above, each with its CSRF token; the API around them."""

    def __init__(self, app: ASGIApp, /, *, settings: Settings, cookie_secure: bool) -> None:
        self.app = app
        self.origin = web_origin(settings.base_url)
        self.signer = URLSafeSerializer(settings.secret_key)
        self.cookie_attributes = "; Path=/; SameSite=Lax" + ("; Secure" if cookie_secure else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not guarded(scope["path"], scope["method"]):
            await self.app(scope, receive, send)  # bearer-token API calls and the health check
            return
        scope = without_authorization(scope)
        if scope["method"] in SAFE_METHODS:
            await self.with_token(scope, receive, send, cookie_token(scope, self.signer))
            return
        await self.form(scope, receive, send)

    async def form(self, scope: Scope, receive: Receive, send: Send) -> None:
        expected = cookie_token(scope, self.signer)
        kind = form_body.kind(scope)
        if expected is None or kind == "other" or not from_this_site(scope, self.origin):
            await refuse(scope, send, "forged", 403)
            return
        try:
            form = await form_body.read(scope, receive, limit(scope["path"], kind))
        except FormRefused as refused:
            await refuse(scope, send, refused.reason, refused.status, refused.field)
            return
        except ClientGone:
            return
        try:
            if not matches(form.token, expected):
                await refuse(scope, send, "forged", 403)
                return
            await self.with_token(scope, form.replay, send, expected)
        finally:
            form.close()

    async def with_token(self, scope: Scope, receive: Receive, send: Send, token: str | None) -> None:
        """The page gets ``scope["csrftoken"]()``: ``token`` (the browser's), or a new one made on
        first use and set as the cookie by this answer. An answer whose page used it varies by
        cookie (``Vary: Cookie``), so no cache hands one browser's form to another."""
        used = False
        new: str | None = None

        def csrftoken() -> str:
            nonlocal used, new
            used = True
            if token is not None:
                return token
            if new is None:
                new = self.signer.dumps(secrets.token_hex(16), CSRF_NAMESPACE)
            return new

        async def send_with_token(message: Message) -> None:
            if message["type"] == "http.response.start" and used:
                headers = _with_vary_cookie(message.get("headers") or [])
                if new is not None:
                    headers.append((b"set-cookie", f"{CSRF_COOKIE}={new}{self.cookie_attributes}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app({**scope, "csrftoken": csrftoken}, receive, send_with_token)


def _with_vary_cookie(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    out, varied = [], False
    for name, value in headers:
        if name.lower() == b"vary":
            varied = True
            parts = [part.strip() for part in value.split(b",")]
            if not any(part.lower() == b"cookie" for part in parts):
                value = b", ".join([*parts, b"Cookie"])
        out.append((name, value))
    if not varied:
        out.append((b"vary", b"Cookie"))
    return out


async def refuse(scope: Scope, send: Send, reason: str, status: int, field: str | None = None) -> None:
    """The refusal page, in the language the browser asks for."""
    request = Request(scope)
    language = pick_language(negotiate(request.headers.get("accept-language")))
    values: dict[str, Any] = {"language": language, "reason": reason, "field": (field or "")[:100]}
    values["retry"] = retry_path(scope)
    response = templates(language).TemplateResponse(request, "form_refused.html", values, status_code=status)
    await response(scope, _nothing, send)


async def _nothing() -> Any:
    return {"type": "http.disconnect"}


def retry_path(scope: Scope) -> str:
    """The nearest page at or above the request's path that opens with GET (the form is there),
    or the home page."""
    app = scope.get("app")
    path = "/" + scope["path"].lstrip("/")  # never "//host": that would lead to another site
    routes = getattr(getattr(app, "router", None), "routes", [])
    while path not in ("", "/"):
        probe = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            return quote(path, safe="/-._~")
        path = path.rsplit("/", 1)[0]
    return "/"

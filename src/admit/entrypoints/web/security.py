"""What every hosted page shares: security headers, the browser session cookie, the signed
cookie that carries an invitation token between pages (so it never stays in a URL), and the
cookies that hold the handles of server-side flows (``shared.flow_state``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admit.config import Settings

SESSION_COOKIE = "admit_session"
FLOW_COOKIES = {
    "invitation": "admit_invitation",
    "reset": "admit_reset",
    "signup": "admit_signup",  # the handle of the sign-up flow (its verified address is on the server)
    "terms": "admit_terms",  # the handle of the terms flow (the downloads are recorded on the server)
    "sso": "admit_sso",  # a single sign-on flow's state, nonce and PKCE verifier, until the callback
    "sso_profile": "admit_sso_profile",  # the handle of a provider profile awaiting confirmation
    "self_signup": "admit_self_signup",  # the handle of a self-sign-up request (its state is on the server)
    "add_email": "admit_add_email",  # the handle of an address being added to the account (awaiting its code)
    "add_phone": "admit_add_phone",  # the handle of a phone number being added to the account (awaiting its code)
}
FLOW_MAX_AGE = 3600
MAX_ACCOUNTS = 5
OPERATIONS = ("/healthz", "/readyz", "/metrics")  # probes and scrapers: not pages
NOT_PAGES = ("/api/", "/static/", "/dev/")  # the API, files, and the dev mailbox (its own inline styles)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def csp_sending_forms_to(origins: list[str]) -> str:
    """The page policy, letting this page's forms lead to these identity providers: a form's
    redirects are checked against form-action, and single sign-on starts with a POST here that
    redirects to the provider."""
    allowed = " ".join(sorted({o for o in origins if o.startswith(("https://", "http://")) and " " not in o}))
    return CSP.replace("form-action 'self'", f"form-action 'self' {allowed}") if allowed else CSP


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_page(path: str) -> bool:
    """Every address but the API's, the files' and the dev mailbox's is a page (a new page, or the
    page that says an address does not exist, gets the headers without being listed)."""
    return path not in OPERATIONS and not path.startswith(NOT_PAGES)


class SecurityHeaders:
    """Strict headers on hosted pages: a CSP without inline code, no framing, no Referer (links
    carry tokens), no caching of pages that may show personal data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class BadSignature(ValueError):
    """A signed value that was not signed with our key, was altered, or is too old."""


class FlowSigner:
    """Signs small JSON values for flow cookies: ``payload.issued.signature``, the payload
    base64url JSON, ``issued`` the Unix time, the signature keyed BLAKE2b-256 (a MAC: RFC 7693
    §2.5) over both with a key derived from the secret key for this purpose alone. Checking one
    costs a few microseconds (itsdangerous' serializer, used before, spent 15-30 on its layers, on
    every page view)."""

    def __init__(self, secret_key: str, purpose: bytes = b"admit.flow-cookie") -> None:
        self._key = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()

    def _signature(self, signed: str) -> str:
        digest = hashlib.blake2b(signed.encode("ascii"), key=self._key, digest_size=32).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def dumps(self, value: Any) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=")
        signed = f"{payload.decode('ascii')}.{int(time.time())}"
        return f"{signed}.{self._signature(signed)}"

    def loads(self, raw: str, max_age: int | None = None) -> Any:
        signed, _, signature = raw.rpartition(".")
        payload, _, issued = signed.partition(".")
        try:
            expected = self._signature(signed)
        except UnicodeEncodeError:
            raise BadSignature("not ours") from None
        if not payload or not signature.isascii() or not hmac.compare_digest(signature, expected):
            raise BadSignature("not ours")
        if not issued.isdigit():
            raise BadSignature("not ours")
        if max_age is not None and time.time() - int(issued) > max_age:
            raise BadSignature("too old")
        try:
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            raise BadSignature("not ours") from None


class Cookies:
    def __init__(self, settings: Settings) -> None:
        self.secure = settings.base_url.startswith("https://")
        self.serializer = FlowSigner(settings.secret_key)

    def _set(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, secure=self.secure, samesite="lax", path="/")

    # The session cookie holds the sessions of every account signed in on this browser (at most
    # MAX_ACCOUNTS), the active one first: the account switcher reorders them.
    def sessions(self, request: Request) -> list[str]:
        return [t for t in request.cookies.get(SESSION_COOKIE, "").split(".") if t][:MAX_ACCOUNTS]

    def session(self, request: Request) -> str | None:
        tokens = self.sessions(request)
        return tokens[0] if tokens else None

    def keep_sessions(self, response: Response, tokens: list[str]) -> None:
        if tokens:
            self._set(response, SESSION_COOKIE, ".".join(tokens[:MAX_ACCOUNTS]), None)
        else:
            response.delete_cookie(SESSION_COOKIE, path="/")

    def start_session(self, response: Response, token: str, request: Request | None = None) -> None:
        """Make ``token`` the active session, keeping the browser's other accounts signed in."""
        others = [t for t in self.sessions(request) if t != token] if request is not None else []
        self.keep_sessions(response, [token, *others])

    def hold(self, response: Response, flow: str, value: Any) -> None:
        """Carry ``value`` between the pages of a flow, signed (it cannot be forged) and short-lived."""
        self._set(response, FLOW_COOKIES[flow], self.serializer.dumps([flow, value]), FLOW_MAX_AGE)

    def held(self, request: Request, flow: str) -> Any:
        raw = request.cookies.get(FLOW_COOKIES[flow])
        if not raw:
            return None
        try:
            value: Any = self.serializer.loads(raw, max_age=FLOW_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(value, list) or len(value) != 2 or value[0] != flow:
            return None  # a value signed for another flow is not accepted here
        return value[1]

    def keep_flow(self, response: Response, flow: str, handle: str) -> None:
        """Keep the handle of a server-side flow (opaque: what the flow proved is on the server)."""
        self._set(response, FLOW_COOKIES[flow], handle, FLOW_MAX_AGE)

    def flow(self, request: Request, flow: str) -> str | None:
        return request.cookies.get(FLOW_COOKIES[flow]) or None

    def drop(self, response: Response, flow: str) -> None:
        response.delete_cookie(FLOW_COOKIES[flow], path="/")

    def hold_invitation(self, response: Response, token: str, flow: str = "invitation") -> None:
        self.hold(response, flow, token)

    def drop_invitation(self, response: Response, flow: str = "invitation") -> None:
        self.drop(response, flow)

    def invitation(self, request: Request, flow: str = "invitation") -> str | None:
        """The token a flow ("invitation" or "reset") carries between its pages, if any."""
        value = self.held(request, flow)
        return value if isinstance(value, str) else None

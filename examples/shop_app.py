"""An app that signs people in through Admit: a few dozen lines of Starlette and Authlib's
OpenID Connect client, with no knowledge of Admit beyond its issuer URL.

    ADMIT_ISSUER=http://127.0.0.1:8000 EXAMPLE_CLIENT_ID=... EXAMPLE_CLIENT_SECRET=... \
        python examples/shop_app.py            # serves http://127.0.0.1:8001

`make run` registers it in the demo organization (``admit demo --example-app``) with its login
URL (``/login``), where Admit's "Let's go" sends people: the app checks the issuer, starts the
code flow (with PKCE) for the workspace named, receives the code on ``/callback`` and shows the
claims of the ID token and of the userinfo endpoint: who signed in, for which workspace, with
which role. When Admit ends the person's session (they sign out of Admit, are suspended or
removed, or their role changes), it posts a signed logout token to ``/backchannel-logout``; the app
verifies it against Admit's published keys and signs that session out of the app too."""

from __future__ import annotations

import html
import os
import secrets
from urllib.parse import urlencode

import uvicorn
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

ISSUER = os.environ.get("ADMIT_ISSUER", "http://127.0.0.1:8000").rstrip("/")
BASE = os.environ.get("EXAMPLE_URL", "http://127.0.0.1:8001").rstrip("/")
CLIENT_ID = os.environ.get("EXAMPLE_CLIENT_ID")
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Sessions live in signed cookies, so the app remembers which of them Admit ended (their ``sid``);
# in memory: this example runs as one process.
ENDED: set[str] = set()
oauth = OAuth()
oauth.register(
    "admit",
    client_id=CLIENT_ID,
    client_secret=os.environ.get("EXAMPLE_CLIENT_SECRET"),
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={"scope": "openid email profile workspace", "code_challenge_method": "S256"},
)


def page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta name=viewport content='width=device-width'><title>{title}</title>"
        f"<style>td{{word-break:break-all}}</style>"
        f"<body style='font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem'>"
        f"<h1>{title}</h1>{body}</body>"
    )


async def home(request: Request) -> Response:
    claims = request.session.get("claims")
    note = ""
    if claims and request.session.get("sid") in ENDED:
        request.session.clear()
        claims, note = None, "<p>Admit ended your session.</p>"
    if not claims:
        sign_in = "<p>You are not signed in.</p><p><a href='/login'>Sign in with Admit</a></p>"
        return page("Example Shop", note + sign_in)
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in sorted(claims.items())
    )
    name = html.escape(str(claims.get("given_name") or claims.get("email") or claims["sub"]))
    links = "<p><a href='/logout'>Sign out</a> · <a href='/logout?everywhere=1'>Sign out of Admit too</a></p>"
    return page(f"Welcome, {name}", f"<table>{rows}</table>{links}")


async def login(request: Request) -> Response:
    """The app's login URL, where Admit's "Let's go" sends people (third-party initiated login:
    ``iss``, ``target_link_uri``, ``workspace``); the app starts the code flow."""
    given = request.query_params
    if given.get("iss", ISSUER) != ISSUER:
        return page("Not signed in", "<p>That sign-in came from an issuer this app does not trust.</p>")
    target = given.get("target_link_uri", "/")
    request.session["after"] = target if target.startswith(f"{BASE}/") else "/"  # only this app's own pages
    extra = {name: given[name] for name in ("login_hint", "workspace", "prompt") if given.get(name)}
    nonce = secrets.token_urlsafe(16)
    return await oauth.admit.authorize_redirect(request, f"{BASE}/callback", nonce=nonce, **extra)  # type: ignore[no-any-return]


async def callback(request: Request) -> Response:
    if "error" in request.query_params:
        error = html.escape(request.query_params["error"])
        return page("Not signed in", f"<p>Admit answered <code>{error}</code>.</p><p><a href='/'>Back</a></p>")
    token = await oauth.admit.authorize_access_token(request)
    info = await oauth.admit.userinfo(token=token)
    request.session["claims"] = {**token["userinfo"], **info}  # the ID token's claims, then userinfo
    request.session["id_token"] = token["id_token"]  # the hint for signing out of Admit later
    request.session["sid"] = token["userinfo"].get("sid")  # what a logout token names
    return RedirectResponse(request.session.pop("after", "/"), status_code=303)


async def logout(request: Request) -> Response:
    """Sign out of this app; with ``everywhere``, of Admit too (RP-initiated logout: Admit asks
    the person to confirm, then comes back here)."""
    id_token = request.session.get("id_token")
    request.session.clear()
    if "everywhere" not in request.query_params or not id_token:
        return RedirectResponse("/", status_code=303)
    metadata = await oauth.admit.load_server_metadata()
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": f"{BASE}/"})
    return RedirectResponse(f"{metadata['end_session_endpoint']}?{query}", status_code=303)


async def backchannel_logout(request: Request) -> Response:
    """Admit's back-channel logout (OpenID Connect Back-Channel Logout 1.0): a logout token
    signed by one of Admit's published keys, for this app, naming the session that ended."""
    token = (await request.form()).get("logout_token")
    if not isinstance(token, str):
        return JSONResponse({"error": "invalid_request"}, 400, headers={"cache-control": "no-store"})
    try:
        claims = await _verified_logout(token)
    except (JoseError, ValueError) as error:
        return JSONResponse({"error": "invalid_request", "error_description": str(error)[:200]}, 400)
    ENDED.add(str(claims["sid"]))
    return Response(status_code=200, headers={"cache-control": "no-store"})


async def _verified_logout(token: str) -> dict[str, object]:
    for force in (False, True):  # once more with a fresh JWKS: the key may be newer than ours
        keys = KeySet.import_key_set(await oauth.admit.fetch_jwk_set(force=force))
        try:
            decoded = jwt.decode(token, keys, algorithms=["RS256"])
            break
        except JoseError:
            if force:
                raise
    claims = decoded.claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID or ""},
        iat={"essential": True},
        exp={"essential": True},
    ).validate(claims)
    if decoded.header.get("typ") != "logout+jwt" or "nonce" in claims:
        raise ValueError("not a logout token")
    if LOGOUT_EVENT not in (claims.get("events") or {}) or not isinstance(claims.get("sid"), str):
        raise ValueError("not a logout token for a session")
    return claims


app = Starlette(
    routes=[
        Route("/", home),
        Route("/login", login),
        Route("/callback", callback),
        Route("/logout", logout),
        Route("/backchannel-logout", backchannel_logout, methods=["POST"]),
    ],
    middleware=[Middleware(SessionMiddleware, secret_key=os.environ.get("EXAMPLE_SESSION_KEY", secrets.token_hex(32)))],
)

if __name__ == "__main__":
    port = int(BASE.rsplit(":", 1)[1].split("/")[0]) if BASE.count(":") == 2 else 8001
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")

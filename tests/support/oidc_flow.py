"""Driving Admit's OpenID provider over HTTP in tests: an app registered, a person who joined,
the authorization request (a TestClient is the browser), the app's token requests, and checking
a token against the published keys."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet

from admit.admin import invitations
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.oidc_provider import clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context
from support.api import client
from support.clock import FixedClock
from support.outbox import token_for
from support.pages import sign_in

PASSWORD = "copper-willow-harbour-83"
REDIRECT = "https://shop.example.test/callback"
ISSUER = "https://admit.example.test"
SCOPE = "openid profile email workspace"


def register(ctx: Context, organization_id: str, name: str = "Shop", **kw: Any) -> tuple[str, str | None]:
    """A new app: its client id and secret (None without one)."""
    given = ClientInput(name=name, redirect_uris=[REDIRECT], **kw)
    row, secret = clients.create(ctx, Actor.operator(), organization_id, given)
    return row["client_id"], secret


def join(ctx: Context, workspace_id: str, email: str, role: str = "member") -> None:
    invitations.invite(ctx, Actor.operator(), workspace_id, MemberInput(email=email, role=role, first_name="Ada"))
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(browser: TestClient, client_id: str, **params: str) -> Any:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "state-1",
        "nonce": "nonce-1",
        **params,
    }
    return browser.get("/oauth2/authorize", params=query, follow_redirects=False)


def back(response: Any) -> dict[str, str]:
    """The parameters of the redirect to the app."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def signed_in(ctx: Context, email: str) -> TestClient:
    browser = client(ctx)
    assert sign_in(browser, email, PASSWORD).status_code == 303
    return browser


def code_for(ctx: Context, client_id: str, email: str, **params: str) -> tuple[TestClient, dict[str, str]]:
    browser = signed_in(ctx, email)
    return browser, back(authorize(browser, client_id, **params))


def exchange(browser: TestClient, client_id: str, secret: str | None, code: str, **extra: str) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    auth = (client_id, secret) if secret else None
    if secret is None:
        form["client_id"] = client_id
    return browser.post("/oauth2/token", data=form, auth=auth)


def verify(browser: TestClient, token: str, clock: FixedClock) -> tuple[dict[str, Any], dict[str, Any]]:
    published = KeySet.import_key_set(browser.get("/oauth2/jwks").json())
    decoded = jwt.decode(token, published, algorithms=["RS256"])
    now = int(clock.now().timestamp())
    jwt.JWTClaimsRegistry(now=now, iss={"essential": True, "value": ISSUER}).validate(decoded.claims)
    return dict(decoded.header), dict(decoded.claims)

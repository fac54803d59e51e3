"""Admit as an OpenID provider over HTTP, on both databases: discovery and JWKS, the code flow
with PKCE from the sign-in page to userinfo (tokens verified with joserfc against the published
keys), the refusals (PKCE, client secret, redirect URI, replay, expiry, membership) and key
rotation."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import token_for
from support.pages import csrf, sign_in

from admit.admin import invitations, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.oidc_provider import clients, keys
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-harbour-83"
REDIRECT = "https://shop.example.test/callback"
ISSUER = "https://admit.example.test"
SCOPE = "openid profile email workspace"


def _app(ctx: Context, organization_id: str, **kw: Any) -> tuple[str, str | None]:
    given = ClientInput(name="Shop", redirect_uris=[REDIRECT], **kw)
    row, secret = clients.create(ctx, Actor.operator(), organization_id, given)
    return row["client_id"], secret


def _join(ctx: Context, workspace_id: str, email: str, role: str = "member") -> None:
    invitations.invite(ctx, Actor.operator(), workspace_id, MemberInput(email=email, role=role, first_name="Ada"))
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(browser: TestClient, client_id: str, **params: str) -> Any:
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


def _back(response: Any) -> dict[str, str]:
    """The parameters of the redirect to the app."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def _signed_in(ctx: Context, email: str) -> TestClient:
    browser = client(ctx)
    assert sign_in(browser, email, PASSWORD).status_code == 303
    return browser


def _exchange(browser: TestClient, client_id: str, secret: str | None, code: str, **extra: str) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    auth = (client_id, secret) if secret else None
    if secret is None:
        form["client_id"] = client_id
    return browser.post("/oauth2/token", data=form, auth=auth)


def _verify(browser: TestClient, token: str, clock: FixedClock) -> tuple[dict[str, Any], dict[str, Any]]:
    published = KeySet.import_key_set(browser.get("/oauth2/jwks").json())
    decoded = jwt.decode(token, published, algorithms=["RS256"])
    now = int(clock.now().timestamp())
    jwt.JWTClaimsRegistry(now=now, iss={"essential": True, "value": ISSUER}).validate(decoded.claims)
    return dict(decoded.header), dict(decoded.claims)


def test_discovery_names_the_endpoints_from_the_base_url(ctx: Context) -> None:
    browser = client(ctx)
    meta = browser.get("/.well-known/openid-configuration", headers={"host": "evil.example"}).json()
    assert meta["issuer"] == ISSUER
    assert meta["authorization_endpoint"] == f"{ISSUER}/oauth2/authorize"
    assert meta["token_endpoint"] == f"{ISSUER}/oauth2/token"
    assert meta["jwks_uri"] == f"{ISSUER}/oauth2/jwks"
    assert meta["userinfo_endpoint"] == f"{ISSUER}/oauth2/userinfo"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    jwks = browser.get("/oauth2/jwks").json()["keys"]
    assert len(jwks) == 2  # the current key and the next one
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in jwks)


def test_the_whole_code_flow_gives_verifiable_tokens_and_userinfo(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    _join(ctx, workspace.id, "ada@acme.example", role="admin")
    client_id, secret = _app(ctx, org.id)
    browser = client(ctx)
    verifier, challenge = _pkce()
    first = _authorize(browser, client_id, code_challenge=challenge, code_challenge_method="S256")
    assert first.status_code == 303 and first.headers["location"].startswith("/sign-in?next=")
    next_path = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
    signed = sign_in(browser, "ada@acme.example", PASSWORD, next_path)
    assert signed.headers["location"] == next_path
    back = _back(browser.get(next_path, follow_redirects=False))
    assert back["state"] == "state-1" and back["iss"] == ISSUER
    answer = _exchange(browser, client_id, secret, back["code"], code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    header, id_claims = _verify(browser, tokens["id_token"], clock)
    assert header["alg"] == "RS256"
    assert id_claims["aud"] == client_id and id_claims["nonce"] == "nonce-1"
    assert id_claims["email"] == "ada@acme.example" and id_claims["email_verified"] is True
    assert id_claims["given_name"] == "Ada" and "auth_time" in id_claims
    assert (id_claims["workspace_id"], id_claims["role"], id_claims["org_name"]) == (workspace.id, "admin", "Acme")
    at_header, access = _verify(browser, tokens["access_token"], clock)
    assert at_header["typ"] == "at+jwt"
    assert access["client_id"] == client_id and access["scope"] == SCOPE and access["jti"]
    assert (access["sub"], access["org_id"], access["workspace_name"]) == (id_claims["sub"], org.id, "Acme Main")
    info = browser.get("/oauth2/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200
    assert info.json()["sub"] == id_claims["sub"] and info.json()["workspace_id"] == workspace.id
    posted = browser.post("/oauth2/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
    assert posted.json() == info.json()

"""Apps that authenticate with ``private_key_jwt`` on both databases: registering their public keys
(by API, each mistake named by its field), signed assertions accepted at the token, revocation
and introspection endpoints (RS256 and ES256), and everything an attacker would try refused: a
replayed assertion, ``alg: none``, HS256 with the public key as the HMAC secret ("algorithm
confusion"), another key, another audience, a foreign issuer, a stale or far-future expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, RSAKey
from support.api import api_token, client
from support.clock import FixedClock
from support.oidc_flow import ISSUER, REDIRECT, code_for, join, register

from admit.oidc_provider import clients, housekeeping
from admit.shared.context import Actor, Context

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN = f"{ISSUER}/oauth2/token"
INTROSPECT = f"{ISSUER}/oauth2/introspect"
EMAIL = "ada@acme.example"
RSA = RSAKey.generate_key(2048, auto_kid=False)
EC = ECKey.generate_key("P-256", auto_kid=False)


def _jwks(*keys: tuple[str, Any]) -> dict[str, Any]:
    return {"keys": [{**key.as_dict(private=False), "kid": kid} for kid, key in keys]}


def _key_app(ctx: Context, org: Any, **kw: Any) -> str:
    client_id, secret = register(
        ctx, org.id, name="Keyed", token_endpoint_auth_method="private_key_jwt",
        jwks=_jwks(("rsa-1", RSA), ("ec-1", EC)), **kw,
    )  # fmt: skip
    assert secret is None
    return client_id


def _claims(clock: FixedClock, client_id: str, aud: str = TOKEN, **changes: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    return {**claims, **changes}


def _signed(claims: dict[str, Any], key: Any = RSA, kid: str = "rsa-1", alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, claims, key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(claims: dict[str, Any], alg: str, secret: bytes = b"") -> str:
    """A JWS made by hand, as an attacker would: HS256 keyed with ``secret``, or ``none``."""
    signing_input = f"{_b64(json.dumps({'alg': alg, 'kid': 'rsa-1'}).encode())}.{_b64(json.dumps(claims).encode())}"
    if alg == "none":
        return f"{signing_input}."
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _introspect(browser: TestClient, assertion: str, token: str = "nonsense", **extra: str) -> Any:  # noqa: S107
    form = {"token": token, "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **extra}
    return browser.post("/oauth2/introspect", data=form)


def test_registering_keys_by_api_names_each_mistake(ctx: Context, org: Any) -> None:
    admin = client(ctx, api_token(ctx, org.id))
    path = f"/api/v1/organizations/{org.id}/clients"
    body = {
        "name": "Keyed",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": _jwks(("rsa-1", RSA)),
        "grant_types": ["authorization_code", "refresh_token"],
    }
    created = admin.post(path, json=body)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["client_secret"] is None and app["client_secret_set"] is False
    assert app["grant_types"] == ["authorization_code", "refresh_token"]
    assert app["jwks"] == {"keys": [{"kty": "RSA", "kid": "rsa-1", "n": RSA.as_dict()["n"], "e": "AQAB"}]}
    with pytest.warns(SecurityWarning):
        small = RSAKey.generate_key(1024, auto_kid=False)
    private = {**RSA.as_dict(private=True), "kid": "rsa-1"}
    for changes, field in (
        ({"jwks": None}, "jwks"),
        ({"jwks": {"keys": [private]}}, "jwks"),  # the private key has no business here
        ({"jwks": _jwks(("oct", OctKey.generate_key(256)))}, "jwks"),
        ({"jwks": _jwks(("small", small))}, "jwks"),
        ({"jwks": _jwks(("p384", ECKey.generate_key("P-384")))}, "jwks"),
        ({"jwks": {"keys": [{**RSA.as_dict(private=False), "alg": "HS256"}]}}, "jwks"),
        ({"jwks": {"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]}}, "jwks"),
        ({"jwks": {"keys": "none"}}, "jwks.keys"),  # the shape, checked before the keys
        ({"jwks": {"keys": [{**RSA.as_dict(private=False), "kid": "k" * 101}]}}, "jwks"),
        ({"jwks": _jwks(("same", RSA), ("same", EC))}, "jwks"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "jwks"),  # keys without private_key_jwt
        ({"client_type": "public"}, "token_endpoint_auth_method"),
        ({"grant_types": ["refresh_token"]}, "grant_types"),
        ({"grant_types": ["implicit"]}, "grant_types.0"),
    ):
        refused = admin.post(path, json={**body, **changes})
        assert refused.status_code == 422, (changes, refused.text)
        assert refused.json()["error"]["field"] == field, (changes, refused.json())
    assert len(admin.get(path).json()) == 1


def test_signed_assertions_authenticate_at_the_token_revocation_and_introspection_endpoints(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id = _key_app(ctx, org, grant_types=["authorization_code", "refresh_token"])
    browser, back = code_for(ctx, client_id, EMAIL)
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT}
    auth = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": _signed(_claims(clock, client_id))}
    tokens = browser.post("/oauth2/token", data={**form, **auth})
    assert tokens.status_code == 200, tokens.text
    refreshed = browser.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"], "client_id": client_id,
              "client_assertion_type": ASSERTION_TYPE,
              "client_assertion": _signed(_claims(clock, client_id, aud=ISSUER), EC, "ec-1", "ES256")},
    )  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access_token"]
    described = _introspect(browser, _signed(_claims(clock, client_id, aud=INTROSPECT)), access).json()
    assert described["active"] is True and described["client_id"] == client_id
    revoke_auth = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": _signed(_claims(clock, client_id))}
    assert browser.post("/oauth2/revoke", data={"token": access, **revoke_auth}).status_code == 200
    assert _introspect(browser, _signed(_claims(clock, client_id)), access).json() == {"active": False}
    guessed = browser.post("/oauth2/introspect", data={"token": access}, auth=(client_id, "adm_cls_guess"))
    assert guessed.status_code == 401 and guessed.json()["error"] == "invalid_client"  # no secret to guess


def test_a_replayed_assertion_is_refused(ctx: Context, org: Any, clock: FixedClock) -> None:
    client_id = _key_app(ctx, org)
    browser = client(ctx)
    claims = _claims(clock, client_id)
    assertion = _signed(claims)
    assert _introspect(browser, assertion).json() == {"active": False}  # authenticated: the token is unknown
    replayed = _introspect(browser, assertion)
    assert replayed.status_code in (400, 401) and replayed.json()["error"] == "invalid_client"
    same_jti = _signed({**claims, "exp": claims["exp"] + 30})  # signed anew, the jti used before
    assert _introspect(browser, same_jti).json()["error"] == "invalid_client"
    clock.advance(minutes=2)  # the assertion expired: its exp refuses it, whatever is remembered
    assert _introspect(browser, assertion).json()["error"] == "invalid_client"
    assert housekeeping.sweep(ctx) == 1  # its jti, no longer needed
    clients.remove(ctx, Actor.operator(), org.id, client_id)  # with whatever it left behind


def test_algorithm_confusion_none_and_other_forgeries_are_refused(ctx: Context, org: Any, clock: FixedClock) -> None:
    client_id = _key_app(ctx, org)
    secret_id, secret = register(ctx, org.id, name="With a secret")
    browser = client(ctx)
    claims = _claims(clock, client_id)
    public_pem = RSA.as_pem(private=False)
    public_jwk = json.dumps({**RSA.as_dict(private=False), "kid": "rsa-1"}).encode()
    now = int(clock.now().timestamp())
    forgeries = {
        "HS256 keyed with the public PEM": _forged(claims, "HS256", public_pem),
        "HS256 keyed with the public JWK": _forged(claims, "HS256", public_jwk),
        "alg none": _forged(claims, "none"),
        "another RSA key": _signed(claims, RSAKey.generate_key(2048, auto_kid=False)),
        "RS256 with the EC key's kid": _signed(claims, RSA, "ec-1"),
        "another audience": _signed(_claims(clock, client_id, aud="https://elsewhere.example/token")),
        "issuer is not the subject": _signed(_claims(clock, client_id, iss="someone-else")),
        "expired": _signed(_claims(clock, client_id, exp=now - 120)),
        "exp two hours ahead": _signed(_claims(clock, client_id, exp=now + 7200)),
        "no jti": _signed({k: v for k, v in _claims(clock, client_id).items() if k != "jti"}),
        "not a JWT": "a.b.c",
    }
    for name, assertion in forgeries.items():
        refused = _introspect(browser, assertion)
        assert refused.status_code in (400, 401), name
        assert refused.json()["error"] == "invalid_client", name
    signed_for_secret_app = _signed(_claims(clock, secret_id))  # an app with a secret has no keys here
    assert _introspect(browser, signed_for_secret_app).json()["error"] == "invalid_client"
    assert secret is not None
    assert _introspect(browser, _signed(claims)).json() == {"active": False}  # the genuine one still works


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_the_token_endpoint_refuses_a_forged_assertion_too(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock, alg: str
) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id = _key_app(ctx, org)
    browser, back = code_for(ctx, client_id, EMAIL)
    forged = _forged(_claims(clock, client_id), alg, RSA.as_pem(private=False))
    answer = browser.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
              "client_id": client_id, "client_assertion_type": ASSERTION_TYPE, "client_assertion": forged},
    )  # fmt: skip
    assert answer.status_code in (400, 401) and answer.json()["error"] == "invalid_client"
    assert "access_token" not in answer.json()

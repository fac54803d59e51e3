"""An independent relying party signs a person in through a real ``admit serve``, on SQLite and
PostgreSQL: the npm ``openid-client`` (panva) discovers Admit, sends the browser to authorize with
PKCE, exchanges the code (validating the ID token against the JWKS, nonce, state and the ``iss``
response parameter), reads userinfo, refreshes once (the refresh token rotates), introspects, and
replays the first refresh token (the family is revoked). A second app authenticates with
``private_key_jwt``, its assertions signed by openid-client. The browser's part (sign-in page,
authorization) is done here over HTTP with the session cookie."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from joserfc.jwk import RSAKey
from support.oidc_providers import NPM_DIR
from support.outbox import token_for
from support.pages import csrf
from support.processes import server

from admit.admin import invitations, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.oidc_provider import clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-harbour-83"
REDIRECT = "http://127.0.0.1:9/callback"  # never followed: the test hands it to the app


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (NPM_DIR / "node_modules" / "openid-client").exists():
        if os.environ.get("CI"):
            pytest.fail("openid-client is missing in CI: 'make test' should have installed it")
        pytest.skip("npm openid-client not installed (make test installs it)")
    return node


def _setup(ctx: Context) -> tuple[Any, Any, str, str]:
    operator = Actor.operator("test")
    org = tenancy.create_organization(ctx, operator, "Acme", plan="business", seats=5)
    ws = tenancy.create_workspace(ctx, operator, org.id, "Acme Main")
    invitations.invite(ctx, operator, ws.id, MemberInput(email="ada@acme.example", role="admin", first_name="Ada"))
    claims.accept_with_token(ctx, token_for(ctx, "ada@acme.example"), password=PASSWORD)
    given = ClientInput(name="Node app", redirect_uris=[REDIRECT], grant_types=["authorization_code", "refresh_token"])
    app, secret = clients.create(ctx, operator, org.id, given)
    assert secret is not None
    return org, ws, app["client_id"], secret


def _keyed_app(ctx: Context, organization_id: str) -> tuple[str, str]:
    """An app that authenticates with private_key_jwt: its id and its private key (a JWK, JSON)."""
    key = RSAKey.generate_key(2048, auto_kid=False)
    private = {**key.as_dict(private=True), "kid": "node-1", "alg": "RS256"}
    public = {**key.as_dict(private=False), "kid": "node-1", "alg": "RS256"}
    given = ClientInput(
        name="Node keyed app", redirect_uris=[REDIRECT], token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [public]},
    )  # fmt: skip
    app, _ = clients.create(ctx, Actor.operator("test"), organization_id, given)
    return app["client_id"], json.dumps(private)


def _browser(base: str, authorize_url: str) -> str:
    """Sign in, then follow Admit's redirects until the one to the app; returns it."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=15) as http:
        form = http.get("/sign-in").text
        signed = http.post("/sign-in", data={"identifier": "ada@acme.example", "password": PASSWORD,
                                             "next": "/", "csrftoken": csrf(form)})  # fmt: skip
        assert signed.status_code == 303, signed.text
        url = authorize_url
        for _ in range(5):
            if url.startswith(REDIRECT):
                return url
            answer = http.get(url)
            assert answer.status_code in (302, 303), answer.text
            url = urljoin(url, answer.headers["location"])
    raise AssertionError("Admit never redirected to the app")


def test_openid_client_signs_a_person_in_through_admit(ctx: Context, database_url: str) -> None:
    node = _node()
    with server(database_url) as base:
        local = dataclasses.replace(ctx, base_url=base, dev_mode=True)  # the app's loopback redirect URI
        org, ws, client_id, secret = _setup(local)
        keyed_id, keyed_key = _keyed_app(local, org.id)
        app = subprocess.Popen(
            [node, str(NPM_DIR / "relying_party.mjs"), base, client_id, secret, REDIRECT, keyed_id, keyed_key],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert app.stdout is not None
            started = json.loads(app.stdout.readline() or "{}")
            assert "authorize" in started, app.stderr.read() if app.stderr else ""
            callback = _browser(base, started["authorize"])
            out, err = app.communicate(callback + "\n", timeout=60)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    assert app.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    id_token, userinfo = result["id_token"], result["userinfo"]
    assert id_token["iss"] == base and id_token["aud"] == client_id
    assert (id_token["email"], id_token["given_name"], id_token["role"]) == ("ada@acme.example", "Ada", "admin")
    assert (id_token["org_id"], id_token["workspace_id"], id_token["workspace_name"]) == (org.id, ws.id, "Acme Main")
    assert userinfo["sub"] == id_token["sub"] and userinfo["workspace_id"] == ws.id
    assert result["token_type"].lower() == "bearer"
    refresh = result["refresh"]
    assert refresh["rotated"] is True and refresh["userinfo"]["sub"] == id_token["sub"]
    assert refresh["introspection"]["active"] is True and refresh["introspection"]["client_id"] == client_id
    assert refresh["replay"] == "invalid_grant" and refresh["after_replay"] == "invalid_grant"
    assert refresh["introspection_after_replay"] == {"active": False}
    assert result["keyed"] == {"introspection": {"active": False}}  # authenticated; another app's token

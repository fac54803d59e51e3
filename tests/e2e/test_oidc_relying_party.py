"""An independent relying party signs a person in through a real ``admit serve``, on SQLite and
PostgreSQL: the npm ``openid-client`` (panva) discovers Admit, sends the browser to authorize with
PKCE, exchanges the code (validating the ID token against the JWKS, nonce, state and the ``iss``
response parameter), reads userinfo, refreshes once (the refresh token rotates), introspects, and
replays the first refresh token (the family is revoked). A second app authenticates with
``private_key_jwt``, its assertions signed by openid-client. Then the app logs the person out:
RP-initiated logout (the browser confirms on Admit's page and comes back with the app's state),
and the back-channel logout token that ``admit serve``'s outbox worker posts to the app, which
verifies it with jose against the JWKS. The browser's part (sign-in page, authorization, the
logout confirmation) is done here over HTTP with the session cookie."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
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
from support.postgres import free_port
from support.processes import server

from admit.admin import invitations, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.oidc_provider import clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-harbour-83"
REDIRECT = "http://127.0.0.1:9/callback"  # never followed: the test hands it to the app
SIGNED_OUT = "http://127.0.0.1:9/signed-out"  # likewise, after the logout


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (NPM_DIR / "node_modules" / "openid-client").exists():
        if os.environ.get("CI"):
            pytest.fail("openid-client is missing in CI: 'make test' should have installed it")
        pytest.skip("npm openid-client not installed (make test installs it)")
    return node


def _setup(ctx: Context, backchannel: str) -> tuple[Any, Any, str, str]:
    operator = Actor.operator("test")
    org = tenancy.create_organization(ctx, operator, "Acme", plan="business", seats=5)
    ws = tenancy.create_workspace(ctx, operator, org.id, "Acme Main")
    invitations.invite(ctx, operator, ws.id, MemberInput(email="ada@acme.example", role="admin", first_name="Ada"))
    claims.accept_with_token(ctx, token_for(ctx, "ada@acme.example"), password=PASSWORD)
    given = ClientInput(
        name="Node app", redirect_uris=[REDIRECT], grant_types=["authorization_code", "refresh_token"],
        post_logout_redirect_uris=[SIGNED_OUT], backchannel_logout_uri=backchannel,
    )  # fmt: skip
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


def _browser(http: httpx.Client, authorize_url: str) -> str:
    """Sign in, then follow Admit's redirects until the one to the app; returns it."""
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


def _logout(http: httpx.Client, logout_url: str) -> str:
    """The browser at Admit's end session endpoint: confirm, and return where it is sent back to."""
    asked = http.get(logout_url)
    assert asked.status_code == 200 and "Sign out of Admit?" in asked.text, asked.text
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', asked.text)
    done = http.post("/oauth2/logout/confirm", data={name: html.unescape(value) for name, value in hidden})
    assert done.status_code == 303, done.text
    return str(done.headers["location"])


def _await(app: subprocess.Popen[str], key: str) -> dict[str, Any]:
    """The app's next line, which must carry ``key``."""
    assert app.stdout is not None
    line = json.loads(app.stdout.readline() or "{}")
    assert key in line, app.stderr.read() if app.stderr else ""
    return dict(line)


def test_openid_client_signs_a_person_in_and_out_through_admit(ctx: Context, database_url: str) -> None:
    node = _node()
    port = free_port()
    with server(database_url) as base, httpx.Client(base_url=base, follow_redirects=False, timeout=15) as http:
        local = dataclasses.replace(ctx, base_url=base, dev_mode=True)  # the app's loopback redirect URI
        org, ws, client_id, secret = _setup(local, f"http://127.0.0.1:{port}/backchannel-logout")
        keyed_id, keyed_key = _keyed_app(local, org.id)
        env = {**os.environ, "RP_BACKCHANNEL_PORT": str(port), "RP_POST_LOGOUT_URI": SIGNED_OUT}
        app = subprocess.Popen(
            [node, str(NPM_DIR / "relying_party.mjs"), base, client_id, secret, REDIRECT, keyed_id, keyed_key],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            assert app.stdin is not None
            app.stdin.write(_browser(http, _await(app, "authorize")["authorize"]) + "\n")
            app.stdin.flush()
            back_to = _logout(http, _await(app, "logout")["logout"])
            out, err = app.communicate(back_to + "\n", timeout=60)
            again = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid"}
            signed_out = http.get("/oauth2/authorize", params=again)
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
    renewed = refresh["id_token"]  # an ID token with the refresh, checked by openid-client
    assert renewed["sub"] == id_token["sub"] and renewed["auth_time"] == id_token["auth_time"]
    assert renewed["sid"] == id_token["sid"] and "nonce" not in renewed
    assert refresh["introspection"]["active"] is True and refresh["introspection"]["client_id"] == client_id
    assert refresh["replay"] == "invalid_grant" and refresh["after_replay"] == "invalid_grant"
    assert refresh["introspection_after_replay"] == {"active": False}
    assert result["keyed"] == {"introspection": {"active": False}}  # authenticated; another app's token
    logout = result["logout"]
    assert logout["end_session_endpoint"] == f"{base}/oauth2/logout"
    assert logout["back_to"] is True and logout["state_ok"] is True
    backchannel = logout["backchannel"]
    assert "error" not in backchannel, backchannel
    assert backchannel["path"] == "/backchannel-logout"
    assert backchannel["content_type"] == "application/x-www-form-urlencoded"
    assert backchannel["header"]["typ"] == "logout+jwt" and backchannel["header"]["alg"] == "RS256"
    assert backchannel["claims"]["aud"] == client_id and backchannel["claims"]["iss"] == base
    assert logout["same_sid"] is True and logout["same_sub"] is True and backchannel["lifetime"] <= 120
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/sign-in")  # session gone

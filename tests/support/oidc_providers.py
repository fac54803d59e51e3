"""Real OpenID providers on loopback for the tests, each stopped when its block ends:

- ``mock_provider``: oidc-provider-mock (PyPI), in a thread; users' claims set over its API;
- ``npm_provider``: the npm ``oidc-provider`` (tests/support/oidc/provider.mjs), which enforces
  PKCE, in a Node process;
- ``forged_provider``: a tiny provider built on joserfc that answers every authorization at once
  and signs whatever ID token the test asks for (wrong issuer, audience, nonce, expired, alg none).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from support.postgres import free_port

NPM_DIR = Path(__file__).parent / "oidc"


@contextlib.contextmanager
def mock_provider(**options: Any) -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1; yields its issuer. Nonces are required."""
    with warnings.catch_warnings():  # it imports Authlib's deprecated jose module
        warnings.simplefilter("ignore")
        import oidc_provider_mock
    app = oidc_provider_mock.app(require_nonce=True, **options)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def set_user(issuer: str, sub: str, **claims: Any) -> None:
    """Tell oidc-provider-mock which claims ``sub`` has."""
    assert httpx.put(f"{issuer}/users/{sub}", json=claims).status_code == 204


def mock_authorize(auth_url: str, sub: str) -> str:
    """Sign in at oidc-provider-mock as ``sub`` (its form, as a browser would post it); returns the
    callback URL the provider sends the browser to."""
    response = httpx.post(auth_url, data={"sub": sub}, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


@contextlib.contextmanager
def npm_provider(
    redirect_uris: list[str],
    *,
    client_id: str = "admit",
    client_secret: str = "npm-secret",  # noqa: S107 - a test provider's client
    accounts: dict[str, Any] | None = None,
) -> Iterator[str]:
    """The npm oidc-provider in Node on 127.0.0.1 (PKCE required); yields its issuer."""
    node = shutil.which("node")
    if node is None or not (NPM_DIR / "node_modules" / "oidc-provider").exists():
        if os.environ.get("CI"):
            pytest.fail("the npm oidc-provider is missing in CI: 'make test' should have installed it")
        pytest.skip("npm oidc-provider not installed (make test installs it)")
    port = free_port()
    clients = [{"client_id": client_id, "client_secret": client_secret, "redirect_uris": redirect_uris}]
    env = {**os.environ, "OIDC_CLIENTS": json.dumps(clients), "OIDC_ACCOUNTS": json.dumps(accounts or {})}
    process = subprocess.Popen(
        [node, str(NPM_DIR / "provider.mjs"), str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening"), f"oidc-provider did not start: {line!r}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def npm_authorize(auth_url: str, login: str, stop_at: str) -> str:
    """Sign in at the npm provider's own login and consent pages over HTTP; returns the callback
    URL (the first redirect to ``stop_at``)."""
    with httpx.Client(follow_redirects=False, timeout=10) as http:
        url = auth_url
        for _ in range(12):
            if url.startswith(stop_at):
                return url
            response = http.get(url)
            if response.status_code in (302, 303):
                url = str(response.url.join(response.headers["location"]))
                continue
            assert response.status_code == 200, response.text
            action = str(response.url.join(_form_action(response.text)))
            form = {"login": login, "password": "any"} if 'name="login"' in response.text else {}
            posted = http.post(action, data={"prompt": "login" if form else "consent", **form})
            assert posted.status_code in (302, 303), posted.text
            url = str(posted.url.join(posted.headers["location"]))
    raise AssertionError("the npm provider never redirected back")


def _form_action(html: str) -> str:
    start = html.index('action="') + len('action="')
    return html[start : html.index('"', start)]


class Forged:
    """What the forged provider's next ID token says (the test changes fields before the flow)."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "forged", "use": "sig", "alg": "RS256"})
        self.issuer = ""
        self.claims: dict[str, Any] = {}
        self.alg = "RS256"
        self.last_nonce = ""
        self.last_challenge = ""

    def id_token(self, client_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "forged-subject",
            "aud": client_id,
            "iat": now,
            "exp": now + 600,
            "nonce": self.last_nonce,
            "email": "forged@example.com",
            "email_verified": True,
            "given_name": "Fred",
            "family_name": "Forged",
            **self.claims,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        if self.alg == "none":
            return _unsigned(claims)
        return jwt.encode({"alg": self.alg, "kid": "forged"}, claims, self.key)


def _unsigned(claims: dict[str, Any]) -> str:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@contextlib.contextmanager
def forged_provider() -> Iterator[Forged]:
    """A provider that authorizes at once and signs the ID token the test describes."""
    forged = Forged()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                base = forged.issuer
                self._json(
                    {
                        "issuer": base,
                        "authorization_endpoint": f"{base}/authorize",
                        "token_endpoint": f"{base}/token",
                        "jwks_uri": f"{base}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                    }
                )
            elif url.path == "/jwks":
                self._json({"keys": [forged.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                forged.last_nonce = query.get("nonce", "")
                forged.last_challenge = query.get("code_challenge", "")
                target = f"{query['redirect_uri']}?{urlencode({'code': 'forged-code', 'state': query['state']})}"
                self.send_response(302)
                self.send_header("location", target)
                self.end_headers()
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != "/token" or form.get("code") != "forged-code":
                self.send_error(400)
                return
            self._json({"access_token": "forged-access", "token_type": "Bearer", "id_token": forged.id_token("admit")})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    forged.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield forged
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def redirect_target(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return str(response.headers["location"])

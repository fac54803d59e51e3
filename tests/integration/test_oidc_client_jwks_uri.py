"""Apps that publish their keys at a ``jwks_uri`` (``private_key_jwt``), on both databases: the
keys read from a real HTTP server on loopback (dev mode) when an assertion needs them, kept per
process as the answer's ``Cache-Control`` says, read again when an app signs with a key the kept
set lacks (at most every 30 seconds), the last keys serving while the app's address fails, and
everything wrong with the address or the document refused with the reason. Outside dev mode a
private or loopback address is never called."""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from support.api import api_token, client
from support.clock import FixedClock
from support.oidc_flow import ISSUER, REDIRECT, code_for, join, register

from admit.adapters.delivery import outbound
from admit.domain.errors import ValidationFailed
from admit.oidc_provider import assertions
from admit.shared.context import Context

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN = f"{ISSUER}/oauth2/token"
INTROSPECT = f"{ISSUER}/oauth2/introspect"
RSA_1 = RSAKey.generate_key(2048, auto_kid=False)
RSA_2 = RSAKey.generate_key(2048, auto_kid=False)
EC = ECKey.generate_key("P-256", auto_kid=False)


def _public(kid: str, key: Any, **extra: Any) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": kid, **extra}


class KeyServer:
    """An app's key set on loopback: what it answers can be changed, and it counts the reads."""

    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b""
        self.headers: dict[str, str] = {"content-type": "application/jwk-set+json"}
        self.reads = 0
        self.serve({"keys": [_public("rsa-1", RSA_1)]})
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.reads += 1
                self.send_response(owner.status)
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, document: Any, status: int = 200, **headers: str) -> None:
        self.body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.status = status
        self.headers = {"content-type": "application/jwk-set+json", **headers}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keys() -> Iterator[KeyServer]:
    assertions.REMOTE_KEYS.forget()
    server = KeyServer()
    yield server
    server.stop()
    assertions.REMOTE_KEYS.forget()


@pytest.fixture
def dev(ctx: Context) -> Context:
    return dataclasses.replace(ctx, dev_mode=True)


def _claims(clock: FixedClock, client_id: str, aud: str = INTROSPECT) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    return {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60,
            "jti": secrets.token_urlsafe(16)}  # fmt: skip


def _signed(clock: FixedClock, client_id: str, key: Any = RSA_1, kid: str = "rsa-1", alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, _claims(clock, client_id), key)


def _introspect(browser: Any, assertion: str) -> Any:
    form = {"token": "unknown", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    return browser.post("/oauth2/introspect", data=form)


def _app(ctx: Context, org: Any, url: str, **kw: Any) -> str:
    client_id, secret = register(ctx, org.id, name="Published", token_endpoint_auth_method="private_key_jwt",
                                 jwks_uri=url, **kw)  # fmt: skip
    assert secret is None
    return client_id


def test_registering_a_jwks_uri_by_api_names_each_mistake(dev: Context, org: Any, keys: KeyServer) -> None:
    admin = client(dev, api_token(dev, org.id))
    path = f"/api/v1/organizations/{org.id}/clients"
    body = {"name": "Published", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": keys.url}  # fmt: skip
    created = admin.post(path, json=body)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["jwks_uri"] == keys.url and app["jwks"] is None and app["client_secret"] is None
    assert keys.reads == 0  # read when an assertion needs the keys, not at registration
    for changes, field in (
        ({"jwks": {"keys": [_public("rsa-1", RSA_1)]}}, "jwks_uri"),  # both
        ({"token_endpoint_auth_method": "client_secret_basic"}, "jwks_uri"),  # an address without private_key_jwt
        ({"jwks_uri": "http://keys.example.com/jwks.json"}, "jwks_uri"),  # http off loopback
        ({"jwks_uri": "https://keys.example.com/jwks.json#frag"}, "jwks_uri"),
        ({"jwks_uri": "https://" + "k" * 600 + ".example"}, "jwks_uri"),
        ({"jwks_uri": None}, "jwks"),  # private_key_jwt needs one or the other
    ):
        refused = admin.post(path, json={**body, **changes})
        assert refused.status_code == 422, (changes, refused.text)
        assert refused.json()["error"]["field"] == field, (changes, refused.json())
    client_id = app["client_id"]
    inline = admin.patch(f"{path}/{client_id}", json={"jwks": {"keys": [_public("ec-1", EC)]}})
    assert inline.status_code == 200, inline.text
    assert inline.json()["jwks_uri"] is None and inline.json()["jwks"]["keys"][0]["kid"] == "ec-1"
    published = admin.patch(f"{path}/{client_id}", json={"jwks_uri": keys.url})
    assert published.status_code == 200, published.text
    assert published.json()["jwks_uri"] == keys.url and published.json()["jwks"] is None


def test_keys_are_read_when_needed_kept_and_read_again_for_a_new_kid(
    dev: Context, org: Any, workspace: Any, clock: FixedClock, keys: KeyServer
) -> None:
    join(dev, workspace.id, "ada@acme.example")
    client_id = _app(dev, org, keys.url)
    browser, back = code_for(dev, client_id, "ada@acme.example")
    assertion = jwt.encode({"alg": "RS256", "kid": "rsa-1"}, _claims(clock, client_id, TOKEN), RSA_1)
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}  # fmt: skip
    tokens = browser.post("/oauth2/token", data=form)
    assert tokens.status_code == 200, tokens.text
    assert "access_token" in tokens.json() and keys.reads == 1
    assert _introspect(browser, _signed(clock, client_id)).json() == {"active": False}  # authenticated
    assert keys.reads == 1  # kept
    # The app rotates: it publishes a new key and signs with it. The unknown kid reads the set again
    # (not sooner than 30 seconds after the last read).
    keys.serve({"keys": [_public("rsa-1", RSA_1), _public("rsa-2", RSA_2)]})
    assert _introspect(browser, _signed(clock, client_id, RSA_2, "rsa-2")).json()["error"] == "invalid_client"
    assert keys.reads == 1
    clock.advance(seconds=31)
    assert _introspect(browser, _signed(clock, client_id, RSA_2, "rsa-2")).json() == {"active": False}
    assert keys.reads == 2
    # A kid nobody published does not make Admit read the set on every request.
    refused = _introspect(browser, _signed(clock, client_id, RSA_2, "nobody"))
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"
    assert keys.reads == 2
    # A key the set no longer holds stops working when the set is read again.
    keys.serve({"keys": [_public("rsa-2", RSA_2)]})
    clock.advance(seconds=301)  # the kept set's five minutes are up
    assert _introspect(browser, _signed(clock, client_id)).json()["error"] == "invalid_client"
    assert _introspect(browser, _signed(clock, client_id, RSA_2, "rsa-2")).json() == {"active": False}


def test_the_last_keys_serve_while_the_address_fails_and_without_them_the_app_is_told_why(
    dev: Context, org: Any, clock: FixedClock, keys: KeyServer
) -> None:
    client_id = _app(dev, org, keys.url)
    browser = client(dev)
    assert _introspect(browser, _signed(clock, client_id)).json() == {"active": False}
    keys.serve({"error": "down"}, status=503)
    clock.advance(seconds=301)  # time to read the set again: it fails, the last keys serve
    assert _introspect(browser, _signed(clock, client_id)).json() == {"active": False}
    assert keys.reads == 2
    clock.advance(hours=25)  # keys older than a day are not used
    refused = _introspect(browser, _signed(clock, client_id))
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"
    assert "jwks_uri" in refused.json()["error_description"] and "503" in refused.json()["error_description"]


@pytest.mark.parametrize(
    ("document", "headers", "reason"),
    [
        (b"<html>not json</html>", {}, "not JSON"),
        ({"keys": "rsa"}, {}, "not a JSON Web Key Set"),
        ({"keys": [{**_public("rsa-1", RSA_1), **RSA_1.as_dict(private=True)}]}, {}, "private key"),
        ({"keys": [_public("enc", RSA_1, use="enc")]}, {}, "no RSA"),
        (json.dumps({"keys": [_public("rsa-1", RSA_1)], "pad": "x" * 70_000}).encode(), {}, "larger than 64 KB"),
    ],
)
def test_a_document_that_is_not_a_usable_key_set_is_refused_with_the_reason(
    dev: Context, org: Any, clock: FixedClock, keys: KeyServer, document: Any, headers: dict[str, str], reason: str
) -> None:
    client_id = _app(dev, org, keys.url)
    keys.serve(document, **headers)
    refused = _introspect(client(dev), _signed(clock, client_id))
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"
    assert reason in refused.json()["error_description"], refused.json()


def test_encryption_keys_and_other_kinds_are_passed_over(
    dev: Context, org: Any, clock: FixedClock, keys: KeyServer
) -> None:
    keys.serve({"keys": [
        _public("enc-1", RSA_2, use="enc", alg="RSA-OAEP"), {"kty": "OKP", "crv": "Ed25519", "x": "abc", "kid": "ed"},
        "not a key", _public("ec-1", EC), _public("ec-1", RSA_1),  # a repeated kid: the first kept
    ]}, **{"cache-control": "public, max-age=600"})  # fmt: skip
    client_id = _app(dev, org, keys.url)
    browser = client(dev)
    assert _introspect(browser, _signed(clock, client_id, EC, "ec-1", "ES256")).json() == {"active": False}
    assert _introspect(browser, _signed(clock, client_id, RSA_2, "enc-1")).json()["error"] == "invalid_client"
    kept = assertions.REMOTE_KEYS._kept[(client_id, keys.url)]
    assert kept.kids == {"ec-1"} and 590 <= kept.fresh_until - kept.read_at <= 600


def test_outside_dev_mode_loopback_and_private_addresses_are_never_called(keys: KeyServer) -> None:
    for url in (keys.url, "http://10.0.0.7/jwks.json", "https://169.254.169.254/latest/meta-data"):
        with pytest.raises(outbound.FetchFailed, match="refused"):
            outbound.get_json(url, allow_private=False, max_bytes=1024, timeout=1.0)
    assert keys.reads == 0
    with pytest.raises(assertions.InvalidClientError, match="see the server's log") as refused:
        assertions.RemoteKeys().key_set("app", keys.url, "rsa-1", allow_private=False, now=0.0)
    assert "127.0.0.1" not in str(refused.value.description)  # nothing about the network to the caller
    assert keys.reads == 0


def test_a_failed_read_is_remembered_and_one_read_serves_many(
    keys: KeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    remote = assertions.RemoteKeys()
    keys.serve({"error": "down"}, status=503)
    for _ in range(5):  # an app whose address is down: one read per half minute, not one per request
        with pytest.raises(assertions.InvalidClientError, match="HTTP 503"):
            remote.key_set("app", keys.url, "rsa-1", allow_private=True, now=1000.0)
    assert keys.reads == 1 and "could not be read from its jwks_uri: it answered HTTP 503" in caplog.text
    keys.serve({"keys": [_public("rsa-1", RSA_1)]})
    with pytest.raises(assertions.InvalidClientError):
        remote.key_set("app", keys.url, "rsa-1", allow_private=True, now=1029.0)
    assert keys.reads == 1
    results = []

    def read() -> None:
        results.append(remote.key_set("app", keys.url, "rsa-1", allow_private=True, now=1031.0))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6 and keys.reads == 2  # six requests at once, one read


def test_the_cache_lifetime_follows_cache_control_within_bounds() -> None:
    assert assertions._max_age("") == 300
    assert assertions._max_age("public, max-age=86400") == 3600
    assert assertions._max_age("max-age=5") == 60
    assert assertions._max_age("no-store") == 60
    assert assertions._max_age("max-age=99999999999999") == 3600


def test_fetched_keys_refuse_what_is_not_a_key_set() -> None:
    for document in (None, [], {"keys": {}}, {"keys": []}, {"keys": [None, 1, "x"]}):
        with pytest.raises(ValidationFailed):
            assertions.fetched_keys(document)
    many = {"keys": [_public(f"k{n}", EC) for n in range(80)]}
    assert len(assertions.fetched_keys(many)["keys"]) == assertions.MAX_FETCHED_KEYS

"""RP-initiated logout over HTTP, on both databases: an app's request with a valid hint and a
registered URI asks first (a GET changes nothing), the confirmation signs the browser out and goes
back to the app with ``state``; an unregistered URI means no redirect; a forged hint, another
app's hint or an access token as hint are refused; an expired hint is fine; an app's form post
only redirects to the question; the page speaks the language of ``ui_locales``."""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from support.api import client
from support.clock import FixedClock
from support.oidc_flow import ISSUER, PASSWORD, code_for, exchange, join, register, verify
from support.pages import csrf

from admit.domain.errors import SecretRejected
from admit.flows.signin import sessions
from admit.shared.context import Context

EMAIL = "ada@acme.example"
SIGNED_OUT = "https://shop.example.test/signed-out"


def _signed_in_app(ctx: Context, org: Any, workspace: Any) -> tuple[TestClient, str, dict[str, Any]]:
    """Ada signed in on a browser, an app with a post-logout URI, and the tokens it got."""
    join(ctx, workspace.id, EMAIL)
    client_id, secret = register(ctx, org.id, post_logout_redirect_uris=[SIGNED_OUT])
    browser, back = code_for(ctx, client_id, EMAIL)
    tokens = exchange(browser, client_id, secret, back["code"]).json()
    return browser, client_id, tokens


def _session(browser: TestClient) -> str:
    return str(browser.cookies.get("admit_session")).split(".")[0]


def _still_signed_in(ctx: Context, token: str) -> bool:
    try:
        sessions.authenticate_session(ctx, token)
    except SecretRejected:
        return False
    return True


def _confirm(browser: TestClient, asked: Any, **headers: str) -> Any:
    """Press "Sign out" on the confirmation page: its form, as the browser would post it."""
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', asked.text)
    fields = {name: html.unescape(value) for name, value in hidden}
    return browser.post("/oauth2/logout/confirm", data=fields, headers=headers, follow_redirects=False)


def test_discovery_and_the_id_token_name_what_logout_needs(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id, secret = register(ctx, org.id)
    meta = client(ctx).get("/.well-known/openid-configuration").json()
    assert meta["end_session_endpoint"] == f"{ISSUER}/oauth2/logout"
    assert meta["backchannel_logout_supported"] is True and meta["backchannel_logout_session_supported"] is True
    assert "sid" in meta["claims_supported"]
    sids = []
    for _ in range(2):  # two browsers: two Admit sessions
        browser, back = code_for(ctx, client_id, EMAIL)
        _, claims = verify(browser, exchange(browser, client_id, secret, back["code"]).json()["id_token"], FixedClock())
        sids.append(claims["sid"])
    assert len(sids[0]) == 32 and sids[0] != sids[1]


def test_a_valid_hint_asks_first_then_signs_out_and_goes_back_with_state(
    ctx: Context, org: Any, workspace: Any
) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    session = _session(browser)
    query = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "st-9"}
    asked = browser.get("/oauth2/logout", params=query)
    assert asked.status_code == 200 and "Sign out of Admit?" in asked.text and "Shop asks you" in asked.text
    assert "https://shop.example.test" in asked.headers["content-security-policy"].split("form-action")[1]
    assert _still_signed_in(ctx, session)  # the GET changed nothing
    with ctx.uow() as uow:
        assert not [e for e in uow.events.list(None) if e.action == "account.signed_out"]
    done = _confirm(browser, asked)
    assert done.status_code == 303
    location = urlsplit(done.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == SIGNED_OUT
    assert parse_qs(location.query) == {"state": ["st-9"]}
    assert not _still_signed_in(ctx, session)
    assert "admit_session" not in browser.cookies
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert browser.get("/oauth2/userinfo", headers=bearer).status_code == 401  # issued in the ended session


def test_client_id_alone_and_nobody_signed_in_goes_straight_back(ctx: Context, org: Any, workspace: Any) -> None:
    _, client_id, _ = _signed_in_app(ctx, org, workspace)
    stranger = client(ctx)
    query = {"client_id": client_id, "post_logout_redirect_uri": SIGNED_OUT, "state": "x"}
    back = stranger.get("/oauth2/logout", params=query, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"{SIGNED_OUT}?state=x"


def test_an_unregistered_uri_gets_no_redirect_but_an_explanation(ctx: Context, org: Any, workspace: Any) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    session = _session(browser)
    query = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/x", "state": "s"}
    asked = browser.get("/oauth2/logout", params=query)
    assert asked.status_code == 200 and "has not registered" in asked.text
    assert "evil.example" not in asked.headers["content-security-policy"]
    done = _confirm(browser, asked)
    assert done.status_code == 200 and "location" not in done.headers
    assert "You are signed out of Admit" in done.text and "evil.example" not in done.text
    assert not _still_signed_in(ctx, session)


def _forged(ctx: Context, claims: dict[str, Any]) -> str:
    key = RSAKey.generate_key(2048)
    return jwt.encode({"alg": "RS256", "kid": "made-up", "typ": "JWT"}, claims, key)


@pytest.mark.parametrize("how", ["another key", "tampered", "alg none", "access token", "another app"])
def test_a_forged_or_wrong_hint_is_refused_and_nothing_changes(
    ctx: Context, org: Any, workspace: Any, how: str
) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    session = _session(browser)
    _, claims = verify(browser, tokens["id_token"], FixedClock())
    header, payload, signature = tokens["id_token"].split(".")
    other_id, _ = register(ctx, org.id, name="Other", post_logout_redirect_uris=[SIGNED_OUT])
    hint, extra = {
        "another key": (_forged(ctx, claims), {}),
        "tampered": (f"{header}.{_b64({**claims, 'sub': 'someone-else'})}.{signature}", {}),
        "alg none": (f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.", {}),
        "access token": (tokens["access_token"], {}),
        "another app": (tokens["id_token"], {"client_id": other_id}),
    }[how]
    query = {"id_token_hint": hint, "post_logout_redirect_uri": SIGNED_OUT, "state": "s", **extra}
    refused = browser.get("/oauth2/logout", params=query, follow_redirects=False)
    assert refused.status_code == 400 and "This sign-out request is not valid" in refused.text
    assert "location" not in refused.headers
    forged_post = browser.post(
        "/oauth2/logout/confirm",
        data={**query, "csrftoken": csrf(browser.get("/sign-in").text)},
        follow_redirects=False,
    )
    assert forged_post.status_code == 400 and "location" not in forged_post.headers
    assert _still_signed_in(ctx, session)


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_an_expired_hint_still_names_the_app_and_the_person(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    clock.advance(hours=3)  # the ID token expired after one hour
    query = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "late"}
    asked = browser.get("/oauth2/logout", params=query)
    assert asked.status_code == 200 and "Shop asks you" in asked.text
    done = _confirm(browser, asked)
    assert done.status_code == 303 and done.headers["location"] == f"{SIGNED_OUT}?state=late"


def test_an_apps_form_post_only_redirects_to_the_question(ctx: Context, org: Any, workspace: Any) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    session = _session(browser)
    form = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "p"}
    cross_site = {"origin": "https://shop.example.test", "sec-fetch-site": "cross-site"}
    posted = browser.post("/oauth2/logout", data=form, headers=cross_site, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/oauth2/logout?")
    assert _still_signed_in(ctx, session)
    asked = browser.get(posted.headers["location"])
    assert asked.status_code == 200 and "Sign out of Admit?" in asked.text
    refused = _confirm(browser, asked, **cross_site)  # the confirmation is a page form: not from another site
    assert refused.status_code == 403 and _still_signed_in(ctx, session)


def test_ui_locales_chooses_the_pages_language(ctx: Context, org: Any, workspace: Any) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    query = {"id_token_hint": tokens["id_token"], "ui_locales": "de-CH fr"}
    asked = browser.get("/oauth2/logout", params=query)
    assert "Von Admit abmelden?" in asked.text and 'lang="de"' in asked.text
    french = browser.get("/oauth2/logout", params={**query, "ui_locales": "es fr-CA"})
    assert "Se déconnecter d’Admit ?" in french.text


def test_the_hint_picks_its_persons_session_among_the_browsers_accounts(ctx: Context, org: Any, workspace: Any) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    ada = _session(browser)
    join(ctx, workspace.id, "bo@acme.example")
    signed = browser.post(
        "/sign-in",
        data={"identifier": "bo@acme.example", "password": PASSWORD, "csrftoken": csrf(browser.get("/sign-in").text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    bo = _session(browser)
    assert bo != ada
    asked = browser.get("/oauth2/logout", params={"id_token_hint": tokens["id_token"]})
    done = _confirm(browser, asked)
    assert done.status_code == 200 and "You are signed out of Admit" in done.text
    assert not _still_signed_in(ctx, ada) and _still_signed_in(ctx, bo)  # Ada's, not the active one
    assert _session(browser) == bo


def test_without_a_post_logout_uri_the_person_stays_on_admit(ctx: Context, org: Any, workspace: Any) -> None:
    browser, _, tokens = _signed_in_app(ctx, org, workspace)
    asked = browser.get("/oauth2/logout", params={"id_token_hint": tokens["id_token"], "state": "s"})
    done = _confirm(browser, asked)
    assert done.status_code == 200 and "You can close this page, or go back to Shop" in done.text

"""Admit as an OpenID provider over HTTP, on both databases: discovery and JWKS, the code flow
with PKCE from the sign-in page to userinfo (tokens verified with joserfc against the published
keys), the refusals (PKCE, client secret, redirect URI, replay, expiry, membership) and key
rotation."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.api import api_token, client
from support.clock import FixedClock
from support.oidc_flow import ISSUER, PASSWORD, REDIRECT, SCOPE
from support.oidc_flow import authorize as _authorize
from support.oidc_flow import back as _back
from support.oidc_flow import code_for as _code_for
from support.oidc_flow import exchange as _exchange
from support.oidc_flow import join as _join
from support.oidc_flow import pkce as _pkce
from support.oidc_flow import register as _app
from support.oidc_flow import signed_in as _signed_in
from support.oidc_flow import verify as _verify
from support.outbox import token_for
from support.pages import csrf, sign_in

from admit.admin import invitations, members, tenancy, terms
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.oidc_provider import housekeeping, keys
from admit.shared.context import Actor, Context


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
    preflight = browser.options("/oauth2/userinfo", headers={"origin": "https://shop.example.test"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"


def test_a_public_client_must_use_pkce_and_the_right_verifier(ctx: Context, org: Any, workspace: Any) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, secret = _app(ctx, org.id, client_type="public")
    assert secret is None
    browser, refused = _code_for(ctx, client_id, "ada@acme.example")
    assert refused["error"] == "invalid_request" and refused["state"] == "state-1" and refused["iss"] == ISSUER
    assert "code" not in refused
    _, challenge = _pkce()
    plain = _back(_authorize(browser, client_id, code_challenge=challenge, code_challenge_method="plain"))
    assert plain["error"] == "invalid_request"
    back = _back(_authorize(browser, client_id, code_challenge=challenge, code_challenge_method="S256"))
    wrong = _exchange(browser, client_id, None, back["code"], code_verifier=_pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = _back(_authorize(browser, client_id, code_challenge=challenge, code_challenge_method="S256"))
    assert _exchange(browser, client_id, None, missing["code"]).json()["error"] == "invalid_request"


def test_a_wrong_client_secret_is_refused(ctx: Context, org: Any, workspace: Any) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, secret = _app(ctx, org.id)
    browser, back = _code_for(ctx, client_id, "ada@acme.example")
    assert secret is not None
    answer = _exchange(browser, client_id, secret[:-2] + "xx", back["code"])
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    posted = browser.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
              "client_id": client_id, "client_secret": secret},
    )  # fmt: skip
    assert posted.json()["error"] == "invalid_client"  # registered for client_secret_basic only


def test_an_unregistered_redirect_uri_or_client_gets_an_error_page_never_a_redirect(
    ctx: Context, org: Any, workspace: Any
) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, _ = _app(ctx, org.id)
    browser = _signed_in(ctx, "ada@acme.example")
    for params in (
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": REDIRECT + "/"},
        {"client_id": "nobody"},
    ):
        answer = _authorize(browser, params.pop("client_id", client_id), **params)
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "not valid" in answer.text


def test_a_replayed_code_is_refused_and_its_tokens_revoked(ctx: Context, org: Any, workspace: Any) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, secret = _app(ctx, org.id)
    browser, back = _code_for(ctx, client_id, "ada@acme.example")
    tokens = _exchange(browser, client_id, secret, back["code"]).json()
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert browser.get("/oauth2/userinfo", headers=bearer).status_code == 200
    again = _exchange(browser, client_id, secret, back["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    refused = browser.get("/oauth2/userinfo", headers=bearer)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["www-authenticate"]


def test_an_expired_code_is_refused(ctx: Context, org: Any, workspace: Any, clock: FixedClock) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, secret = _app(ctx, org.id)
    browser, back = _code_for(ctx, client_id, "ada@acme.example")
    clock.advance(minutes=5, seconds=1)
    assert _exchange(browser, client_id, secret, back["code"]).json()["error"] == "invalid_grant"


def test_a_person_not_active_in_the_requested_workspace_gets_access_denied(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    other = tenancy.create_workspace(ctx, operator, org.id, "Acme Labs")
    client_id, _ = _app(ctx, org.id)
    _, back = _code_for(ctx, client_id, "ada@acme.example", workspace=other.id)
    assert back["error"] == "access_denied"
    assert "code" not in back and back["state"] == "state-1" and back["iss"] == ISSUER
    bound_id, _ = _app(ctx, org.id, workspace_ids=[other.id])  # an app of the other workspace only
    _, unbound = _code_for(ctx, bound_id, "ada@acme.example")
    assert unbound["error"] == "access_denied"


def test_a_person_in_two_workspaces_picks_one_and_a_token_for_a_never_gives_b(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    labs = tenancy.create_workspace(ctx, operator, org.id, "Acme Labs")
    invitations.invite(ctx, operator, labs.id, MemberInput(email="ada@acme.example", role="admin"))
    _, account = sessions.sign_in(ctx, "ada@acme.example", PASSWORD)
    claims.accept_with_token(ctx, token_for(ctx, "ada@acme.example"), account_id=account.id)
    client_id, secret = _app(ctx, org.id)
    browser = _signed_in(ctx, "ada@acme.example")
    choice = _authorize(browser, client_id)
    assert choice.status_code == 200 and "Acme Labs" in choice.text and "Acme Main" in choice.text
    query = html.unescape(choice.text.split('name="query" value="')[1].split('"')[0])
    assert parse_qs(query)["client_id"] == [client_id] and "workspace" not in parse_qs(query)
    picked = browser.post(
        "/oauth2/authorize/workspace",
        data={"query": query, "workspace": workspace.id, "csrftoken": csrf(choice.text)},
        follow_redirects=False,
    )
    assert picked.status_code == 303
    back = _back(browser.get(picked.headers["location"], follow_redirects=False))
    tokens = _exchange(browser, client_id, secret, back["code"]).json()
    _, id_claims = _verify(browser, tokens["id_token"], clock)
    assert id_claims["workspace_id"] == workspace.id
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    info = browser.get("/oauth2/userinfo", params={"workspace": labs.id}, headers=bearer).json()
    assert info["workspace_id"] == workspace.id and info["role"] == "member"
    labs_back = _back(_authorize(browser, client_id, workspace=labs.id))
    labs_tokens = _exchange(browser, client_id, secret, labs_back["code"]).json()
    _, labs_claims = _verify(browser, labs_tokens["access_token"], clock)
    assert (labs_claims["workspace_id"], labs_claims["role"]) == (labs.id, "admin")


def test_prompt_none_without_a_session_and_max_age_send_the_person_to_sign_in(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, _ = _app(ctx, org.id)
    assert _back(_authorize(client(ctx), client_id, prompt="none"))["error"] == "login_required"
    browser = _signed_in(ctx, "ada@acme.example")
    assert "code" in _back(_authorize(browser, client_id, prompt="none"))
    clock.advance(minutes=10)
    assert _back(_authorize(browser, client_id, max_age="300", prompt="none"))["error"] == "login_required"
    again = _authorize(browser, client_id, max_age="300", login_hint="ada@acme.example")
    assert again.status_code == 303 and "identifier=ada%40acme.example" in again.headers["location"]
    login = _authorize(browser, client_id, prompt="login")
    assert login.status_code == 303 and "prompt" not in login.headers["location"]


def test_the_terms_gate_comes_before_any_code(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    terms.publish(ctx, operator, workspace.id, filename="terms.txt", document=b"Be kind.")
    client_id, _ = _app(ctx, org.id)
    browser = _signed_in(ctx, "ada@acme.example")
    answer = _authorize(browser, client_id)
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"/terms/{workspace.id}?next=")
    assert _back(_authorize(browser, client_id, prompt="none"))["error"] == "interaction_required"
    page = browser.get(answer.headers["location"]).text
    browser.post(f"/terms/{workspace.id}/1/download", data={"csrftoken": csrf(page)})
    next_path = html.unescape(page.split('name="next" value="')[1].split('"')[0])
    accepted = browser.post(
        f"/terms/{workspace.id}/accept",
        data={"csrftoken": csrf(page), "version": "1", "agree": "yes", "next": next_path},
        follow_redirects=False,
    )
    assert accepted.status_code == 303 and accepted.headers["location"] == next_path  # back to the app's request
    assert "code" in _back(browser.get(next_path, follow_redirects=False))


def test_rotation_publishes_the_next_key_before_it_signs_and_old_tokens_still_verify(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, secret = _app(ctx, org.id)
    browser, back = _code_for(ctx, client_id, "ada@acme.example")
    old = _exchange(browser, client_id, secret, back["code"]).json()
    old_header, _ = _verify(browser, old["id_token"], clock)
    published = {k["kid"] for k in browser.get("/oauth2/jwks").json()["keys"]}
    upcoming = published - {old_header["kid"]}
    assert len(upcoming) == 1  # the next key, published but not signing
    done = keys.rotate(ctx, Actor.operator())
    assert {done["current"]} == upcoming and done["retired"] == [old_header["kid"]]
    _verify(browser, old["id_token"], clock)  # the retired key is still published
    _, fresh = _code_for(ctx, client_id, "ada@acme.example")
    new_header, _ = _verify(browser, _exchange(browser, client_id, secret, fresh["code"]).json()["id_token"], clock)
    assert new_header["kid"] == done["current"]
    assert (
        browser.get("/oauth2/userinfo", headers={"authorization": f"Bearer {old['access_token']}"}).status_code == 200
    )
    clock.advance(hours=1, minutes=6)
    keys.rotate(ctx, Actor.operator())
    assert old_header["kid"] not in {k["kid"] for k in browser.get("/oauth2/jwks").json()["keys"]}


def test_apps_through_the_api_show_the_secret_once_and_stay_in_their_organization(
    ctx: Context, operator: Actor, org: Any
) -> None:
    admin = client(ctx, api_token(ctx, org.id))
    body = {"name": "Shop", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "workspace"]}
    created = admin.post(f"/api/v1/organizations/{org.id}/clients", json=body)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["client_secret"].startswith("adm_cls_") and app["token_endpoint_auth_method"] == "client_secret_basic"
    listed = admin.get(f"/api/v1/organizations/{org.id}/clients").json()
    assert [a["client_id"] for a in listed] == [app["client_id"]] and "client_secret" not in listed[0]
    for uri in ("http://shop.example.test/cb", "https://shop.example.test/cb#frag", "shop"):
        bad = admin.post(f"/api/v1/organizations/{org.id}/clients", json={**body, "redirect_uris": [uri]})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "redirect_uris"
    other = tenancy.create_organization(ctx, operator, "Other", plan="business", seats=5)
    stranger = client(ctx, api_token(ctx, other.id))
    assert stranger.get(f"/api/v1/organizations/{org.id}/clients").status_code == 404
    assert stranger.delete(f"/api/v1/organizations/{other.id}/clients/{app['client_id']}").status_code == 404
    assert admin.delete(f"/api/v1/organizations/{org.id}/clients/{app['client_id']}").status_code == 204
    assert admin.get(f"/api/v1/organizations/{org.id}/clients").json() == []


def test_a_suspended_member_gets_no_code_no_token_and_no_userinfo(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, secret = _app(ctx, org.id)
    browser, first = _code_for(ctx, client_id, "ada@acme.example")
    tokens = _exchange(browser, client_id, secret, first["code"]).json()
    _, pending = _code_for(ctx, client_id, "ada@acme.example")
    _, account = sessions.sign_in(ctx, "ada@acme.example", PASSWORD)
    with ctx.uow() as uow:
        member = uow.members.for_account(org.id, workspace.id, account.id)
    assert member is not None
    members.suspend(ctx, operator, member.id)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert browser.get("/oauth2/userinfo", headers=bearer).status_code == 401
    assert _exchange(browser, client_id, secret, pending["code"]).json()["error"] == "invalid_grant"
    assert _back(_authorize(browser, client_id))["error"] == "access_denied"


def test_the_sweep_forgets_expired_tokens_and_spent_codes(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, secret = _app(ctx, org.id)
    browser, back = _code_for(ctx, client_id, "ada@acme.example")
    _exchange(browser, client_id, secret, back["code"])
    assert housekeeping.sweep(ctx) == 0
    clock.advance(hours=1, minutes=6)
    assert housekeeping.sweep(ctx) == 2  # the token's record and its code


def test_an_initial_password_is_replaced_before_any_code(ctx: Context, org: Any, workspace: Any) -> None:
    _join(ctx, workspace.id, "ada@acme.example")
    client_id, _ = _app(ctx, org.id)
    browser = _signed_in(ctx, "ada@acme.example")
    _, account = sessions.sign_in(ctx, "ada@acme.example", PASSWORD)
    with ctx.uow(write=True) as uow:  # as an import with a one-time password leaves it
        uow.accounts.set_password_hash(account.id, ctx.hasher.hash(PASSWORD), must_change=True)
        uow.commit()
    answer = _authorize(browser, client_id)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/change-password?next=/oauth2/")
    assert _back(_authorize(browser, client_id, prompt="none"))["error"] == "interaction_required"

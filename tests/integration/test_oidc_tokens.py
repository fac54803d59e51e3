"""The OpenID provider's tokens after the code exchange, over HTTP and on both databases: refresh
tokens (rotation, reuse detection revoking the family, membership re-checked, bound to the app,
absolute lifetime), revocation (RFC 7009), introspection (RFC 7662), userinfo refusing revoked
tokens, and the housekeeping of all of it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import client
from support.clock import FixedClock
from support.oidc_flow import ISSUER, PASSWORD, code_for, exchange, join, register, verify

from admit.admin import members
from admit.domain.errors import ValidationFailed
from admit.flows.signin import sessions
from admit.oidc_provider import clients, housekeeping, refresh
from admit.shared.context import Actor, Context

EMAIL = "ada@acme.example"
BOTH = ["authorization_code", "refresh_token"]


def _started(ctx: Context, org: Any, workspace: Any) -> tuple[TestClient, str, str, dict[str, Any]]:
    """Ada in the workspace, an app with refresh tokens, and the tokens of her first sign-in."""
    join(ctx, workspace.id, EMAIL)
    client_id, secret = register(ctx, org.id, grant_types=BOTH)
    assert secret is not None
    browser, back = code_for(ctx, client_id, EMAIL)
    answer = exchange(browser, client_id, secret, back["code"])
    assert answer.status_code == 200, answer.text
    return browser, client_id, secret, answer.json()


def _refresh(browser: TestClient, client_id: str, secret: str, token: str, **extra: str) -> Any:
    form = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    return browser.post("/oauth2/token", data=form, auth=(client_id, secret))


def _revoke(browser: TestClient, client_id: str, secret: str, token: str, **extra: str) -> Any:
    return browser.post("/oauth2/revoke", data={"token": token, **extra}, auth=(client_id, secret))


def _introspect(browser: TestClient, client_id: str, secret: str, token: str) -> dict[str, Any]:
    answer = browser.post("/oauth2/introspect", data={"token": token}, auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return dict(answer.json())


def _userinfo(browser: TestClient, access_token: str) -> int:
    return int(browser.get("/oauth2/userinfo", headers={"authorization": f"Bearer {access_token}"}).status_code)


def _member_id(ctx: Context, org: Any, workspace: Any) -> str:
    _, account = sessions.sign_in(ctx, EMAIL, PASSWORD)
    with ctx.uow() as uow:
        member = uow.members.for_account(org.id, workspace.id, account.id)
    assert member is not None
    return str(member.id)


def test_discovery_advertises_refresh_revocation_introspection_and_private_key_jwt(ctx: Context) -> None:
    meta = client(ctx).get("/.well-known/openid-configuration").json()
    assert meta["revocation_endpoint"] == f"{ISSUER}/oauth2/revoke"
    assert meta["introspection_endpoint"] == f"{ISSUER}/oauth2/introspect"
    assert meta["grant_types_supported"] == BOTH
    assert meta["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none",
    ]  # fmt: skip
    for endpoint in ("revocation_endpoint", "introspection_endpoint"):
        assert meta[f"{endpoint}_auth_methods_supported"] == [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ]
    for endpoint in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert meta[f"{endpoint}_auth_signing_alg_values_supported"] == ["RS256", "ES256"]


def test_a_refresh_rotates_the_token_and_reads_the_claims_afresh(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    old = first["refresh_token"]
    assert old.startswith("adm_rft_") and len(old.removeprefix("adm_rft_")) == 43  # 256 random bits
    members.update(ctx, operator, _member_id(ctx, org, workspace), {"role": "admin"})
    clock.advance(minutes=30)
    answer = _refresh(browser, client_id, secret, old)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    second = answer.json()
    assert second["refresh_token"].startswith("adm_rft_") and second["refresh_token"] != old
    assert second["token_type"] == "Bearer" and second["expires_in"] == 3600
    _, claims = verify(browser, second["access_token"], clock)
    assert (claims["role"], claims["workspace_id"], claims["client_id"]) == ("admin", workspace.id, client_id)
    _, original = verify(browser, first["id_token"], clock)  # half an hour old: still valid
    _, renewed = verify(browser, second["id_token"], clock)  # OpenID Connect Core 12.2
    for name in ("iss", "sub", "aud", "auth_time", "sid"):
        assert renewed[name] == original[name], name
    assert renewed["iat"] == int(clock.now().timestamp()) > original["iat"]
    assert "nonce" in original and "nonce" not in renewed
    assert (renewed["role"], original["role"]) == ("admin", "member")  # read afresh
    assert (
        claims["scope"] == first["scope"] and claims["jti"] != verify(browser, first["access_token"], clock)[1]["jti"]
    )
    assert _userinfo(browser, second["access_token"]) == 200
    narrower = _refresh(browser, client_id, secret, second["refresh_token"], scope="openid email").json()
    assert narrower["scope"] == "openid email"
    wider = _refresh(browser, client_id, secret, narrower["refresh_token"], scope="openid admin")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    kept = _refresh(browser, client_id, secret, narrower["refresh_token"])  # not spent by the refusal
    assert kept.status_code == 200 and kept.json()["scope"] == first["scope"]  # the family keeps its scope


def test_without_the_refresh_token_grant_an_app_gets_no_refresh_token(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id, secret = register(ctx, org.id)
    assert secret is not None
    browser, back = code_for(ctx, client_id, EMAIL)
    tokens = exchange(browser, client_id, secret, back["code"]).json()
    assert "refresh_token" not in tokens and "access_token" in tokens
    refused = _refresh(browser, client_id, secret, "adm_rft_" + "x" * 43)
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    with pytest.raises(ValidationFailed) as caught:
        register(ctx, org.id, client_type="public", grant_types=BOTH)
    assert caught.value.field == "grant_types"


def test_reusing_a_refresh_token_revokes_its_whole_family(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    _, other_back = code_for(ctx, client_id, EMAIL)  # a second sign-in: a family of its own
    other = exchange(browser, client_id, secret, other_back["code"]).json()
    second = _refresh(browser, client_id, secret, first["refresh_token"]).json()
    clock.advance(seconds=refresh.RACE_GRACE.total_seconds() + 1)
    replayed = _refresh(browser, client_id, secret, first["refresh_token"])
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    after = _refresh(browser, client_id, secret, second["refresh_token"])  # the thief's or the app's: gone
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert _userinfo(browser, second["access_token"]) == 401
    assert _userinfo(browser, first["access_token"]) == 401
    assert _introspect(browser, client_id, secret, second["refresh_token"]) == {"active": False}
    assert _refresh(browser, client_id, secret, other["refresh_token"]).status_code == 200  # untouched
    assert _userinfo(browser, other["access_token"]) == 200
    with ctx.uow() as uow:
        events = [e for e in uow.events.list(org.id) if e.action == "client.refresh_token_replayed"]
    assert len(events) == 1 and events[0].data["revoked_tokens"] == 2
    assert first["refresh_token"] not in str(events[0].data)


def test_an_app_racing_itself_loses_one_request_not_the_family(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    second = _refresh(browser, client_id, secret, first["refresh_token"]).json()
    clock.advance(seconds=refresh.RACE_GRACE.total_seconds())
    raced = _refresh(browser, client_id, secret, first["refresh_token"])  # the other tab, a moment later
    assert raced.status_code == 400 and raced.json()["error"] == "invalid_grant"
    assert _userinfo(browser, second["access_token"]) == 200  # the family lives on
    third = _refresh(browser, client_id, secret, second["refresh_token"])
    assert third.status_code == 200, third.text
    with ctx.uow() as uow:
        assert not [e for e in uow.events.list(org.id) if e.action == "client.refresh_token_replayed"]


@pytest.mark.parametrize("change", ["remove", "suspend"])
def test_a_person_no_longer_active_in_the_workspace_cannot_refresh(
    ctx: Context, operator: Actor, org: Any, workspace: Any, change: str
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    member_id = _member_id(ctx, org, workspace)
    getattr(members, change)(ctx, operator, member_id)
    refused = _refresh(browser, client_id, secret, first["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    if change == "suspend":
        members.reactivate(ctx, operator, member_id)
        again = _refresh(browser, client_id, secret, first["refresh_token"])
        assert again.json()["error"] == "invalid_grant"  # the family ended with the suspension
    assert _userinfo(browser, first["access_token"]) == 401


def test_a_refresh_token_works_for_its_own_app_only(ctx: Context, org: Any, workspace: Any) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    other_id, other_secret = register(ctx, org.id, name="Other", grant_types=BOTH)
    assert other_secret is not None
    stolen = _refresh(browser, other_id, other_secret, first["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert _introspect(browser, other_id, other_secret, first["refresh_token"]) == {"active": False}
    assert _introspect(browser, other_id, other_secret, first["access_token"]) == {"active": False}
    assert _revoke(browser, other_id, other_secret, first["refresh_token"]).status_code == 200  # unknown to it
    assert _refresh(browser, client_id, secret, first["refresh_token"]).status_code == 200  # still the owner's


def test_a_wrong_client_secret_is_refused_at_refresh_revocation_and_introspection(
    ctx: Context, org: Any, workspace: Any
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    wrong = secret[:-2] + ("xx" if not secret.endswith("xx") else "yy")
    for path, form in (
        ("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}),
        ("/oauth2/revoke", {"token": first["refresh_token"]}),
        ("/oauth2/introspect", {"token": first["access_token"]}),
    ):
        answer = browser.post(path, data=form, auth=(client_id, wrong))
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client", path
        anonymous = browser.post(path, data={**form, "client_id": client_id})
        assert anonymous.status_code in (400, 401) and anonymous.json()["error"] == "invalid_client", path
    assert _refresh(browser, client_id, secret, first["refresh_token"]).status_code == 200  # nothing was spent


def test_a_family_lives_thirty_days_from_the_sign_in_whatever_the_refreshes(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    clock.advance(days=20)
    second = _refresh(browser, client_id, secret, first["refresh_token"]).json()
    assert _introspect(browser, client_id, secret, second["refresh_token"])["exp"] == int(
        (clock.now().timestamp()) + 10 * 86400
    )
    clock.advance(days=10)
    expired = _refresh(browser, client_id, secret, second["refresh_token"])
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    assert _introspect(browser, client_id, secret, second["refresh_token"]) == {"active": False}


def test_a_replayed_code_revokes_the_refresh_family_it_began(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id, secret = register(ctx, org.id, grant_types=BOTH)
    assert secret is not None
    browser, back = code_for(ctx, client_id, EMAIL)
    first = exchange(browser, client_id, secret, back["code"]).json()
    second = _refresh(browser, client_id, secret, first["refresh_token"]).json()
    assert exchange(browser, client_id, secret, back["code"]).json()["error"] == "invalid_grant"
    assert _refresh(browser, client_id, secret, second["refresh_token"]).json()["error"] == "invalid_grant"
    assert _userinfo(browser, second["access_token"]) == 401


def test_revoking_a_refresh_token_ends_its_family_and_its_access_tokens(ctx: Context, org: Any, workspace: Any) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    second = _refresh(browser, client_id, secret, first["refresh_token"]).json()
    answer = _revoke(browser, client_id, secret, second["refresh_token"], token_type_hint="refresh_token")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert _refresh(browser, client_id, secret, second["refresh_token"]).json()["error"] == "invalid_grant"
    assert _userinfo(browser, second["access_token"]) == 401
    assert _introspect(browser, client_id, secret, second["access_token"]) == {"active": False}
    assert _revoke(browser, client_id, secret, second["refresh_token"]).status_code == 200  # again: still 200


def test_revoking_an_access_token_stops_it_at_userinfo_and_introspection_only(
    ctx: Context, org: Any, workspace: Any
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    assert _introspect(browser, client_id, secret, first["access_token"])["active"] is True
    answer = _revoke(browser, client_id, secret, first["access_token"], token_type_hint="access_token")
    assert answer.status_code == 200
    assert _userinfo(browser, first["access_token"]) == 401
    assert _introspect(browser, client_id, secret, first["access_token"]) == {"active": False}
    assert _refresh(browser, client_id, secret, first["refresh_token"]).status_code == 200  # its family lives on


def test_revocation_answers_200_for_tokens_it_does_not_know_and_refuses_bad_requests(
    ctx: Context, org: Any, workspace: Any
) -> None:
    browser, client_id, secret, _ = _started(ctx, org, workspace)
    for token in ("nonsense", "adm_rft_" + "x" * 43, "a.b.c", "adm_cls_" + "y" * 43, "x" * 5000):
        assert _revoke(browser, client_id, secret, token).status_code == 200, token
    for form in ({}, {"token": ""}):
        missing = browser.post("/oauth2/revoke", data=form, auth=(client_id, secret))
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    hinted = _revoke(browser, client_id, secret, "nonsense", token_type_hint="id_token")
    assert hinted.status_code == 200  # a hint is only a hint
    public_id, _ = register(ctx, org.id, name="Single page", client_type="public")
    public = browser.post("/oauth2/revoke", data={"token": "nonsense", "client_id": public_id})
    assert public.status_code in (400, 401) and public.json()["error"] == "invalid_client"


def test_introspection_describes_live_tokens_of_the_calling_app(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    access = _introspect(browser, client_id, secret, first["access_token"])
    _, claims = verify(browser, first["access_token"], clock)
    assert access == {"active": True, "token_type": "Bearer", **claims}
    assert (access["client_id"], access["workspace_id"], access["iss"]) == (client_id, workspace.id, ISSUER)
    refresh = _introspect(browser, client_id, secret, first["refresh_token"])
    assert refresh["active"] is True and refresh["sub"] == claims["sub"] and refresh["client_id"] == client_id
    assert refresh["scope"] == first["scope"] and refresh["iss"] == ISSUER
    for garbage in ("nonsense", first["access_token"][:-4] + "AAAA", "adm_rft_unknown"):
        assert _introspect(browser, client_id, secret, garbage) == {"active": False}
    members.suspend(ctx, operator, _member_id(ctx, org, workspace))
    assert _introspect(browser, client_id, secret, first["access_token"]) == {"active": False}
    assert _introspect(browser, client_id, secret, first["refresh_token"]) == {"active": False}


def test_an_expired_access_token_is_inactive(ctx: Context, org: Any, workspace: Any, clock: FixedClock) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    clock.advance(hours=1, seconds=1)
    assert _introspect(browser, client_id, secret, first["access_token"]) == {"active": False}
    assert _revoke(browser, client_id, secret, first["access_token"]).status_code == 200


def test_the_sweep_keeps_a_code_while_its_family_lives_and_forgets_both_after(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    _refresh(browser, client_id, secret, first["refresh_token"])
    clock.advance(hours=2)
    assert housekeeping.sweep(ctx) == 2  # the two access tokens' records; the code stays with its family
    clock.advance(days=30)
    assert housekeeping.sweep(ctx) == 4  # the two refresh tokens, then the code; the app's session (30 days)
    with ctx.uow() as uow:
        assert uow.oidc_refresh_tokens.by_digest("0" * 64) is None


def test_removing_an_app_ends_its_refresh_and_access_tokens(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    second = _refresh(browser, client_id, secret, first["refresh_token"]).json()
    clients.remove(ctx, operator, org.id, client_id)
    assert _refresh(browser, client_id, secret, second["refresh_token"]).json()["error"] == "invalid_client"
    assert _userinfo(browser, second["access_token"]) == 401

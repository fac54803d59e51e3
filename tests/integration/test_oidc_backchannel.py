"""Back-channel logout, on both databases: a suspension, a removal, a role change, a sign-out (page
and API) and a password change make the outbox worker POST a logout token to each app that
registered a back-channel URI and received tokens for the person (there); the app is a real HTTP
server on loopback, and each token is checked against the published keys (signature, ``typ``,
``aud``, ``iss``, ``sub``, ``sid``, the event, no ``nonce``, two minutes of life). An app without
the URI gets nothing; an app that answered 500 gets it again; a private address is refused
outside dev mode; a worker whose lease is about to end does not start a send."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet
from support.api import client
from support.clock import FixedClock
from support.delivery import drain, worker
from support.oidc_flow import PASSWORD, code_for, exchange, join, register, verify
from support.outbox import messages, token_for
from support.pages import csrf
from support.sms_gateway import Gateway, sms_gateway

from admit.adapters.delivery.transports import Outgoing
from admit.admin import invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.entrypoints.workers.outbox_worker import DeliveryPolicy, OutboxWorker
from admit.flows.invitation import claims as invitee
from admit.flows.settings import password_change
from admit.flows.signin import sessions
from admit.oidc_provider.backchannel import EVENT
from admit.shared.context import Actor, Context

EMAIL = "ada@acme.example"
BOTH = ["authorization_code", "refresh_token"]


@contextlib.contextmanager
def _app_server() -> Iterator[Gateway]:
    """The app's back-channel endpoint: records every POST, answers 200 (or what a test scripts)."""
    with sms_gateway() as app:
        yield app


def _app(ctx: Context, org: Any, uri: str | None, name: str = "Shop") -> tuple[str, str]:
    """An app (refresh tokens too), with a back-channel logout URI on loopback (dev mode allows it)."""
    client_id, secret = register(
        dataclasses.replace(ctx, dev_mode=True), org.id, name=name, grant_types=BOTH, backchannel_logout_uri=uri
    )
    assert secret is not None
    return client_id, secret


def _sign_in(ctx: Context, client_id: str, secret: str, **params: str) -> tuple[TestClient, dict[str, Any]]:
    """A browser that signed Ada in to the app; the tokens the app got, and the ID token's claims."""
    browser, back = code_for(ctx, client_id, EMAIL, **params)
    tokens = exchange(browser, client_id, secret, back["code"]).json()
    _, claims = verify(browser, tokens["id_token"], FixedClock(ctx.clock.now()))
    return browser, {**tokens, "claims": claims}


def _member(ctx: Context, workspace: Any, email: str = EMAIL) -> str:
    _, account = sessions.sign_in(ctx, email, PASSWORD)
    with ctx.uow() as uow:
        member = uow.members.for_account(workspace.organization_id, workspace.id, account.id)
    assert member is not None
    return str(member.id)


def _refresh(browser: TestClient, client_id: str, secret: str, token: str) -> Any:
    return browser.post(
        "/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": token}, auth=(client_id, secret)
    )


def _delivered(ctx: Context, app: Gateway) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Run the worker (dev mode: loopback allowed); every logout token the app received, verified
    with the JWKS: (header, claims)."""
    drain(worker(ctx, logout=True, dev_mode=True))
    published = KeySet.import_key_set(client(ctx).get("/oauth2/jwks").json())
    received = []
    for request in app.requests:
        headers = {name.lower(): value for name, value in request["headers"].items()}
        assert headers["content-type"] == "application/x-www-form-urlencoded"
        assert set(request["body"]) == {"logout_token"}
        decoded = jwt.decode(request["body"]["logout_token"], published, algorithms=["RS256"])
        received.append((dict(decoded.header), dict(decoded.claims)))
    return received


def _check(
    ctx: Context, header: dict[str, Any], claims: dict[str, Any], client_id: str, id_claims: dict[str, Any]
) -> None:
    """What Back-Channel Logout 1.0 §2.4 asks of a logout token, for this app's session."""
    now = int(ctx.clock.now().timestamp())
    assert header["typ"] == "logout+jwt" and header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "https://admit.example.test" and claims["aud"] == client_id
    assert (claims["sub"], claims["sid"]) == (id_claims["sub"], id_claims["sid"])
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims
    assert claims["iat"] == now and 0 < claims["exp"] - claims["iat"] <= 120 and len(claims["jti"]) >= 16


def test_a_suspension_sends_a_verifiable_logout_token_to_the_app_with_the_uri_only(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    join(ctx, workspace.id, EMAIL)
    with _app_server() as app:
        shop_id, shop_secret = _app(ctx, org, f"{app.url}/backchannel-logout")
        quiet_id, quiet_secret = _app(ctx, org, None, name="Quiet")
        browser, shop = _sign_in(ctx, shop_id, shop_secret)
        _, quiet = _sign_in(ctx, quiet_id, quiet_secret)
        assert messages(ctx, kind="backchannel_logout") == []  # signing in tells nobody
        members.suspend(ctx, operator, _member(ctx, workspace))
        [queued] = messages(ctx, kind="backchannel_logout")
        assert (queued["channel"], queued["recipient"], queued["workspace_id"]) == ("logout", shop_id, workspace.id)
        assert "logout_token" not in str(queued["payload"])  # signed when sent: nothing to steal at rest
        [(header, claims)] = _delivered(ctx, app)
    assert app.requests[0]["path"] == "/backchannel-logout"
    _check(ctx, header, claims, shop_id, shop["claims"])
    assert messages(ctx, kind="backchannel_logout")[0]["state"] == "sent"
    for client_id, secret, tokens in ((shop_id, shop_secret, shop), (quiet_id, quiet_secret, quiet)):
        refused = _refresh(browser, client_id, secret, tokens["refresh_token"])
        assert refused.json()["error"] == "invalid_grant"  # every family of the workspace is revoked


def test_a_role_change_tells_the_app_and_a_refresh_shows_the_new_role(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    join(ctx, workspace.id, EMAIL)
    with _app_server() as app:
        shop_id, secret = _app(ctx, org, f"{app.url}/bc")
        browser, shop = _sign_in(ctx, shop_id, secret)
        members.update(ctx, operator, _member(ctx, workspace), {"first_name": "Adah"})
        assert messages(ctx, kind="backchannel_logout") == []  # only the role counts
        members.update(ctx, operator, _member(ctx, workspace), {"role": "admin"})
        [(header, claims)] = _delivered(ctx, app)
    _check(ctx, header, claims, shop_id, shop["claims"])
    refreshed = _refresh(browser, shop_id, secret, shop["refresh_token"])
    assert refreshed.status_code == 200
    _, access = verify(browser, refreshed.json()["access_token"], FixedClock(ctx.clock.now()))
    assert access["role"] == "admin"


def test_signing_out_tells_the_apps_of_that_session_only(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    with _app_server() as app:
        shop_id, secret = _app(ctx, org, f"{app.url}/bc")
        first, one = _sign_in(ctx, shop_id, secret)
        second, two = _sign_in(ctx, shop_id, secret)  # another browser: another Admit session
        assert one["claims"]["sid"] != two["claims"]["sid"]
        out = first.post("/sign-out", data={"next": "/", "csrftoken": csrf(first.get("/sign-in").text)})
        assert out.status_code == 200
        [(header, claims)] = _delivered(ctx, app)
        _check(ctx, header, claims, shop_id, one["claims"])
        assert _refresh(first, shop_id, secret, one["refresh_token"]).json()["error"] == "invalid_grant"
        kept = _refresh(second, shop_id, secret, two["refresh_token"])
        assert kept.status_code == 200  # the other browser's session goes on
        session = str(second.cookies.get("admit_session")).split(".")[0]
        assert client(ctx, session).delete("/api/v1/sessions/current").status_code == 204  # the API's door
        [_, (_, by_api)] = _delivered(ctx, app)
    assert by_api["sid"] == two["claims"]["sid"]
    assert _refresh(second, shop_id, secret, kept.json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_removal_from_one_workspace_leaves_the_apps_session_in_another(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    other = tenancy.create_workspace(ctx, operator, org.id, "Second")
    join(ctx, workspace.id, EMAIL)
    invitations.invite(ctx, operator, other.id, MemberInput(email=EMAIL))
    _, account = sessions.sign_in(ctx, EMAIL, PASSWORD)
    invitee.accept_with_token(ctx, token_for(ctx, EMAIL), account_id=account.id)
    with _app_server() as app:
        shop_id, secret = _app(ctx, org, f"{app.url}/bc")
        browser, here = _sign_in(ctx, shop_id, secret, workspace=workspace.id)
        _, there = _sign_in(ctx, shop_id, secret, workspace=other.id)
        members.remove(ctx, operator, _member(ctx, workspace))
        [(_, claims)] = _delivered(ctx, app)
    assert claims["sid"] == here["claims"]["sid"] != there["claims"]["sid"]
    assert _refresh(browser, shop_id, secret, there["refresh_token"]).status_code == 200


def test_a_password_change_tells_every_app_session_of_the_account(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    with _app_server() as app:
        shop_id, secret = _app(ctx, org, f"{app.url}/bc")
        _, one = _sign_in(ctx, shop_id, secret)
        _, two = _sign_in(ctx, shop_id, secret)
        _, account = sessions.sign_in(ctx, EMAIL, PASSWORD)
        password_change.change_password(ctx, account.id, PASSWORD, "another-orchard-pebble-92")
        told = {claims["sid"] for _, claims in _delivered(ctx, app)}
    assert told == {one["claims"]["sid"], two["claims"]["sid"]}


def test_an_app_that_answered_500_gets_a_fresh_token_later_and_a_400_ends_it(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    join(ctx, workspace.id, EMAIL)
    with _app_server() as app:
        shop_id, secret = _app(ctx, org, f"{app.url}/bc")
        _, shop = _sign_in(ctx, shop_id, secret)
        drain(worker(ctx, dev_mode=True))  # the invitation's email: out of the way
        members.suspend(ctx, operator, _member(ctx, workspace))
        app.script = [500]
        runner = worker(ctx, logout=True, dev_mode=True)
        assert drain(runner) == 1
        [failed] = messages(ctx, kind="backchannel_logout")
        assert (failed["state"], failed["last_error"]) == ("failed", "the app answered 500")
        assert drain(runner) == 0  # backing off
        clock.advance(minutes=2)
        assert drain(runner) == 1
        received = _delivered(ctx, app)  # nothing more to send; both tokens verify
        assert len(received) == 2 and received[0][1]["jti"] != received[1][1]["jti"]
        _check(ctx, *received[1], shop_id, shop["claims"])
        assert messages(ctx, kind="backchannel_logout")[0]["state"] == "sent"
        members.reactivate(ctx, operator, _member(ctx, workspace))
        _sign_in(ctx, shop_id, secret)
        members.suspend(ctx, operator, _member(ctx, workspace))
        app.script = [400]  # the app refuses the token: trying again cannot help
        drain(worker(ctx, logout=True, dev_mode=True))
    last = messages(ctx, kind="backchannel_logout")[-1]
    assert (last["state"], last["attempts"], last["last_error"]) == ("abandoned", 1, "the app answered 400")


def test_a_private_address_is_refused_outside_dev_mode(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    with _app_server() as app:
        shop_id, secret = _app(ctx, org, f"{app.url}/bc")
        _sign_in(ctx, shop_id, secret)
        members.suspend(ctx, operator, _member(ctx, workspace))
        drain(worker(ctx, logout=True, dev_mode=False))
    [refused] = messages(ctx, kind="backchannel_logout")
    assert refused["state"] == "abandoned" and "not public (127.0.0.1)" in refused["last_error"]
    assert app.requests == []


def test_a_worker_starts_no_send_when_its_lease_is_about_to_end(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    join(ctx, workspace.id, EMAIL)
    join(ctx, workspace.id, "bo@acme.example")
    shop_id, secret = _app(ctx, org, "http://127.0.0.1:9/bc")
    _sign_in(ctx, shop_id, secret)
    browser, back = code_for(ctx, shop_id, "bo@acme.example")
    exchange(browser, shop_id, secret, back["code"])
    for email in (EMAIL, "bo@acme.example"):
        members.suspend(ctx, operator, _member(ctx, workspace, email))
    sent: list[Outgoing] = []

    class Slow:
        """Each send takes 110 of the lease's 120 seconds."""

        @contextlib.contextmanager
        def session(self) -> Iterator[Any]:
            def send(message: Outgoing) -> None:
                sent.append(message)
                clock.advance(seconds=110)

            yield send

    policy = DeliveryPolicy(max_attempts=5, backoff_seconds=60, lease_seconds=120, batch=50)
    assert OutboxWorker(ctx, {"logout": Slow()}, policy).run_once() == 2
    states = [(m["state"], m["attempts"]) for m in messages(ctx, kind="backchannel_logout")]
    assert len(sent) == 1 and sorted(states) == [("queued", 0), ("sent", 1)]

"""One-time passwords given by an administrator (the fourth article: "granted manually under
User Management"), on both databases: the use case's rules, the REST API and the person's page;
the person must choose their own password at the first sign-in, through every door."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import messages
from support.pages import browser_signed_in, csrf
from test_admin_pages import person, signed_in

from admit.admin import members, tenancy
from admit.domain.errors import Conflict, NotFound, WeakPassword
from admit.flows.settings import password_change
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

ONE_TIME = "tulip-granite-lantern-47"


def test_a_member_without_an_account_is_activated_and_must_choose_their_own(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    kai = person(ctx, operator, workspace, "kai@example.com", invite=True, first_name="Kai")
    before = len(messages(ctx))
    done = members.set_initial_password(ctx, operator, kai, ONE_TIME)
    assert done.status == "active" and done.account_id is not None
    assert len(messages(ctx)) == before  # given by hand: nothing is sent
    assert password_change.must_change(ctx, done.account_id)
    with ctx.uow() as uow:
        assert uow.invitations.pending_for_member(done.organization_id, kai) is None  # its link ended
    _, account = sessions.sign_in(ctx, "kai@example.com", ONE_TIME)
    assert account.id == done.account_id
    api = client(ctx)
    session = api.post("/api/v1/sessions", json={"identifier": "kai@example.com", "password": ONE_TIME}).json()
    home = api.get("/api/v1/me/invitations", headers={"authorization": f"Bearer {session['token']}"})
    assert home.status_code == 403  # the API too, until the person chose their own
    browser = client(ctx)
    form = browser.get("/sign-in").text
    answer = browser.post(
        "/sign-in",
        data={"identifier": "kai@example.com", "password": ONE_TIME, "csrftoken": csrf(form)},
        follow_redirects=False,
    )
    assert answer.headers["location"].startswith("/change-password")


def test_the_rules_every_door_shares(ctx: Context, operator: Actor, workspace: Any, org: Any) -> None:
    joined = person(ctx, operator, workspace, "ann@example.com", invite=True)
    members.set_initial_password(ctx, operator, joined, ONE_TIME)
    with pytest.raises(Conflict) as caught:  # a person with an account resets it themselves
        members.set_initial_password(ctx, operator, joined, "another-granite-tulip-58")
    assert caught.value.code == "has_account"
    weak = person(ctx, operator, workspace, "ben@example.com")
    with pytest.raises(WeakPassword):
        members.set_initial_password(ctx, operator, weak, "password")
    admin = person(ctx, operator, workspace, "ada@example.com", role="owner")
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    refused = api.post(f"/api/v1/members/{admin}/initial-password", json={"password": ONE_TIME})
    assert refused.status_code == 403  # an admin cannot hand an owner's account a password
    member_api = client(ctx, api_token(ctx, org.id, role="member"))
    assert member_api.post(f"/api/v1/members/{weak}/initial-password", json={"password": ONE_TIME}).status_code == 403
    for body in ({}, {"password": ""}, {"password": None}, {"password": "x" * 300}, {"password": 7}):
        assert api.post(f"/api/v1/members/{weak}/initial-password", json=body).status_code == 422, body
    ok = api.post(f"/api/v1/members/{weak}/initial-password", json={"password": ONE_TIME})
    assert ok.status_code == 200 and ok.json()["status"] == "active"
    assert "password" not in ok.text.lower().replace("must_change_password", "")
    with pytest.raises(NotFound):
        members.set_initial_password(ctx, operator, "x" * 32, ONE_TIME)
    globex = tenancy.create_organization(ctx, operator, "Globex")
    foreign = client(ctx, api_token(ctx, globex.id, role="owner"))
    fresh = person(ctx, operator, workspace, "carl@example.com")
    assert foreign.post(f"/api/v1/members/{fresh}/initial-password", json={"password": ONE_TIME}).status_code == 404
    assert members.get(ctx, operator, fresh).status == "provisioned"


def test_the_person_page_sets_it_and_shows_a_refusal_next_to_the_field(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    browser = signed_in(ctx, operator, workspace, "olga@example.com")
    kai = person(ctx, operator, workspace, "kai@example.com", invite=True, first_name="Kai", last_name="Klein")
    page = browser.get(f"/admin/{workspace.id}/people/{kai}")
    assert page.status_code == 200 and "Set the one-time password" in page.text
    token = csrf(page.text)
    weak = browser.post(
        f"/admin/{workspace.id}/people/{kai}/initial-password", data={"password": "abc", "csrftoken": token}
    )
    assert weak.status_code == 422 and 'id="initial-password-error"' in weak.text
    assert members.get(ctx, operator, kai).status == "invited"  # nothing changed
    done = browser.post(
        f"/admin/{workspace.id}/people/{kai}/initial-password",
        data={"password": ONE_TIME, "csrftoken": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=initial_password")
    shown = browser.get(done.headers["location"]).text
    assert "Kai Klein can now sign in with the one-time password" in shown
    assert "Set the one-time password" not in shown  # the account exists now
    assert browser_signed_in(ctx, "kai@example.com", ONE_TIME) is not None  # the page's sign-in takes it

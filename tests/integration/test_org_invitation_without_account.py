"""Accepting an invitation to join an organization's account without an account (issue 17), on
both databases: the link proves the address, so the page offers to create the account (password
under the policy of the workspace the person joins) and accepting makes it, signs it in and
joins as a free user, in one step; the link is single use; a weak password is refused with the
rule named; an address that got an account meanwhile is asked to sign in, as the link says;
declining needs no account; the REST door does the same."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.api import client
from support.org_worlds import PersonSpec, account, build, events, snapshot
from support.pages import csrf

from admit.adapters.persistence import tables as t
from admit.admin import organization_invitations as oi
from admit.domain.errors import Conflict
from admit.shared.context import Actor, Context

NEW_PASSWORD = "velvet-compass-ember-38"


def _members(ctx: Context, organization_id: str, email: str) -> list[tuple[str, str, str, str | None]]:
    with ctx.uow() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        m = t.members.c
        stmt = select(m.workspace_id, m.status, m.licence, m.account_id).where(
            m.organization_id == organization_id, m.email == email
        )
        return [tuple(r) for r in conn.execute(stmt).all()]  # type: ignore[misc]


def _account_events(ctx: Context, account_id: str) -> list[str]:
    with ctx.uow() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        e = t.events.c
        return [r[0] for r in conn.execute(select(e.action).where(e.subject_id == account_id)).all()]


def test_a_new_person_creates_the_account_from_the_link_joins_and_is_signed_in(ctx: Context, operator: Actor) -> None:
    acme = build(
        ctx, operator, "Acme", seats=5, enforced=True, people=[PersonSpec("boss@acme.example", org_role="system_admin")]
    )
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "nina@new.example", language="en")
    browser = client(ctx)
    shown = browser.get(f"/org-invitations/{token}")
    assert shown.status_code == 200 and "Create your account" in shown.text
    assert "You become a member of Acme 1 as a licensed user." in shown.text
    assert 'data-rule="min_length"' in shown.text and "/static/password.js" in shown.text
    assert "nina@new.example" in shown.text and "Sign in to answer" not in shown.text
    done = browser.post(
        f"/org-invitations/{token}/create",
        data={"csrftoken": csrf(shown.text), "password": NEW_PASSWORD, "first_name": "Nina", "last_name": ""},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/?notice=org_joined"
    home = browser.get("/")
    assert home.status_code == 200 and "nina@new.example" in home.text  # signed in as the new account
    with ctx.uow() as uow:
        found = uow.accounts.by_identifiers([("email", "nina@new.example")])
        assert found is not None and found.first_name == "Nina" and found.language == "en"
    assert _members(ctx, acme.org.id, "nina@new.example") == [(acme.workspaces[0].id, "active", "licensed", found.id)]
    assert "org_invitation.accepted" in events(ctx, acme.org.id)
    assert "organization.member_joined" in events(ctx, acme.org.id)
    assert "account.created" in _account_events(ctx, found.id)
    signed = client(ctx).post("/api/v1/sessions", json={"identifier": "nina@new.example", "password": NEW_PASSWORD})
    assert signed.status_code in (200, 201), signed.text  # the password is the account's
    seen = oi.list_invitations(ctx, acme.actor("boss@acme.example"), acme.org.id)
    assert [i.state for i in seen] == ["accepted"]
    # single use: the link is over, for the page and for another try
    assert client(ctx).get(f"/org-invitations/{token}").status_code == 410
    replay = browser.post(
        f"/org-invitations/{token}/create",
        data={"csrftoken": csrf(shown.text), "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert replay.status_code == 410
    assert _members(ctx, acme.org.id, "nina@new.example") == [(acme.workspaces[0].id, "active", "licensed", found.id)]


def test_a_weak_password_is_refused_with_the_rule_named_and_nothing_is_made(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "walt@new.example")
    browser = client(ctx)
    shown = browser.get(f"/org-invitations/{token}")
    before = snapshot(ctx, acme.org.id)
    weak = browser.post(
        f"/org-invitations/{token}/create",
        data={"csrftoken": csrf(shown.text), "password": "short", "first_name": "Walt <b>"},
        follow_redirects=False,
    )
    assert weak.status_code == 422 and 'id="password-error"' in weak.text
    assert "At least 15 characters" in weak.text.split('id="password-error"', 1)[1].split("</p>", 1)[0]
    assert 'value="Walt &lt;b&gt;"' in weak.text and "Walt <b>" not in weak.text
    assert snapshot(ctx, acme.org.id) == before
    with ctx.uow() as uow:
        assert uow.accounts.by_identifiers([("email", "walt@new.example")]) is None
    assert browser.get(f"/org-invitations/{token}").status_code == 200  # the link still works


def test_an_address_that_got_an_account_meanwhile_is_asked_to_sign_in(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "late@new.example")
    browser = client(ctx)
    shown = browser.get(f"/org-invitations/{token}")
    assert "Create your account" in shown.text
    account(ctx, "late@new.example")  # made elsewhere after the page was shown
    before = snapshot(ctx, acme.org.id)
    refused = browser.post(
        f"/org-invitations/{token}/create",
        data={"csrftoken": csrf(shown.text), "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert refused.status_code == 409 and "Sign in to answer" in refused.text
    assert "Create your account" not in refused.text and "already" not in refused.text.lower()
    assert snapshot(ctx, acme.org.id) == before
    api = client(ctx).post("/api/v1/organization-invitations/accept", json={"token": token, "password": NEW_PASSWORD})
    assert api.status_code == 409 and api.json()["error"]["code"] == "sign_in_required"
    assert api.json()["error"]["message"] == oi.SIGN_IN_MESSAGE


def test_declining_needs_no_account_and_changes_nothing_else(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "dora@new.example", language="de")
    browser = client(ctx)
    shown = browser.get(f"/org-invitations/{token}?answer=decline")
    assert shown.status_code == 200 and 'lang="de"' in shown.text  # the invitation's language
    before = snapshot(ctx, acme.org.id)
    done = browser.post(
        f"/org-invitations/{token}/decline", data={"csrftoken": csrf(shown.text)}, follow_redirects=False
    )
    assert done.status_code == 200 and 'lang="de"' in done.text
    assert snapshot(ctx, acme.org.id) == before
    with ctx.uow() as uow:
        assert uow.accounts.by_identifiers([("email", "dora@new.example")]) is None
    assert [i.state for i in oi.list_invitations(ctx, acme.actor("boss@acme.example"), acme.org.id)] == ["declined"]
    assert "org_invitation.declined" in events(ctx, acme.org.id)
    assert browser.get(f"/org-invitations/{token}").status_code == 410


def test_the_rest_door_creates_the_account_and_joins_or_declines_with_the_token(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "rest@new.example")
    api = client(ctx)
    weak = api.post("/api/v1/organization-invitations/accept", json={"token": token, "password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    made = api.post(
        "/api/v1/organization-invitations/accept",
        json={"token": token, "password": NEW_PASSWORD, "first_name": "Rae", "last_name": "Stone"},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["plan"]["kind"] == "free_user" and body["invitation"]["state"] == "accepted" and body["member_id"]
    me = client(ctx, body["session_token"]).get("/api/v1/me/organization-invitations")
    assert me.status_code == 200 and me.json() == []  # the session works; nothing is left to answer
    again = api.post("/api/v1/organization-invitations/accept", json={"token": token, "password": NEW_PASSWORD})
    assert again.status_code == 410
    _, other = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "no@new.example")
    declined = api.post("/api/v1/organization-invitations/decline", json={"token": other})
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert api.post("/api/v1/organization-invitations/decline", json={"token": other}).status_code == 410
    assert api.post("/api/v1/organization-invitations/decline", json={"token": "nonsense"}).status_code in (400, 404)


def test_an_account_made_in_the_same_instant_is_stopped_by_the_index_and_asked_to_sign_in(
    ctx: Context, operator: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check inside the transaction cannot see an account another request is committing at
    that moment: the unique index stops the second one, and the person reads the same answer."""
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "race@new.example")
    account(ctx, "race@new.example")
    before = snapshot(ctx, acme.org.id)
    monkeypatch.setattr(oi, "_no_account_yet", lambda uow, email: None)  # both checks passed before it committed
    with pytest.raises(Conflict) as refused:
        oi.accept_as_new_account(ctx, token, NEW_PASSWORD)
    assert refused.value.code == oi.SIGN_IN_REQUIRED and str(refused.value) == oi.SIGN_IN_MESSAGE
    assert snapshot(ctx, acme.org.id) == before

"""The signed-in home: pending invitations, workspace switcher, account switcher."""

from __future__ import annotations

from typing import Any

from babel.dates import format_date
from fastapi.testclient import TestClient
from support.api import client
from support.outbox import token_for
from support.pages import csrf

from admit.admin import invitations, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "saffron-valley-beacon-58"


def account(ctx: Context, operator: Actor, workspace: Any, email: str) -> str:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, first_name=email[:3].title()))
    return str(claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)["account_id"])


def sign_in(browser: TestClient, email: str) -> None:
    form = browser.get("/sign-in").text
    done = browser.post(
        "/sign-in", data={"identifier": email, "password": PASSWORD, "csrftoken": csrf(form)}, follow_redirects=False
    )
    assert done.status_code == 303


def test_visitors_see_the_landing_page(ctx: Context) -> None:
    page = client(ctx).get("/")
    assert page.status_code == 200 and "Welcome to Admit" in page.text and 'href="/sign-in"' in page.text


def test_pending_invitations_can_be_accepted_or_declined_from_home(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    account(ctx, operator, workspace, "ann@example.com")
    second = tenancy.create_workspace(ctx, operator, org.id, "Second")
    third = tenancy.create_workspace(ctx, operator, org.id, "Third")
    one, _ = invitations.invite(ctx, operator, second.id, MemberInput(email="ann@example.com"))
    two, _ = invitations.invite(ctx, operator, third.id, MemberInput(email="ann@example.com"))
    browser = client(ctx)
    sign_in(browser, "ann@example.com")
    home = browser.get("/").text
    assert "Hello Ann" in home and "Invitations (2)" in home
    assert "<h3>Second</h3>" in home and "<h3>Third</h3>" in home and "You are invited as Member." in home
    assert "Acme Main" in home  # the workspace switcher lists the workspace already joined
    joined = browser.post(f"/home/invitations/{one.id}/accept", data={"csrftoken": csrf(home)})
    assert "You are in Second" in joined.text
    asked = browser.get(f"/home/invitations/{two.id}/decline")  # a GET only asks
    assert (
        "Decline the invitation to Third?" in asked.text and invitations.get(ctx, operator, two.id).state == "pending"
    )
    declined = browser.post(f"/home/invitations/{two.id}/decline", data={"csrftoken": csrf(asked.text)})
    assert "Invitation declined" in declined.text and "Invitations (0)" in declined.text
    assert invitations.get(ctx, operator, two.id).state == "declined"
    workspaces = declined.text.split("Your workspaces")[1].split("Accounts on this browser")[0]
    assert "Acme Main" in workspaces and "Second" in workspaces and "Third" not in workspaces
    forged = browser.post(f"/home/invitations/{two.id}/accept", follow_redirects=False)
    assert forged.status_code == 403  # no CSRF token


def test_two_accounts_on_one_browser_can_be_switched_and_signed_out_one_by_one(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    account(ctx, operator, workspace, "ann@example.com")
    account(ctx, operator, workspace, "bob@example.com")
    browser = client(ctx)
    sign_in(browser, "ann@example.com")
    sign_in(browser, "bob@example.com")
    home = browser.get("/").text
    assert "Signed in as bob@example.com" in home and "Switch to ann@example.com" in home
    switched = browser.post("/switch-account", data={"position": "1", "csrftoken": csrf(home)})
    assert "Signed in as ann@example.com" in switched.text and "Switch to bob@example.com" in switched.text
    out = browser.post("/sign-out", data={"next": "/", "csrftoken": csrf(switched.text)})
    assert "Signed in as bob@example.com" in out.text and "Switch to" not in out.text
    final = browser.post("/sign-out", data={"next": "/", "csrftoken": csrf(out.text)})
    assert "Welcome to Admit" in final.text


def test_an_invitation_card_says_who_invited_as_what_until_when_and_declining_asks_first(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    account(ctx, operator, workspace, "ann@example.com")
    second = tenancy.create_workspace(ctx, operator, org.id, "Second <i>Floor</i>")
    invitations.invite(ctx, operator, second.id, MemberInput(email="dana@example.com", role="owner"))
    dana = claims.accept_with_token(ctx, token_for(ctx, "dana@example.com"), password=PASSWORD)["account_id"]
    inviter = Actor(ActorKind.ACCOUNT, id=str(dana), name="Dana <b>Demo</b>")
    mine, _ = invitations.invite(
        ctx, inviter, second.id, MemberInput(email="ann@example.com", role="admin"), message="Welcome <aboard>"
    )
    browser = client(ctx)
    sign_in(browser, "ann@example.com")
    home = browser.get("/").text
    assert "Dana &lt;b&gt;Demo&lt;/b&gt; invited you as Admin." in home
    assert f"The invitation is open until {format_date(mine.expires_at, format='long', locale='en')}." in home
    assert "Second &lt;i&gt;Floor&lt;/i&gt;" in home and "Welcome &lt;aboard&gt;" in home
    assert f'href="/home/invitations/{mine.id}/decline"' in home  # a link to the question, not a button that declines
    german = client(ctx)
    german.headers["accept-language"] = "de"
    signed = german.get("/sign-in").text
    german.post("/sign-in", data={"identifier": "ann@example.com", "password": PASSWORD, "csrftoken": csrf(signed)})
    asked = german.get(f"/home/invitations/{mine.id}/decline").text
    assert "Die Einladung zu Second &lt;i&gt;Floor&lt;/i&gt; ablehnen?" in asked and "Einladung behalten" in asked
    other = account(ctx, operator, workspace, "bob@example.com")
    del other
    stranger = client(ctx)
    sign_in(stranger, "bob@example.com")
    gone = stranger.get(f"/home/invitations/{mine.id}/decline", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/?notice=gone"  # not Bob's to see
    assert (
        client(ctx)
        .get(f"/home/invitations/{mine.id}/decline", follow_redirects=False)
        .headers["location"]
        .startswith("/sign-in?next=")
    )
    assert invitations.get(ctx, operator, mine.id).state == "pending"

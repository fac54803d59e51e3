"""The invitee's pages over HTTP, on both databases: the link, welcome, claim, sign-in, accept,
decline, the dead-link pages and the security rules around them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import messages, token_for

from admit.admin import invitations, members, tenancy
from admit.admin.invitations import InvitationView
from admit.admin.profiles import MemberInput
from admit.admin.tenancy import WorkspaceSettings
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "harvest-lantern-violet-64"


def invite(ctx: Context, operator: Actor, workspace: Any, email: str, **kw: Any) -> InvitationView:
    return invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, **kw))[0]


def csrf(page_html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', page_html)
    assert match, page_html
    return match.group(1)


def open_link(browser: TestClient, token: str) -> str:
    response = browser.get(f"/i/{token}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/welcome"
    return browser.get("/welcome").text


def test_opening_the_link_moves_the_token_into_a_cookie_and_changes_nothing(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    browser = client(ctx)
    for method in ("HEAD", "GET", "GET"):  # a mail scanner, then the person, twice
        response = browser.request(method, f"/i/{token}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/welcome"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "httponly" in response.headers["set-cookie"].lower() and token not in response.headers["set-cookie"]
    page = browser.get("/welcome")
    assert page.status_code == 200 and token not in page.text
    assert invitations.get(ctx, operator, invitation.id).state == "pending"


def test_new_person_claims_by_choosing_a_password(ctx: Context, operator: Actor, workspace: Any) -> None:
    invite(ctx, operator, workspace, "ann@example.com", first_name="Ann", last_name="Lee")
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "ann@example.com"))
    assert "Activate account" in page and "At least 15 characters" in page and 'value="Ann"' in page
    forged = browser.post("/welcome/claim", data={"password": PASSWORD}, follow_redirects=False)
    assert forged.status_code == 403
    weak = browser.post("/welcome/claim", data={"password": "short", "csrftoken": csrf(page)})
    assert weak.status_code == 422 and "At least 15 characters" in weak.text and 'role="alert"' in weak.text
    done = browser.post(
        "/welcome/claim",
        data={"password": PASSWORD, "first_name": "Ann", "last_name": "Lee", "csrftoken": csrf(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/joined/{workspace.id}"
    assert "admit_session=adm_ses_" in done.headers["set-cookie"]
    joined = browser.get(done.headers["location"])
    assert "You are in Acme Main" in joined.text
    [member] = members.list_members(ctx, operator, workspace.id)
    assert member.status == "active" and member.account_id is not None


def test_existing_account_signs_in_then_accepts(ctx: Context, operator: Actor, workspace: Any, org: Any) -> None:
    from admit.admin import tenancy

    invite(ctx, operator, workspace, "ann@example.com")
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    second = tenancy.create_workspace(
        ctx, operator, org.id, "Second", tenancy.WorkspaceSettings(app_url="https://app.example.com/second")
    )
    invitations.invite(ctx, operator, second.id, MemberInput(email="ann@example.com"))
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "ann@example.com"))
    assert "already have an account" in page and 'href="/sign-in?next=/welcome"' in page
    form = browser.get("/sign-in?next=/welcome").text
    wrong = browser.post(
        "/sign-in",
        data={"identifier": "ann@example.com", "password": "nope", "next": "/welcome", "csrftoken": csrf(form)},
    )
    assert wrong.status_code == 401 and "not correct" in wrong.text
    signed_in = browser.post(
        "/sign-in",
        data={"identifier": "ann@example.com", "password": PASSWORD, "next": "/welcome", "csrftoken": csrf(form)},
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/welcome"
    confirm = browser.get("/welcome").text
    assert "Join Second?" in confirm
    # the confirm form leads into the app (another origin): the page's form-action allows it
    assert "form-action 'self' https://app.example.com;" in browser.get("/welcome").headers["content-security-policy"]
    joined = browser.post("/welcome/accept", data={"csrftoken": csrf(confirm)}, follow_redirects=False)
    assert joined.status_code == 303 and joined.headers["location"] == f"/go/{second.id}"  # no "Let's go" page
    shown = browser.get(f"/joined/{second.id}").text  # still there for a bookmark
    assert "You are in Second" in shown and f'href="/go/{second.id}"' in shown
    going = browser.get(f"/go/{second.id}", follow_redirects=False)
    assert going.status_code == 303 and going.headers["location"] == "https://app.example.com/second"


def test_wrong_account_sees_both_addresses_and_nothing_is_consumed(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invite(ctx, operator, workspace, "bob@example.com")
    claims.accept_with_token(ctx, token_for(ctx, "bob@example.com"), password=PASSWORD)
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    browser = client(ctx)
    form = browser.get("/sign-in").text
    browser.post("/sign-in", data={"identifier": "bob@example.com", "password": PASSWORD, "csrftoken": csrf(form)})
    notice = open_link(browser, token_for(ctx, "ann@example.com"))  # said on arrival, before any button
    assert "This invitation is for another account" in notice and "ann@example.com" in notice
    assert "bob@example.com" in notice and "Accept and join" not in notice and 'action="/welcome/accept"' not in notice
    refused = browser.post("/welcome/accept", data={"csrftoken": csrf(notice)})  # a crafted POST: the rule holds
    assert refused.status_code == 409
    assert "ann@example.com" in refused.text and "bob@example.com" in refused.text and "Switch account" in refused.text
    assert invitations.get(ctx, operator, invitation.id).state == "pending"


def test_declining_from_the_link_changes_nothing_else(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "ann@example.com"))
    declined = browser.post("/welcome/decline", data={"csrftoken": csrf(page)})
    assert declined.status_code == 200 and "Invitation declined" in declined.text
    assert invitations.get(ctx, operator, invitation.id).state == "declined"
    assert members.get(ctx, operator, invitation.member_id).status == "provisioned"


@pytest.mark.parametrize("ending", ["expired", "revoked", "replaced", "accepted", "declined", "invalid"])
def test_each_dead_link_gets_its_own_page(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock, ending: str
) -> None:
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    if ending == "expired":
        clock.advance(days=8)
    elif ending == "revoked":
        invitations.revoke(ctx, operator, invitation.id)
    elif ending == "replaced":
        invitations.resend(ctx, operator, invitation.id)
    elif ending == "accepted":
        claims.accept_with_token(ctx, token, password=PASSWORD)
    elif ending == "declined":
        claims.decline_with_token(ctx, token)
    else:
        token = "adm_inv_" + "x" * 43
    page = open_link(client(ctx), token)
    titles = {
        "expired": "has expired",
        "revoked": "was withdrawn",
        "replaced": "A newer invitation was sent",
        "accepted": "already been used",
        "declined": "was declined",
        "invalid": "is not valid",
    }
    assert titles[ending] in page


def test_forged_host_headers_do_not_change_any_link(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    api.post(
        f"/api/v1/workspaces/{workspace.id}/invitations",
        json={"email": "ann@example.com"},
        headers={"host": "evil.example", "x-forwarded-host": "evil.example"},
    )
    [message] = messages(ctx, recipient="ann@example.com")
    assert message["payload"]["link"].startswith("https://admit.example.test/i/adm_inv_")
    redirect = client(ctx).get(
        f"/i/{token_for(ctx, 'ann@example.com')}", headers={"host": "evil.example"}, follow_redirects=False
    )
    assert redirect.headers["location"] == "/welcome"


def test_pages_send_strict_security_headers_and_never_redirect_off_site(ctx: Context) -> None:
    browser = client(ctx)
    page = browser.get("/sign-in?next=//evil.example/x")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["referrer-policy"] == "no-referrer"
    assert 'name="next" value="/"' in page.text


def test_german_invitee_sees_german_pages(ctx: Context, operator: Actor, workspace: Any) -> None:
    invite(ctx, operator, workspace, "anna@example.com", language="de", first_name="Anna", last_name="Berg")
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "anna@example.com"))
    assert '<html lang="de">' in page and "Sie sind zu Acme Main eingeladen" in page
    assert "Mindestens 15 Zeichen" in page and "Konto aktivieren" in page
    weak = browser.post("/welcome/claim", data={"password": "kurz", "csrftoken": csrf(page)})
    assert "Bitte prüfen Sie Ihre Angaben" in weak.text and "Mindestens 15 Zeichen" in weak.text
    french = client(ctx).get("/sign-in", headers={"accept-language": "fr-CH, fr;q=0.9, en;q=0.8"})
    assert '<html lang="fr">' in french.text and "Se connecter" in french.text


def test_expired_link_can_ask_for_a_new_invitation_once_a_day(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    members.provision(ctx, operator, workspace.id, MemberInput(email="boss@example.com", role="admin"), invite=True)
    boss_token = token_for(ctx, "boss@example.com")
    claims.accept_with_token(ctx, boss_token, password=PASSWORD)
    invite(ctx, operator, workspace, "ann@example.com")
    clock.advance(days=8)
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "ann@example.com"))
    assert "has expired" in page and "Ask for a new invitation" in page
    for _ in range(2):
        asked = browser.post("/welcome/ask-again", data={"csrftoken": csrf(page)})
        assert asked.status_code == 200 and "Request sent" in asked.text
    [notice] = messages(ctx, kind="reinvite_requested")
    assert notice["recipient"] == "boss@example.com" and notice["payload"]["invitee"] == "ann@example.com"
    clock.advance(days=1, seconds=1)
    browser.post("/welcome/ask-again", data={"csrftoken": csrf(page)})
    assert len(messages(ctx, kind="reinvite_requested")) == 2
    other = client(ctx)
    assert "already been used" in open_link(other, boss_token)  # an accepted link: nothing is sent
    other.post("/welcome/ask-again", data={"csrftoken": csrf(other.get("/sign-in").text)})
    assert len(messages(ctx, kind="reinvite_requested")) == 2


def test_asking_again_says_who_was_told_or_whom_to_contact_when_nobody_can_be(
    ctx: Context, operator: Actor, workspace: Any, org: Any, clock: FixedClock
) -> None:
    """An operator's invitation in a workspace without administrators: the organization's owners
    (of its other workspaces) are told; with no owner anywhere, the page says to ask directly."""
    invite(ctx, operator, workspace, "ann@example.com")
    lonely = tenancy.create_workspace(ctx, operator, org.id, "Night shift")
    invite(ctx, operator, lonely, "nia@example.com")
    members.provision(ctx, operator, lonely.id, MemberInput(email="nora@example.com", role="owner"), invite=True)
    clock.advance(days=8)  # every invitation so far has expired, Nora's too: nobody is active yet
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "ann@example.com"))
    nobody = browser.post("/welcome/ask-again", data={"csrftoken": csrf(page)})
    assert nobody.status_code == 200 and "Nobody could be told" in nobody.text
    assert "renew your invitation to Acme Main" in nobody.text and "contact the person or team" in nobody.text
    assert messages(ctx, kind="reinvite_requested") == []
    members.provision(ctx, operator, lonely.id, MemberInput(email="olga@example.com", role="owner"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "olga@example.com"), password=PASSWORD)
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "nia@example.com"))
    owners = browser.post("/welcome/ask-again", data={"csrftoken": csrf(page)})
    assert "the organization's owners have been told" not in owners.text  # Olga owns this workspace
    assert "administrators have been told" in owners.text
    browser = client(ctx)
    page = open_link(browser, token_for(ctx, "ann@example.com"))
    asked = browser.post("/welcome/ask-again", data={"csrftoken": csrf(page)}).text
    assert "You asked already today" in asked  # Ann asked an hour ago: nobody could be told then either
    clock.advance(days=1, seconds=1)
    told = browser.post("/welcome/ask-again", data={"csrftoken": csrf(page)}).text
    assert "the organization's owners have been told" in told
    assert {m["recipient"] for m in messages(ctx, kind="reinvite_requested")} == {"olga@example.com"}


def test_one_language_per_person_through_the_journey(ctx: Context, operator: Actor, org: Any) -> None:
    """The account's language, else the member's, else the workspace's, else the browser's: a German
    invitee's home page is German; an English person joining a German workspace stays English."""
    german = tenancy.create_workspace(ctx, operator, org.id, "Berlin", WorkspaceSettings(default_language="de"))
    english = tenancy.create_workspace(ctx, operator, org.id, "London")
    invite(ctx, operator, german, "greta@example.com", first_name="Greta", last_name="Berg")
    greta = client(ctx)
    page = open_link(greta, token_for(ctx, "greta@example.com"))
    assert '<html lang="de">' in page
    joined = greta.post("/welcome/claim", data={"password": PASSWORD, "csrftoken": csrf(page)})
    assert joined.url.path.startswith("/joined/") and '<html lang="de">' in joined.text
    home = greta.get("/", headers={"accept-language": "en"})
    assert '<html lang="de">' in home.text  # her account speaks German, whatever the browser says
    invite(ctx, operator, english, "eddie@example.com", first_name="Eddie", last_name="Hall")
    eddie = client(ctx)
    page = open_link(eddie, token_for(ctx, "eddie@example.com"))
    eddie.post("/welcome/claim", data={"password": PASSWORD, "csrftoken": csrf(page)})
    invite(ctx, operator, german, "eddie@example.com")
    page = open_link(eddie, token_for(ctx, "eddie@example.com"))
    accepted = eddie.post("/welcome/accept", data={"csrftoken": csrf(page)})
    assert accepted.url.path.startswith("/joined/") and '<html lang="en">' in accepted.text


def test_an_existing_account_signs_in_and_joins_in_one_step_on_the_welcome_page(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    invite(ctx, operator, workspace, "bob@example.com")
    claims.accept_with_token(ctx, token_for(ctx, "bob@example.com"), password=PASSWORD)
    second = tenancy.create_workspace(ctx, operator, org.id, "Second")
    invitation = invite(ctx, operator, second, "bob@example.com")
    browser = client(ctx)
    welcome = open_link(browser, token_for(ctx, "bob@example.com"))
    assert 'action="/welcome/sign-in"' in welcome and "Sign in and join" in welcome
    wrong = browser.post(
        "/welcome/sign-in",
        data={"identifier": "bob@example.com", "password": "not-the-password-00", "csrftoken": csrf(welcome)},
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "The identifier or password is not correct." in wrong.text
    assert 'aria-invalid="true"' in wrong.text and invitations.get(ctx, operator, invitation.id).state == "pending"
    joined = browser.post(
        "/welcome/sign-in",
        data={"identifier": "bob@example.com", "password": PASSWORD, "csrftoken": csrf(wrong.text)},
        follow_redirects=False,
    )
    assert joined.status_code == 303 and joined.headers["location"] == f"/joined/{second.id}"
    assert invitations.get(ctx, operator, invitation.id).state == "accepted"
    assert "You are in Second" in browser.get(joined.headers["location"]).text  # signed in, no confirmation step


def test_signing_in_as_another_account_on_the_welcome_page_joins_nothing(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    for email in ("bob@example.com", "eve@example.com"):
        invite(ctx, operator, workspace, email)
        claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    second = tenancy.create_workspace(ctx, operator, org.id, "Second")
    invitation = invite(ctx, operator, second, "bob@example.com")
    browser = client(ctx)
    welcome = open_link(browser, token_for(ctx, "bob@example.com"))
    crafted = browser.post(  # the hidden identifier changed to Eve's
        "/welcome/sign-in", data={"identifier": "eve@example.com", "password": PASSWORD, "csrftoken": csrf(welcome)}
    )
    assert "This invitation is for another account" in crafted.text
    assert invitations.get(ctx, operator, invitation.id).state == "pending"


def test_a_link_that_ends_while_its_welcome_page_is_open_answers_the_welcome_page_not_an_error(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    invite(ctx, operator, workspace, "bob@example.com")
    claims.accept_with_token(ctx, token_for(ctx, "bob@example.com"), password=PASSWORD)
    second = tenancy.create_workspace(ctx, operator, org.id, "Second")
    invitation = invite(ctx, operator, second, "bob@example.com")
    browser = client(ctx)
    welcome = open_link(browser, token_for(ctx, "bob@example.com"))
    invitations.revoke(ctx, operator, invitation.id)
    wrong = browser.post(
        "/welcome/sign-in",
        data={"identifier": "bob@example.com", "password": "not-the-password-00", "csrftoken": csrf(welcome)},
        follow_redirects=False,
    )
    assert wrong.status_code == 303 and wrong.headers["location"] == "/welcome"
    assert browser.get("/welcome").status_code == 410  # the page that says the invitation was withdrawn


def test_joining_leads_straight_into_the_app_when_the_workspace_has_one(
    ctx: Context, operator: Actor, org: Any
) -> None:
    """No "Let's go" page when the app's address is known: the claim and the one-step sign-in
    answer with ``/go/{workspace}`` (which puts the terms and an initial password first), and the
    welcome page's form-action allows the app's origin (Chromium checks the whole redirect chain)."""
    shop = tenancy.create_workspace(
        ctx, operator, org.id, "Shop", WorkspaceSettings(app_url="https://shop.example.net/start")
    )
    invite(ctx, operator, shop, "ann@example.com", first_name="Ann", last_name="Lee")
    ann = client(ctx)
    page = open_link(ann, token_for(ctx, "ann@example.com"))
    assert "form-action 'self' https://shop.example.net;" in ann.get("/welcome").headers["content-security-policy"]
    done = ann.post("/welcome/claim", data={"password": PASSWORD, "csrftoken": csrf(page)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/go/{shop.id}"
    going = ann.get(done.headers["location"], follow_redirects=False)
    assert going.status_code == 303 and going.headers["location"] == "https://shop.example.net/start"
    other = tenancy.create_workspace(ctx, operator, org.id, "Other", WorkspaceSettings(app_url="https://o.example.net"))
    invite(ctx, operator, other, "ann@example.com")
    browser = client(ctx)  # another browser: she signs in and joins in one step
    welcome = open_link(browser, token_for(ctx, "ann@example.com"))
    joined = browser.post(
        "/welcome/sign-in",
        data={"identifier": "ann@example.com", "password": PASSWORD, "csrftoken": csrf(welcome)},
        follow_redirects=False,
    )
    assert joined.status_code == 303 and joined.headers["location"] == f"/go/{other.id}"
    assert (
        browser.get(joined.headers["location"], follow_redirects=False).headers["location"] == "https://o.example.net"
    )
    plain = tenancy.create_workspace(ctx, operator, org.id, "Plain")  # no app: the joined page says so
    invite(ctx, operator, plain, "ann@example.com")
    welcome = open_link(browser, token_for(ctx, "ann@example.com"))
    assert "form-action 'self';" in browser.get("/welcome").headers["content-security-policy"]
    accepted = browser.post("/welcome/accept", data={"csrftoken": csrf(welcome)}, follow_redirects=False)
    assert accepted.headers["location"] == f"/joined/{plain.id}"

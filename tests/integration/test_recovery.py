"""Forgot password, on both databases: resetting an account, and finishing a claim (Smartsheet)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.api import client
from support.clock import FixedClock
from support.outbox import messages, token_for
from support.pages import csrf

from admit.admin import invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import InvalidCredentials, SecretRejected, ValidationFailed
from admit.flows.invitation import claims
from admit.flows.recovery import password_reset
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-signal-27"
NEW_PASSWORD = "granite-meadow-sparrow-81"


def reset_token(ctx: Context, email: str) -> str:
    [*_, message] = messages(ctx, recipient=email, kind="password_reset")
    return str(message["payload"]["link"]).rsplit("/", 1)[1]


def test_invited_person_without_a_password_sets_one_and_joins(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitation, member = invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    password_reset.request_reset(ctx, "Ann@Example.com")
    token = reset_token(ctx, "ann@example.com")
    assert token.startswith("adm_pwr_")
    result = password_reset.reset_password(ctx, token, NEW_PASSWORD)
    assert result["workspace_id"] == workspace.id
    assert members.get(ctx, operator, member.id).status == "active"
    assert invitations.get(ctx, operator, invitation.id).state == "accepted"
    assert sessions.sign_in(ctx, "ann@example.com", NEW_PASSWORD)[1].id == result["account_id"]


def test_reset_sets_a_new_password_and_signs_out_everywhere(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    session, _ = sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    password_reset.request_reset(ctx, "ann@example.com")
    password_reset.reset_password(ctx, reset_token(ctx, "ann@example.com"), NEW_PASSWORD)
    with pytest.raises(SecretRejected):
        sessions.authenticate_session(ctx, session)
    with pytest.raises(InvalidCredentials):
        sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    assert sessions.sign_in(ctx, "ann@example.com", NEW_PASSWORD)


def test_unknown_address_gets_the_same_answer_and_no_email(ctx: Context) -> None:
    assert password_reset.request_reset(ctx, "nobody@example.com") is None
    assert messages(ctx) == []


def test_reset_links_are_single_use_newest_only_purpose_bound_and_expire(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    invitation_token = token_for(ctx, "ann@example.com")
    password_reset.request_reset(ctx, "ann@example.com")
    first = reset_token(ctx, "ann@example.com")
    password_reset.request_reset(ctx, "ann@example.com")
    newest = reset_token(ctx, "ann@example.com")
    with pytest.raises(SecretRejected):
        password_reset.reset_password(ctx, first, NEW_PASSWORD)  # replaced by the newer link
    with pytest.raises(SecretRejected):
        password_reset.reset_password(ctx, invitation_token, NEW_PASSWORD)  # an invitation token is no reset token
    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, newest, password=NEW_PASSWORD)  # and the reverse
    clock.advance(hours=1)
    with pytest.raises(SecretRejected):
        password_reset.reset_password(ctx, newest, NEW_PASSWORD)
    password_reset.request_reset(ctx, "ann@example.com")
    fresh = reset_token(ctx, "ann@example.com")
    password_reset.reset_password(ctx, fresh, NEW_PASSWORD)
    with pytest.raises(SecretRejected):
        password_reset.reset_password(ctx, fresh, NEW_PASSWORD)


def test_forgot_password_pages_finish_a_claim(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    browser = client(ctx)
    form = browser.get("/forgot-password").text
    csrf = re.search(r'name="csrftoken" value="([^"]+)"', form)
    assert csrf
    known = browser.post("/forgot-password", data={"email": "ann@example.com", "csrftoken": csrf.group(1)})
    unknown = browser.post("/forgot-password", data={"email": "zed@example.com", "csrftoken": csrf.group(1)})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ann@example.com", "X") == unknown.text.replace("zed@example.com", "X")
    redirect = browser.get(f"/reset/{reset_token(ctx, 'ann@example.com')}", follow_redirects=False)
    assert redirect.headers["location"] == "/reset" and redirect.headers["referrer-policy"] == "no-referrer"
    page = browser.get("/reset").text
    assert "to join Acme Main" in page
    done = browser.post("/reset", data={"password": NEW_PASSWORD, "csrftoken": csrf.group(1)}, follow_redirects=False)
    assert done.headers["location"] == f"/joined/{workspace.id}"
    assert "You are in Acme Main" in browser.get(done.headers["location"]).text
    assert "not valid" in browser.get("/reset").text


def test_any_identifier_the_sign_in_takes_gets_a_link_by_email_or_by_sms_to_an_account_without_email(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    """The fourth article's username + phone people forget passwords too: the link goes by SMS."""
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    fred, _ = members.provision(
        ctx, operator, workspace.id, MemberInput(username="fred", phone="+49 30 901820"), invite=True
    )
    claims.accept_with_token(ctx, token_for(ctx, "+4930901820"), password=PASSWORD)
    for typed in ("fred", "+49 30 901820"):
        password_reset.request_reset(ctx, typed)
    sent = messages(ctx, kind="password_reset")
    assert [(m["channel"], m["recipient"]) for m in sent] == [("sms", "+4930901820")] * 2
    link = str(sent[-1]["payload"]["link"]).rsplit("/", 1)[1]
    password_reset.reset_password(ctx, link, NEW_PASSWORD)
    assert sessions.sign_in(ctx, "fred", NEW_PASSWORD)
    members.update(ctx, operator, fred.id, {"email": "fred@example.com"})  # now an address too
    password_reset.request_reset(ctx, "fred")
    newest = messages(ctx, kind="password_reset")[-1]
    assert (newest["channel"], newest["recipient"]) == ("email", "fred@example.com")  # the address first
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    password_reset.request_reset(ctx, "nobody")  # unknown username: nothing sent, same answer
    assert len(messages(ctx, kind="password_reset")) == 3
    with pytest.raises(ValidationFailed):
        password_reset.request_reset(ctx, "   ")


def test_the_forgot_password_page_takes_any_identifier_and_answers_the_same(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com", username="ann.b"))
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    browser = client(ctx)
    form = browser.get("/forgot-password").text
    assert 'name="identifier"' in form and "Email, username or phone" in form
    known = browser.post("/forgot-password", data={"identifier": "ann.b", "csrftoken": csrf(form)})
    unknown = browser.post("/forgot-password", data={"identifier": "zed.q", "csrftoken": csrf(form)})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ann.b", "X") == unknown.text.replace("zed.q", "X")  # no enumeration
    assert [m["recipient"] for m in messages(ctx, kind="password_reset")] == ["ann@example.com"]
    marked = browser.post("/forgot-password", data={"identifier": "<b>x</b>", "csrftoken": csrf(form)})
    assert "&lt;b&gt;x&lt;/b&gt;" in marked.text and "<b>x</b>" not in marked.text
    empty = browser.post("/forgot-password", data={"identifier": "", "csrftoken": csrf(form)})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text

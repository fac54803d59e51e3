"""Sign-up from an invitation (the smenso journey): someone invited by address alone verifies it
with an emailed code, then chooses a password and gives their name; on both databases."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from support.api import client
from support.clock import FixedClock
from support.outbox import code_for, messages, token_for

from admit.admin import invitations, members
from admit.admin.profiles import MemberInput
from admit.domain import secrets
from admit.shared.context import Actor, Context

PASSWORD = "orchard-kettle-marble-27"


def csrf(html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def invited(ctx: Context, operator: Actor, workspace: Any, email: str = "nia@example.com") -> TestClient:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email))
    browser = client(ctx)
    browser.get(f"/i/{token_for(ctx, email)}")
    return browser


def post(browser: TestClient, path: str, **data: str) -> Any:
    form = browser.get("/welcome").text
    return browser.post(path, data={**data, "csrftoken": csrf(form)}, follow_redirects=False)


def test_sign_up_verifies_the_address_then_asks_for_password_and_names(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    browser = invited(ctx, operator, workspace)
    welcome = browser.get("/welcome").text
    assert "Sign up" in welcome and "verify your email address" in welcome and 'name="password"' not in welcome
    skipped = post(browser, "/welcome/claim", password=PASSWORD, first_name="Nia", last_name="Long")
    assert skipped.status_code == 303 and skipped.headers["location"] == "/welcome"  # no account without the code
    assert post(browser, "/welcome/sign-up").headers["location"] == "/welcome"
    [sent] = messages(ctx, recipient="nia@example.com", kind="email_verification")
    assert re.fullmatch(r"\d{6}", sent["payload"]["code"])
    verify = browser.get("/welcome").text
    assert "We sent a verification code" in verify and 'autocomplete="one-time-code"' in verify
    assert post(browser, "/welcome/verify", code=code_for(ctx, "nia@example.com")).status_code == 303
    profile = browser.get("/welcome").text
    assert "is verified" in profile and 'name="password"' in profile and "Create account" in profile
    nameless = post(browser, "/welcome/claim", password=PASSWORD)
    assert nameless.status_code == 422 and "first and last name" in nameless.text
    done = post(browser, "/welcome/claim", password=PASSWORD, first_name="Nia", last_name="Long")
    assert done.status_code == 303 and done.headers["location"] == f"/joined/{workspace.id}"
    [member] = members.list_members(ctx, operator, workspace.id)
    assert member.status == "active"
    assert (member.first_name, member.last_name) == ("Nia", "Long")  # the directory has the names too
    with ctx.uow() as uow:
        account = uow.accounts.get(member.account_id)
    assert account is not None and (account.first_name, account.last_name) == ("Nia", "Long")


def test_wrong_codes_are_capped_and_a_new_code_replaces_the_old(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser = invited(ctx, operator, workspace)
    post(browser, "/welcome/sign-up")
    first = code_for(ctx, "nia@example.com")
    wrong = "000000" if first != "000000" else "111111"
    answers = [post(browser, "/welcome/verify", code=wrong) for _ in range(secrets.CODE_ATTEMPTS)]
    assert [a.status_code for a in answers] == [422] * (secrets.CODE_ATTEMPTS - 1) + [410]
    assert "4 more times" in answers[0].text and "ask for a new code" in answers[-1].text
    assert post(browser, "/welcome/verify", code=first).status_code == 410
    assert 'name="password"' not in browser.get("/welcome").text  # the right code came too late
    post(browser, "/welcome/sign-up")
    second = code_for(ctx, "nia@example.com")
    post(browser, "/welcome/verify", code=second)
    assert 'name="password"' in browser.get("/welcome").text


def test_a_code_expires_and_works_only_in_the_browser_that_asked(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    browser = invited(ctx, operator, workspace)
    post(browser, "/welcome/sign-up")
    code = code_for(ctx, "nia@example.com")
    other = client(ctx)  # holds the invitation link but not the challenge
    other.get(f"/i/{token_for(ctx, 'nia@example.com')}")
    assert post(other, "/welcome/verify", code=code).headers["location"] == "/welcome"
    assert 'name="password"' not in other.get("/welcome").text
    clock.advance(minutes=16)
    late = post(browser, "/welcome/verify", code=code)
    assert late.status_code == 410 and "expired" in late.text


def test_sending_codes_is_throttled_per_address(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser = invited(ctx, operator, workspace)
    statuses = [post(browser, "/welcome/sign-up").status_code for _ in range(7)]
    assert statuses[:5] == [303] * 5 and statuses[-1] == 429
    assert len(messages(ctx, recipient="nia@example.com", kind="email_verification")) < 7


def test_a_verified_address_is_bound_to_its_invitation(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser = invited(ctx, operator, workspace)
    post(browser, "/welcome/sign-up")
    post(browser, "/welcome/verify", code=code_for(ctx, "nia@example.com"))
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="omar@example.com"))
    browser.get(f"/i/{token_for(ctx, 'omar@example.com')}")  # same browser, another invitation
    page = browser.get("/welcome").text
    assert "omar@example.com" in page and 'name="password"' not in page


def test_a_provisioned_member_with_a_profile_activates_without_a_code(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invitations.invite(
        ctx, operator, workspace.id, MemberInput(email="pat@example.com", first_name="Pat", last_name="Ng")
    )
    browser = client(ctx)
    page = browser.get(f"/i/{token_for(ctx, 'pat@example.com')}").text
    assert "Activate account" in page and 'name="password"' in page
    assert not messages(ctx, recipient="pat@example.com", kind="email_verification")

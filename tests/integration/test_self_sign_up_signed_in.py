"""An existing person joins through a department link or a workspace's sign-up form only after
signing in, over HTTP on both databases: "I already have an account — sign in to join" comes
back to the form (never to another site); "Join <workspace> as <name>" is a POST with the CSRF
token; the link's department, job profile and permission type, its uses, the approval queue,
the daily cap, the allowed email domains (the account's verified addresses) and SSO-required
workspaces all apply; a member already gets a friendly page. Typing an existing person's address
never creates a membership for their account. The console asks before deleting a link."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from support.api import client
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf, sign_in

from admit.admin import members, signup_links, signup_settings, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.flows.signup import self_sign_up
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"
BASE = "https://admit.example.test"


@pytest.fixture
def shop(ctx: Context, operator: Actor, workspace: Any) -> Any:
    changes = {"departments": ["Bakery", "Tills", "Warehouse"], "job_profiles": ["Cashier"], "sms_enabled": True}
    return tenancy.update_workspace(ctx, operator, workspace.id, changes)


def person(ctx: Context, operator: Actor, shop: Any, email: str, first: str = "Ann", last: str = "Lee") -> str:
    """An account (a member of another workspace of the organization); its id."""
    other = tenancy.create_workspace(ctx, operator, shop.organization_id, f"Elsewhere {email}")
    members.provision(ctx, operator, other.id, MemberInput(email=email, first_name=first, last_name=last), invite=True)
    return str(claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)["account_id"])


def membership(ctx: Context, shop: Any, account_id: str) -> Any:
    with ctx.uow() as uow:
        return uow.members.for_account(shop.organization_id, shop.id, account_id)


def post(browser: TestClient, form_page: str, action: str, **data: str) -> Any:
    return browser.post(action, data={**data, "csrftoken": csrf(form_page)}, follow_redirects=False)


def link_path(ctx: Context, operator: Actor, shop: Any, **given: Any) -> tuple[Any, str]:
    link = signup_links.create(ctx, operator, shop.id, {"department": "Tills", **given})
    return link, link.url.removeprefix(BASE)


def test_sign_in_to_join_comes_back_to_the_link(ctx: Context, operator: Actor, shop: Any) -> None:
    person(ctx, operator, shop, "ann@example.com")
    _, path = link_path(ctx, operator, shop)
    browser = client(ctx)
    form = browser.get(path).text
    back = f"/sign-in?next={quote(path, safe='')}"
    assert f'href="{back}"' in form and "I already have an account — sign in to join" in form
    page = browser.get(back).text
    assert f'name="next" value="{path}"' in page
    done = sign_in(browser, "ann@example.com", PASSWORD, path)
    assert done.status_code == 303 and done.headers["location"] == path
    joining = browser.get(path).text
    assert f"Join {shop.name} as Ann Lee" in joining
    assert 'name="first_name"' not in joining  # signed in: no new-account form
    # Never another site: the sign-in's return path stays on Admit.
    away = sign_in(client(ctx), "ann@example.com", PASSWORD, "//evil.example/join")
    assert away.headers["location"] == "/"


def test_typing_an_existing_address_never_creates_a_membership(ctx: Context, operator: Actor, shop: Any) -> None:
    account_id = person(ctx, operator, shop, "ann@example.com")
    link, path = link_path(ctx, operator, shop, job_profile="Cashier")
    stranger = client(ctx)
    form = stranger.get(path).text
    sent = post(stranger, form, path, first_name="Eve", last_name="V", email="ann@example.com")
    assert sent.status_code == 303
    step = stranger.get("/sign-up/next").text
    code = messages(ctx, recipient="ann@example.com", kind="email_verification")[-1]["payload"]["code"]
    assert post(stranger, step, "/sign-up/code", code=str(code)).status_code == 303
    assert "You already have an account: sign in to join." in stranger.get("/sign-up/next").text
    assert post(stranger, step, "/sign-up/password", password="x-new-long-password-1").status_code == 409
    # Not signed in, the join button's address asks for a sign-in and changes nothing.
    unsigned = post(stranger, form, f"{path}/account")
    assert unsigned.status_code == 303 and unsigned.headers["location"].startswith("/sign-in?next=")
    assert membership(ctx, shop, account_id) is None
    assert signup_links.get(ctx, operator, shop.id, link.id).uses == 0
    # The account's owner signs in and presses Join: now, and only now, the membership appears.
    ann = browser_signed_in(ctx, "ann@example.com", PASSWORD)
    page = ann.get(path)
    assert page.status_code == 200 and "as Ann Lee" in page.text and "Tills" in page.text
    assert ann.post(f"{path}/account", data={}, follow_redirects=False).status_code == 403  # no CSRF token
    assert membership(ctx, shop, account_id) is None
    joined = post(ann, page.text, f"{path}/account")
    assert joined.status_code == 303 and joined.headers["location"] == f"/joined/{shop.id}"
    member = membership(ctx, shop, account_id)
    assert member is not None and member.status == "active" and member.email == "ann@example.com"
    assert (member.department, member.job_profile, member.role) == ("Tills", "Cashier", "member")
    assert signup_links.get(ctx, operator, shop.id, link.id).uses == 1
    # Already a member: a friendly page, nothing counted again.
    again = ann.get(path)
    assert again.status_code == 200 and "You are already a member of" in again.text
    twice = post(ann, page.text, f"{path}/account")
    assert twice.status_code == 200 and "You are already a member of" in twice.text
    assert signup_links.get(ctx, operator, shop.id, link.id).uses == 1


def test_the_sign_up_form_with_a_department_pick_and_approval(ctx: Context, operator: Actor, shop: Any) -> None:
    account_id = person(ctx, operator, shop, "bo@example.com", "Bo", "Ng")
    signup_settings.save(
        ctx,
        operator,
        shop.id,
        {"enabled": True, "departments_pickable": ["Bakery", "Tills"], "approval_required": True},
    )
    path = f"/sign-up?workspace={shop.id}"
    assert f"/sign-in?next={quote(path, safe='')}" in client(ctx).get(path).text
    bo = browser_signed_in(ctx, "bo@example.com", PASSWORD)
    page = bo.get(path).text
    assert 'name="department"' in page and "as Bo Ng" in page
    action = f"/sign-up/account?workspace={shop.id}"
    missing = post(bo, page, action)
    assert missing.status_code == 422 and 'id="department-error"' in missing.text
    tampered = post(bo, page, action, department="Warehouse")
    assert tampered.status_code == 422 and 'id="department-error"' in tampered.text
    waiting = post(bo, page, action, department="Bakery")
    assert waiting.status_code == 200 and "An administrator will check your sign-up" in waiting.text
    assert membership(ctx, shop, account_id) is None
    assert post(bo, page, action, department="Bakery").status_code == 200  # asked twice: one request
    queue = signup_settings.queue(ctx, operator, shop.id)
    assert len(queue) == 1
    self_sign_up.approve(ctx, operator, shop.id, queue[0].id)
    member = membership(ctx, shop, account_id)
    assert member is not None and member.status == "active" and member.department == "Bakery"
    assert messages(ctx, recipient="bo@example.com", kind="signup_approved")
    assert "You are already a member of" in bo.get(path).text


def test_allowed_domains_are_checked_against_the_accounts_addresses(ctx: Context, operator: Actor, shop: Any) -> None:
    account_id = person(ctx, operator, shop, "ann@example.com")
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "allowed_domains": ["shop.example"]})
    ann = browser_signed_in(ctx, "ann@example.com", PASSWORD)
    path = f"/sign-up?workspace={shop.id}"
    page = ann.get(path).text
    refused = post(ann, page, f"/sign-up/account?workspace={shop.id}")
    assert refused.status_code == 422 and "allowed domain" in refused.text and "shop.example" in refused.text
    assert membership(ctx, shop, account_id) is None
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "allowed_domains": ["example.com"]})
    assert post(ann, page, f"/sign-up/account?workspace={shop.id}").status_code == 303
    assert membership(ctx, shop, account_id) is not None


def test_someone_already_in_the_directory_is_told_on_the_page(ctx: Context, operator: Actor, shop: Any) -> None:
    account_id = person(ctx, operator, shop, "ann@example.com")
    members.provision(ctx, operator, shop.id, MemberInput(email="ann@example.com"), invite=False)
    _, path = link_path(ctx, operator, shop)
    ann = browser_signed_in(ctx, "ann@example.com", PASSWORD)
    refused = post(ann, ann.get(path).text, f"{path}/account")
    assert refused.status_code == 409 and "directory; ask for an invitation" in refused.text
    assert "as Ann Lee" in refused.text  # the join page again, the reason at the top
    assert membership(ctx, shop, account_id) is None


def test_daily_cap_used_up_link_and_sso_required(ctx: Context, operator: Actor, shop: Any) -> None:
    first = person(ctx, operator, shop, "ann@example.com")
    second = person(ctx, operator, shop, "bo@example.com", "Bo", "Ng")
    signup_settings.save(ctx, operator, shop.id, {"daily_cap": 1})
    _, path = link_path(ctx, operator, shop, max_uses=5)
    ann = browser_signed_in(ctx, "ann@example.com", PASSWORD)
    bo = browser_signed_in(ctx, "bo@example.com", PASSWORD)
    page = bo.get(path).text
    assert post(ann, ann.get(path).text, f"{path}/account").status_code == 303
    capped = post(bo, page, f"{path}/account")
    assert capped.status_code == 404 and "No more sign-ups are accepted today" in capped.text
    assert membership(ctx, shop, second) is None and membership(ctx, shop, first) is not None
    signup_settings.save(ctx, operator, shop.id, {"daily_cap": None})
    _, used_path = link_path(ctx, operator, shop, max_uses=1)
    carl = person(ctx, operator, shop, "carl@example.com", "Carl", "Ek")
    assert post(bo, bo.get(used_path).text, f"{used_path}/account").status_code == 303
    used = browser_signed_in(ctx, "carl@example.com", PASSWORD).get(used_path)
    assert used.status_code == 410 and "used as often" in used.text
    assert membership(ctx, shop, carl) is None
    with ctx.uow(write=True) as uow:
        uow.workspaces.update(shop.organization_id, shop.id, sso_required=True)
        uow.commit()
    carl_browser = browser_signed_in(ctx, "carl@example.com", PASSWORD)
    sso = carl_browser.get(path)
    assert sso.status_code == 404 and "requires single sign-on" in sso.text
    assert membership(ctx, shop, carl) is None


def test_the_console_asks_before_deleting_a_link(ctx: Context, operator: Actor, shop: Any) -> None:
    members.provision(ctx, operator, shop.id, MemberInput(email="boss@example.com", role="admin"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "boss@example.com"), password=PASSWORD)
    admin = browser_signed_in(ctx, "boss@example.com", PASSWORD)
    link, _ = link_path(ctx, operator, shop)
    base = f"/admin/{shop.id}/signup"
    listing = admin.get(base).text
    confirm = f"{base}/links/{link.id}/delete"
    assert f'href="{confirm}"' in listing
    assert not re.search(rf'<form method="post" action="{re.escape(confirm)}"', listing)  # one click never deletes
    question = admin.get(confirm)
    assert question.status_code == 200 and "Delete the sign-up link for Tills?" in question.text
    assert signup_links.list_links(ctx, operator, shop.id) != []  # asking deleted nothing
    assert admin.get(f"{base}/links/{'0' * 32}/delete").status_code == 404
    deleted = post(admin, question.text, confirm)
    assert deleted.status_code == 303 and deleted.headers["location"].endswith("done=deleted#links")
    assert signup_links.list_links(ctx, operator, shop.id) == []
    assert admin.get(confirm).status_code == 404

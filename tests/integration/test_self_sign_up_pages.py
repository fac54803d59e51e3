"""Self-sign-up over HTTP, on both databases: "Create one now!" on the sign-in page only when the
workspace offers it; the form → code → password journey by email and by SMS code, signed in at
the end; errors next to the field with what was typed kept; a tampered department refused; the
friendly page for a closed form and for tampered, paused and used-up links; an existing
account's address never attached; the console's Sign-up page (settings, links, the queue)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import client
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf

from admit.admin import members, signup_links, signup_settings, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"


@pytest.fixture
def shop(ctx: Context, operator: Actor, workspace: Any) -> Any:
    changes = {"departments": ["Bakery", "Tills", "Warehouse"], "sms_enabled": True}
    return tenancy.update_workspace(ctx, operator, workspace.id, changes)


def code(ctx: Context, recipient: str) -> str:
    return str(messages(ctx, recipient=recipient, kind="email_verification")[-1]["payload"]["code"])


def post(browser: TestClient, form_page: str, action: str, **data: str) -> Any:
    return browser.post(action, data={**data, "csrftoken": csrf(form_page)}, follow_redirects=False)


def details(browser: TestClient, path: str, **data: str) -> Any:
    page = browser.get(path)
    assert page.status_code == 200, page.text
    return post(browser, page.text, path, **data)


def finish(ctx: Context, browser: TestClient, recipient: str) -> Any:
    step = browser.get("/sign-up/next").text
    assert post(browser, step, "/sign-up/code", code=code(ctx, recipient)).status_code == 303
    step = browser.get("/sign-up/next").text
    assert 'name="password"' in step
    return post(browser, step, "/sign-up/password", password=PASSWORD)


def test_the_sign_in_page_offers_sign_up_only_when_enabled(ctx: Context, operator: Actor, shop: Any) -> None:
    browser = client(ctx)
    assert "Create one now!" not in browser.get(f"/sign-in?workspace={shop.id}").text
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "departments_pickable": ["Bakery", "Tills"]})
    page = browser.get(f"/sign-in?workspace={shop.id}").text
    assert f'href="/sign-up?workspace={shop.id}"' in page and "Create one now!" in page
    assert "Create one now!" in browser.get(f"/sso/w/{shop.id}").text
    assert "Create one now!" not in browser.get("/sign-in?workspace=%3Cscript%3E").text


def test_sign_up_by_email_from_the_sign_in_page(ctx: Context, operator: Actor, shop: Any) -> None:
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "departments_pickable": ["Bakery", "Tills"]})
    browser = client(ctx)
    path = f"/sign-up?workspace={shop.id}"
    refused = details(
        browser, path, first_name="Ann", last_name="<b>Lee</b>", email="ann@example.com", department="Warehouse"
    )
    assert refused.status_code == 422 and 'id="department-error"' in refused.text
    assert "&lt;b&gt;Lee&lt;/b&gt;" in refused.text and "<b>Lee</b>" not in refused.text  # kept, escaped
    sent = details(browser, path, first_name="Ann", last_name="Lee", email="ann@example.com", department="Tills")
    assert sent.status_code == 303 and sent.headers["location"] == "/sign-up/next"
    step = browser.get("/sign-up/next").text
    assert "ann@example.com" in step
    wrong = "000000" if code(ctx, "ann@example.com") != "000000" else "111111"
    answer = post(browser, step, "/sign-up/code", code=wrong)
    assert answer.status_code == 422 and "4 more times" in answer.text
    done = finish(ctx, browser, "ann@example.com")
    assert done.status_code == 303 and done.headers["location"] == f"/joined/{shop.id}"
    assert "admit_session" in done.cookies or browser.cookies.get("admit_session")


def test_sign_up_by_username_and_sms_code(ctx: Context, operator: Actor, shop: Any) -> None:
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "default_department": "Tills"})
    browser = client(ctx)
    form = browser.get(f"/sign-up?workspace={shop.id}").text
    assert "Tills" in form and 'name="department"' not in form
    sent = details(
        browser,
        f"/sign-up?workspace={shop.id}",
        first_name="Bo",
        last_name="Ng",
        username="bo.ng",
        phone="+41791234567",
    )
    assert sent.status_code == 303
    assert "text message" in browser.get("/sign-up/next").text
    done = finish(ctx, browser, "+41791234567")
    assert done.status_code == 303


def test_closed_form_and_links_answer_a_friendly_page(ctx: Context, operator: Actor, shop: Any) -> None:
    browser = client(ctx)
    closed = browser.get(f"/sign-up?workspace={shop.id}")
    assert closed.status_code == 404 and "does not accept sign-ups" in closed.text
    link = signup_links.create(ctx, operator, shop.id, {"department": "Warehouse", "max_uses": 1})
    path = link.url.removeprefix("https://admit.example.test")
    form = browser.get(path)
    assert form.status_code == 200 and "Warehouse" in form.text
    for tampered in (path[:-2] + "zz", "/join/adm_inv_x", "/join/%3Cscript%3E"):
        answer = browser.get(tampered)
        assert answer.status_code == 410 and "not valid" in answer.text and "<script>" not in answer.text
    tampered_department = post(
        browser, form.text, path, first_name="A", last_name="B", email="a@example.com", department="Bakery"
    )
    assert tampered_department.status_code == 422
    signup_links.pause(ctx, operator, shop.id, link.id)
    assert "paused" in browser.get(path).text
    signup_links.resume(ctx, operator, shop.id, link.id)
    assert details(browser, path, first_name="A", last_name="B", email="a@example.com").status_code == 303
    assert finish(ctx, browser, "a@example.com").status_code == 303
    used = client(ctx).get(path)
    assert used.status_code == 410 and "used as often" in used.text


def test_an_existing_accounts_address_is_not_attached(ctx: Context, operator: Actor, shop: Any) -> None:
    members.provision(ctx, operator, shop.id, MemberInput(email="ann@example.com"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    second = tenancy.create_workspace(ctx, operator, shop.organization_id, "Second")
    signup_settings.save(ctx, operator, second.id, {"enabled": True})
    browser = client(ctx)
    assert (
        details(
            browser, f"/sign-up?workspace={second.id}", first_name="E", last_name="V", email="ann@example.com"
        ).status_code
        == 303
    )
    step = browser.get("/sign-up/next").text
    assert post(browser, step, "/sign-up/code", code=code(ctx, "ann@example.com")).status_code == 303
    page = browser.get("/sign-up/next").text
    assert "You already have an account: sign in to join." in page and 'name="password"' not in page
    assert post(browser, step, "/sign-up/password", password="x-new-long-password-1").status_code == 409


def test_the_console_page_settings_links_and_queue(ctx: Context, operator: Actor, shop: Any) -> None:
    members.provision(ctx, operator, shop.id, MemberInput(email="boss@example.com", role="admin"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "boss@example.com"), password=PASSWORD)
    admin = browser_signed_in(ctx, "boss@example.com", PASSWORD)
    base = f"/admin/{shop.id}/signup"
    page = admin.get(base)
    assert page.status_code == 200 and "Department links" in page.text
    refused = post(admin, page.text, f"{base}/settings", enabled="yes", default_role="member", allowed_domains="<x>")
    assert refused.status_code == 422 and 'id="allowed_domains-error"' in refused.text
    assert "&lt;x&gt;</textarea>" in refused.text  # what was typed is kept, escaped
    refused = post(admin, page.text, f"{base}/settings", default_role="owner", daily_cap="0")
    assert refused.status_code == 422 and 'id="default_role-error"' in refused.text
    refused = post(admin, page.text, f"{base}/settings", default_role="member", daily_cap="0")
    assert refused.status_code == 422 and 'id="daily_cap-error"' in refused.text
    saved = post(
        admin,
        page.text,
        f"{base}/settings",
        enabled="yes",
        default_role="member",
        approval_required="yes",
        departments_pickable="Bakery",
    )
    assert saved.status_code == 303
    assert signup_settings.get(ctx, operator, shop.id).approval_required
    tampered = post(admin, page.text, f"{base}/links", department="Moon base", role="admin")
    assert tampered.status_code == 422 and 'id="link_department-error"' in tampered.text
    too_high = post(admin, page.text, f"{base}/links", department="Tills", role="admin")
    assert too_high.status_code == 422 and 'id="link_role-error"' in too_high.text
    created = post(admin, page.text, f"{base}/links", department="Tills", max_uses="5")
    assert created.status_code == 303
    page = admin.get(base).text
    url = re.search(r'value="(https://admit\.example\.test/join/adm_sul_[^"]+)"', page)
    assert url and "0 of 5" in page
    link = signup_links.list_links(ctx, operator, shop.id)[0]
    assert post(admin, page, f"{base}/links/{link.id}/pause").status_code == 303
    assert "Paused" in admin.get(base).text
    assert post(admin, page, f"{base}/links/{link.id}/resume").status_code == 303
    assert post(admin, page, f"{base}/links/{link.id}/rotate").status_code == 303
    assert url.group(1) not in admin.get(base).text
    # Someone signs up through the link: the console approves them.
    person = client(ctx)
    path = signup_links.list_links(ctx, operator, shop.id)[0].url.removeprefix("https://admit.example.test")
    assert details(person, path, first_name="Cy", last_name="Do", email="cy@example.com").status_code == 303
    done = finish(ctx, person, "cy@example.com")
    assert done.status_code == 303 and "administrator will check" in person.get("/sign-up/next").text
    page = admin.get(base).text
    request_id = re.search(r'data-request="([0-9a-f]+)"', page)
    assert request_id and "Cy Do" in page
    assert post(admin, page, f"{base}/requests/{request_id.group(1)}/approve").status_code == 303
    assert messages(ctx, recipient="cy@example.com", kind="signup_approved")
    assert browser_signed_in(ctx, "cy@example.com", PASSWORD)
    assert post(admin, page, f"{base}/requests/{request_id.group(1)}/approve").status_code == 409
    assert post(admin, page, f"{base}/links/{link.id}/delete").status_code == 303
    assert signup_links.list_links(ctx, operator, shop.id) == []
    assert admin.get(f"/admin/{shop.id}/signup/links/{'0' * 32}/explode").status_code in (404, 405)

"""A signed-in person adds an email address to their account, over HTTP on both databases: a code
goes to the address (a typed secret: stored as a digest, single use, a few wrong tries), the
address then signs in; asking never tells whether another account holds the address, only the
person who received the code learns it; the page needs a signed-in account and the CSRF token."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import client
from support.outbox import code_for, messages, token_for
from support.pages import browser_signed_in, csrf, sign_in

from admit.admin import members
from admit.admin.profiles import MemberInput
from admit.domain.errors import Conflict, InvalidCode, SecretRejected, ValidationFailed
from admit.flows.invitation import claims
from admit.flows.settings import emails
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"


def account(ctx: Context, operator: Actor, workspace: Any, email: str) -> str:
    members.provision(ctx, operator, workspace.id, MemberInput(email=email), invite=True)
    return str(claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)["account_id"])


def post(browser: TestClient, form_page: str, action: str, **data: str) -> Any:
    return browser.post(action, data={**data, "csrftoken": csrf(form_page)}, follow_redirects=False)


def test_add_an_address_by_its_code_and_sign_in_with_it(ctx: Context, operator: Actor, workspace: Any) -> None:
    account(ctx, operator, workspace, "ann@example.com")
    assert client(ctx).get("/settings/email", follow_redirects=False).headers["location"].startswith("/sign-in")
    ann = browser_signed_in(ctx, "ann@example.com", PASSWORD)
    assert 'href="/settings/email"' in ann.get("/").text
    page = ann.get("/settings/email").text
    assert "ann@example.com" in page
    refused = post(ann, page, "/settings/email", email="<b>not an address")
    assert refused.status_code == 422 and 'id="email-error"' in refused.text and "<b>not" not in refused.text
    mine = post(ann, page, "/settings/email", email="ANN@example.com")
    assert mine.status_code == 422 and "already signs in with this address" in mine.text
    assert ann.post("/settings/email", data={"email": "ann@home.example"}).status_code == 403  # no CSRF token
    sent = post(ann, page, "/settings/email", email="Ann@Home.example")
    assert sent.status_code == 303
    page = ann.get("/settings/email").text
    assert "We sent a code to ann@home.example" in page
    code = code_for(ctx, "ann@home.example")
    wrong = "000000" if code != "000000" else "111111"
    answer = post(ann, page, "/settings/email/code", code=wrong)
    assert answer.status_code == 422 and "4 more times" in answer.text
    assert sign_in(client(ctx), "ann@home.example", PASSWORD).status_code == 401  # not yet
    added = post(ann, page, "/settings/email/code", code=code)
    assert added.status_code == 303 and added.headers["location"] == "/settings/email?done=added"
    assert "The address was added" in ann.get(added.headers["location"]).text
    assert sign_in(client(ctx), "ann@home.example", PASSWORD).status_code == 303
    again = post(ann, page, "/settings/email/code", code=code)  # single use: the flow is over
    assert again.status_code == 410


def test_another_accounts_address_is_refused_only_after_its_code(ctx: Context, operator: Actor, workspace: Any) -> None:
    ann = account(ctx, operator, workspace, "ann@example.com")
    account(ctx, operator, workspace, "bo@example.com")
    handle = emails.start(ctx, ann, "bo@example.com")  # the same answer as for a free address
    assert messages(ctx, recipient="bo@example.com", kind="email_verification")
    with pytest.raises(Conflict) as refused:
        emails.confirm(ctx, ann, handle, code_for(ctx, "bo@example.com"))
    assert refused.value.code == "account_exists"
    assert "bo@example.com" not in emails.identifiers(ctx, ann)


def test_codes_are_bound_to_the_flow_and_the_account_and_few_tries(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    ann = account(ctx, operator, workspace, "ann@example.com")
    bo = account(ctx, operator, workspace, "bo@example.com")
    handle = emails.start(ctx, ann, "ann@work.example")
    code = code_for(ctx, "ann@work.example")
    with pytest.raises(SecretRejected):
        emails.confirm(ctx, bo, handle, code)  # another account holding the handle: nothing
    with pytest.raises(SecretRejected):
        emails.confirm(ctx, ann, "adm_flw_" + "x" * 43, code)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(InvalidCode):
            emails.confirm(ctx, ann, handle, wrong)
    with pytest.raises(SecretRejected):
        emails.confirm(ctx, ann, handle, wrong)
    with pytest.raises(SecretRejected):
        emails.confirm(ctx, ann, handle, code)  # withdrawn after too many wrong tries
    for bad in (None, "", "x" * 500, "a\x00@example.com", 42):
        with pytest.raises(ValidationFailed):
            emails.start(ctx, ann, bad)

"""``prompt=select_account`` on both databases: with two accounts signed in on one browser, the
app's request shows a chooser (the active account first); the chosen account gets the code; the
chooser offers to sign in with another account; with ``prompt=none`` too it is an error."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from support.api import client
from support.clock import FixedClock
from support.oidc_flow import PASSWORD, authorize, back, exchange, join, register, verify
from support.pages import csrf, sign_in

from admit.shared.context import Context


def test_the_chosen_account_goes_on_to_the_app(ctx: Context, org: Any, workspace: Any, clock: FixedClock) -> None:
    join(ctx, workspace.id, "ada@acme.example")
    join(ctx, workspace.id, "bob@acme.example")
    client_id, secret = register(ctx, org.id)
    browser = client(ctx)
    assert sign_in(browser, "ada@acme.example", PASSWORD).status_code == 303
    assert sign_in(browser, "bob@acme.example", PASSWORD).status_code == 303  # now the active one
    chooser = authorize(browser, client_id, prompt="select_account")
    assert chooser.status_code == 200 and "Choose an account" in chooser.text
    buttons = re.findall(r'<button type="submit" name="position" value="(\d)">([^<]+)</button>', chooser.text)
    assert [name for _, name in buttons] == ["bob@acme.example", "ada@acme.example"]
    another = re.search(r'href="/sign-in\?next=([^"]+)"', chooser.text)
    assert another and "prompt" not in unquote(html.unescape(another.group(1)))
    query = re.search(r'name="query" value="([^"]*)"', chooser.text)
    assert query
    picked = browser.post(
        "/oauth2/authorize/account",
        data={"csrftoken": csrf(chooser.text), "query": html.unescape(query.group(1)), "position": buttons[1][0]},
        follow_redirects=False,
    )
    assert picked.status_code == 303 and "prompt" not in picked.headers["location"]
    answer = back(browser.get(picked.headers["location"], follow_redirects=False))
    tokens = exchange(browser, client_id, secret, answer["code"]).json()
    _, claims = verify(browser, tokens["id_token"], clock)
    assert claims["email"] == "ada@acme.example"
    home = browser.get("/").text  # Ada is the active account on Admit too
    assert re.search(r"<strong>ada@acme\.example</strong>", home)


def test_select_account_with_none_is_an_error_and_without_a_session_means_sign_in(
    ctx: Context, org: Any, workspace: Any
) -> None:
    join(ctx, workspace.id, "ada@acme.example")
    client_id, _ = register(ctx, org.id)
    browser = client(ctx)
    first = authorize(browser, client_id, prompt="select_account")
    assert first.status_code == 303 and first.headers["location"].startswith("/sign-in?next=")
    assert sign_in(browser, "ada@acme.example", PASSWORD).status_code == 303
    both = authorize(browser, client_id, prompt="none select_account")
    assert both.status_code == 302
    assert parse_qs(urlsplit(both.headers["location"]).query)["error"] == ["invalid_request"]

"""The console's header on every admin page: who is signed in, a switcher to the other
workspaces they administer (only those, never another tenant's), and signing out."""

from __future__ import annotations

from typing import Any

from support.outbox import token_for
from support.pages import csrf
from test_admin_pages import person, signed_in

from admit.admin import tenancy
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

EMAIL = "olga@example.com"


def _join(ctx: Context, operator: Actor, workspace: Any, role: str) -> None:
    """Olga (signed up already) joins ``workspace`` with ``role``."""
    person(ctx, operator, workspace, EMAIL, invite=True, role=role)
    _, account = sessions.sign_in(ctx, EMAIL, "orchard-lantern-pebble-73")
    claims.accept_with_token(ctx, token_for(ctx, EMAIL), account_id=account.id)


def test_the_header_names_the_administrator_switches_workspace_and_signs_out(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    browser = signed_in(ctx, operator, workspace, EMAIL)
    second = tenancy.create_workspace(ctx, operator, workspace.organization_id, "Second <b>Desk</b>")
    third = tenancy.create_workspace(ctx, operator, workspace.organization_id, "Third Desk")
    _join(ctx, operator, second, "admin")
    _join(ctx, operator, third, "member")  # a member there: not administered, not offered
    elsewhere = tenancy.create_organization(ctx, operator, "Globex")
    tenancy.create_workspace(ctx, operator, elsewhere.id, "Globex Main")

    page = browser.get(f"/admin/{workspace.id}/audit").text
    assert "Signed in as Olga Berg" in page and 'action="/sign-out"' in page
    assert f'href="/admin/{second.id}/audit"' in page  # the same section in the other workspace
    assert "Second &lt;b&gt;Desk&lt;/b&gt;" in page and "<b>Desk" not in page
    assert third.id not in page and "Globex" not in page
    assert 'href="/admin"' in page
    from_second = browser.get(f"/admin/{second.id}/people").text
    assert (
        f'href="/admin/{workspace.id}/people"' in from_second
        and f'href="/admin/{second.id}/people"' not in (from_second.split('class="switcher"')[1])
    )

    out = browser.post("/sign-out", data={"csrftoken": csrf(page)}, follow_redirects=False)
    assert out.status_code == 303
    again = browser.get(f"/admin/{workspace.id}/people", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in?next=")


def test_with_one_workspace_there_is_no_switcher_and_a_german_admin_reads_german(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    page = signed_in(ctx, operator, workspace, EMAIL).get(f"/admin/{workspace.id}/people").text
    assert "Signed in as Olga Berg" in page and "Switch workspace" not in page
    german = signed_in(ctx, operator, workspace, "greta@example.com", language="de")
    assert "Angemeldet als Olga Berg" in german.get(f"/admin/{workspace.id}/people").text

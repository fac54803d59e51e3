"""Held SCIM deprovisioning in the console, on both databases: announced on the People page and
linked from the SCIM page; listed (names escaped); one applied, the rest dismissed, each answered
with a notice; a hold decided already or made up answered on the page; who may: the workspace's
people managers, not a member; every change a POST with the CSRF token."""

from __future__ import annotations

import re
from typing import Any

from support.pages import csrf
from test_admin_apps import account, browser_of
from test_scim_brake import people, statuses
from test_scim_lifecycle import scim_actor

from admit.admin import members, scim_brake
from admit.admin.profiles import MemberInput
from admit.shared.context import Actor, Context

MARKUP = "<img src=x onerror=alert(1)>"


def held_workspace(ctx: Context, operator: Actor, org: Any, workspace: Any) -> tuple[Actor, list[str]]:
    """Olga administers 30 people; an identity provider deactivated nine of them: three are held."""
    admin = account(ctx, operator, workspace, "olga@example.com", role="admin")
    ids = people(ctx, operator, workspace, 28)
    marked, _ = members.provision(
        ctx, operator, workspace.id, MemberInput(email="m@example.com", first_name=MARKUP), invite=False
    )
    ids.insert(6, str(marked.id))
    scim = scim_actor(ctx, operator, org, workspace)
    for member_id in ids[:9]:
        members.suspend(ctx, scim, member_id)
    return admin, ids


def test_an_administrator_is_told_reviews_applies_one_and_dismisses_the_rest(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    admin, ids = held_workspace(ctx, operator, org, workspace)
    browser = browser_of(ctx, "olga@example.com")
    listing = browser.get(f"/admin/{workspace.id}/people").text
    assert 'id="scim-holds-notice"' in listing and f'href="/admin/{workspace.id}/scim/holds"' in listing
    assert "3 deactivations or removals by an identity provider are held" in listing
    assert f'href="/admin/{workspace.id}/scim/holds"' in browser.get(f"/admin/{workspace.id}/scim").text
    page = browser.get(f"/admin/{workspace.id}/scim/holds")
    assert page.status_code == 200 and page.text.count("data-hold=") == 3
    assert MARKUP not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "Entra ID" in page.text and "Apply all 3 held changes" in page.text
    first = re.findall(r'name="hold" value="(\w+)"', page.text)[0]
    assert first == scim_brake.list_holds(ctx, admin, workspace.id)[0].id
    applied = browser.post(
        f"/admin/{workspace.id}/scim/holds/release",
        data={"hold": first, "csrftoken": csrf(page.text)},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    after = browser.get(applied.headers["location"]).text
    assert "1 held change was applied." in after and after.count("data-hold=") == 2
    assert statuses(ctx, operator, ids[6:9]) == ["suspended", "provisioned", "provisioned"]
    dismissed = browser.post(f"/admin/{workspace.id}/scim/holds/dismiss", data={"all": "1", "csrftoken": csrf(after)})
    assert dismissed.status_code == 200 and "2 held changes were dismissed." in dismissed.text
    assert "Nothing is held." in dismissed.text
    assert statuses(ctx, operator, ids[7:9]) == ["provisioned", "provisioned"]
    assert 'id="scim-holds-notice"' not in browser.get(f"/admin/{workspace.id}/people").text
    again = browser.post(f"/admin/{workspace.id}/scim/holds/release", data={"hold": first, "csrftoken": csrf(after)})
    assert again.status_code == 404 and 'role="alert"' in again.text and "Traceback" not in again.text
    made_up = browser.post(
        f"/admin/{workspace.id}/scim/holds/dismiss", data={"hold": MARKUP + "\x00" * 3, "csrftoken": csrf(after)}
    )
    assert made_up.status_code == 422 and MARKUP not in made_up.text


def test_a_member_may_not_see_holds_and_changes_need_the_csrf_token(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    admin, _ = held_workspace(ctx, operator, org, workspace)
    account(ctx, operator, workspace, "mo@example.com", role="member")
    member = browser_of(ctx, "mo@example.com")
    assert member.get(f"/admin/{workspace.id}/scim/holds").status_code in (403, 404)
    olga = browser_of(ctx, "olga@example.com")
    forged = olga.post(f"/admin/{workspace.id}/scim/holds/release", data={"all": "1"})
    assert forged.status_code == 403
    assert len(scim_brake.list_holds(ctx, admin, workspace.id)) == 3
    assert olga.post(f"/admin/{workspace.id}/scim/holds/nonsense", data={"all": "1"}).status_code in (403, 404)
    assert 'id="scim-holds-notice"' not in member.get(f"/admin/{workspace.id}/people").text

"""Groups in the console, on both databases: creating one from the Groups page (linked from
People), a clash shown next to the name with what was typed kept, markup shown as text, adding
two people picked from the workspace, removing one, the person's page listing their groups,
deleting after a confirmation page (a GET changes nothing), a member who does not manage
people refused, and the role a group grants set and cleared (owner, a tampered value and a grant
above the administrator's own role refused next to the field; no CSRF token, nothing changes)."""

from __future__ import annotations

import re
from typing import Any

from support.oidc_flow import PASSWORD
from support.outbox import token_for
from support.pages import browser_signed_in, csrf

from admit.admin import groups, members, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context


def joined(ctx: Context, operator: Actor, workspace: Any, email: str, role: str, **kw: Any) -> str:
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role, **kw), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    return str(created.id)


def test_an_administrator_makes_a_group_fills_it_and_deletes_it(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    joined(ctx, operator, workspace, "dana@acme.example", "admin")
    ada = joined(ctx, operator, workspace, "ada@acme.example", "member", first_name="Ada")
    bo = joined(ctx, operator, workspace, "bo@acme.example", "member", first_name="Bo")
    groups.create(ctx, operator, org.id, "Taken")
    browser = browser_signed_in(ctx, "dana@acme.example", PASSWORD)
    people = browser.get(f"/admin/{workspace.id}/people").text
    assert f'href="/admin/{workspace.id}/groups"' in people
    page = browser.get(f"/admin/{workspace.id}/groups").text
    clash = browser.post(f"/admin/{workspace.id}/groups", data={"name": "TAKEN", "csrftoken": csrf(page)})
    assert clash.status_code == 409 and 'value="TAKEN"' in clash.text and 'id="name-error"' in clash.text
    made = browser.post(
        f"/admin/{workspace.id}/groups", data={"name": "<b>Crew</b>", "csrftoken": csrf(page)}, follow_redirects=False
    )
    assert made.status_code == 303
    group_url = made.headers["location"].split("?")[0]
    shown = browser.get(group_url).text
    assert "&lt;b&gt;Crew&lt;/b&gt;" in shown and "<b>Crew</b>" not in shown
    added = browser.post(
        f"{group_url}/members",
        data={f"pick_{ada}": "yes", f"pick_{bo}": "yes", "csrftoken": csrf(shown)},
        follow_redirects=False,
    )
    assert added.status_code == 303
    shown = browser.get(group_url).text
    assert len(re.findall(r'<tr data-member="', shown)) == 2
    person = browser.get(f"/admin/{workspace.id}/people/{ada}").text
    assert 'id="groups-title"' in person and "&lt;b&gt;Crew&lt;/b&gt;" in person
    removed = browser.post(
        f"{group_url}/members/remove", data={"member_id": bo, "csrftoken": csrf(shown)}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert len(re.findall(r'<tr data-member="', browser.get(group_url).text)) == 1
    question = browser.get(f"{group_url}/delete")
    assert question.status_code == 200 and browser.get(group_url).status_code == 200  # asking deletes nothing
    gone = browser.post(f"{group_url}/delete", data={"csrftoken": csrf(question.text)}, follow_redirects=False)
    assert gone.status_code == 303 and browser.get(group_url).status_code == 404
    stranger = browser.post(f"{group_url}/members", data={"member_id": "nobody", "csrftoken": csrf(shown)})
    assert stranger.status_code == 404


def test_a_member_who_does_not_manage_people_is_refused(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    joined(ctx, operator, workspace, "mo@acme.example", "member")
    group = groups.create(ctx, operator, org.id, "Crew")
    browser = browser_signed_in(ctx, "mo@acme.example", PASSWORD)
    assert browser.get(f"/admin/{workspace.id}/groups").status_code in (403, 404)
    assert browser.get(f"/admin/{workspace.id}/groups/{group.id}").status_code in (403, 404)
    assert groups.get(ctx, operator, org.id, group.id).group.display_name == "Crew"


def test_an_administrator_sets_and_clears_the_role_a_group_grants(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    joined(ctx, operator, workspace, "dana@acme.example", "admin")
    ada = joined(ctx, operator, workspace, "ada@acme.example", "member", first_name="Ada")
    crew = groups.create(ctx, operator, org.id, "Crew")
    groups.add_members(ctx, operator, org.id, crew.id, [ada])
    browser = browser_signed_in(ctx, "dana@acme.example", PASSWORD)
    url = f"/admin/{workspace.id}/groups/{crew.id}"
    page = browser.get(url).text
    assert 'name="role"' in page and '<option value="" selected' not in page  # nothing chosen: "No role"
    unguarded = browser.post(f"{url}/role", data={"role": "member"}, follow_redirects=False)
    assert unguarded.status_code == 403 and groups.get(ctx, operator, org.id, crew.id).group.role is None
    for refused, status in (("owner", 403), ("<b>boss</b>", 422)):
        answer = browser.post(f"{url}/role", data={"role": refused, "csrftoken": csrf(page)})
        assert answer.status_code == status and 'id="role-error"' in answer.text, refused
        assert "<b>boss</b>" not in answer.text
        assert groups.get(ctx, operator, org.id, crew.id).group.role is None
    saved = browser.post(f"{url}/role", data={"role": "admin", "csrftoken": csrf(page)}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=role_set")
    group = groups.get(ctx, operator, org.id, crew.id).group
    assert (group.workspace_id, group.role) == (workspace.id, "admin")
    shown = browser.get(saved.headers["location"]).text
    assert '<option value="admin" selected>' in shown and "role was saved." in shown
    cleared = browser.post(f"{url}/role", data={"role": "", "csrftoken": csrf(page)}, follow_redirects=False)
    assert cleared.status_code == 303 and groups.get(ctx, operator, org.id, crew.id).group.role is None
    # A grant in a workspace where Dana is only a member: not hers to change (above her role there).
    other = tenancy.create_workspace(ctx, operator, org.id, "Depot")
    members.provision(ctx, operator, other.id, MemberInput(email="dana@acme.example"), invite=True)
    account_id = browser_account_id(ctx, "dana@acme.example")
    claims.accept_with_token(ctx, token_for(ctx, "dana@acme.example"), account_id=account_id)
    groups.update(ctx, operator, org.id, crew.id, {"workspace_id": other.id, "role": "admin"})
    page = browser.get(url).text
    assert "grants its role in another workspace" in page
    above = browser.post(f"{url}/role", data={"role": "member", "csrftoken": csrf(page)})
    assert above.status_code == 403 and 'id="role-error"' in above.text
    assert groups.get(ctx, operator, org.id, crew.id).group.role == "admin"


def browser_account_id(ctx: Context, email: str) -> str:
    with ctx.uow() as uow:
        account = uow.accounts.by_identifiers([("email", email)])
    assert account is not None
    return str(account.id)

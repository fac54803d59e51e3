"""An organization's groups over the REST API and in the rules behind it, on both databases:
creating, renaming, the external ID, deleting, adding/removing/replacing members (10,000 in one
call), paging and the name prefix, who may (MANAGE_PEOPLE, nobody grants a role above their own,
never owner), another organization's group and members not found, hostile names refused; the
role a group grants applies at once (console, API) and goes when the member leaves the group;
the ID token names the person's groups."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.clock import FixedClock
from support.oidc_flow import PASSWORD, code_for, exchange, register, verify
from support.outbox import token_for
from support.pages import browser_signed_in

from admit.adapters.persistence import tables as t
from admit.admin import groups, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import AlreadyExists, NotFound, PermissionDenied, ValidationFailed
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context


def person(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member") -> tuple[Actor, str]:
    """Someone who accepted an invitation with ``role``: (their actor, their member id)."""
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    account_id = members.get(ctx, operator, str(created.id)).account_id
    assert account_id is not None
    return Actor(ActorKind.ACCOUNT, id=account_id, name=email), str(created.id)


def provisioned(ctx: Context, operator: Actor, workspace: Any, email: str) -> str:
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email), invite=False)
    return str(created.id)


def base(org: Any) -> str:
    return f"/api/v1/organizations/{org.id}/groups"


def test_a_group_is_made_renamed_filled_paged_emptied_and_deleted_over_the_api(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    made = api.post(base(org), json={"name": "Night Shift", "external_id": "ext-1"})
    assert made.status_code == 201, made.text
    group = made.json()
    assert (group["display_name"], group["external_id"], group["source"], group["member_count"]) == (
        "Night Shift",
        "ext-1",
        "api",
        0,
    )
    clash = api.post(base(org), json={"name": "NIGHT shift"})  # names are unique whatever their case
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "name"
    ids = [provisioned(ctx, operator, workspace, f"p{n}@acme.example") for n in range(3)]
    clock.advance(seconds=5)
    added = api.post(f"{base(org)}/{group['id']}/members", json={"member_ids": [*ids, ids[0]]})
    assert added.status_code == 200, added.text
    assert (added.json()["added"], added.json()["member_count"]) == (3, 3)
    assert added.json()["group"]["updated_at"] > group["updated_at"]  # SCIM's ETag moves
    again = api.post(f"{base(org)}/{group['id']}/members", json={"member_ids": ids[:2]})
    assert (again.json()["added"], again.json()["member_count"]) == (0, 3)
    first = api.get(f"{base(org)}/{group['id']}", params={"limit": 2}).json()
    assert first["group"]["member_count"] == 3 and len(first["members"]) == 2 and first["next_cursor"]
    rest = api.get(f"{base(org)}/{group['id']}/members", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert sorted(m["id"] for m in first["members"] + rest["members"]) == sorted(ids) and rest["next_cursor"] is None
    clock.advance(seconds=5)
    renamed = api.patch(f"{base(org)}/{group['id']}", json={"name": "Late Shift", "external_id": None})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["display_name"], renamed.json()["external_id"]) == ("Late Shift", None)
    removed = api.post(f"{base(org)}/{group['id']}/members/remove", json={"member_ids": [ids[0], "unknown"]})
    assert (removed.json()["removed"], removed.json()["member_count"]) == (1, 2)
    replaced = groups.replace_members(ctx, operator, org.id, group["id"], [ids[0]])
    assert (replaced.added, replaced.removed, replaced.member_count) == (1, 2, 1)
    assert api.delete(f"{base(org)}/{group['id']}").status_code == 204
    assert api.get(f"{base(org)}/{group['id']}").status_code == 404
    with ctx.uow() as uow:
        actions = [e.action for e in uow.events.list(org.id, subject_id=group["id"])]
    assert {"group.created", "group.updated", "group.members_added", "group.members_removed", "group.deleted"} <= set(
        actions
    )


def test_groups_are_listed_by_name_with_a_prefix_and_pages(ctx: Context, org: Any, operator: Actor) -> None:
    for name in ("Bakers", "baristas", "Cooks", "Bar_staff", "B%"):
        groups.create(ctx, operator, org.id, name)
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    found = api.get(base(org), params={"prefix": "ba"}).json()
    assert [g["display_name"] for g in found["items"]] == ["Bakers", "Bar_staff", "baristas"]
    assert [g["display_name"] for g in api.get(base(org), params={"prefix": "bar_"}).json()["items"]] == ["Bar_staff"]
    assert [g["display_name"] for g in api.get(base(org), params={"prefix": "B%"}).json()["items"]] == ["B%"]
    page1 = api.get(base(org), params={"limit": 2}).json()
    page2 = api.get(base(org), params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    page3 = api.get(base(org), params={"limit": 2, "cursor": page2["next_cursor"]}).json()
    names = [g["display_name"] for g in page1["items"] + page2["items"] + page3["items"]]
    assert names == ["B%", "Bakers", "Bar_staff", "baristas", "Cooks"] and page3["next_cursor"] is None


def test_ten_thousand_members_are_added_and_removed_in_one_call_each(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    now = clock.now()
    with ctx.uow(write=True, bulk=True) as uow:
        ids = [
            uow.members.add(
                organization_id=org.id,
                workspace_id=workspace.id,
                status="provisioned",
                role="member",
                email=f"bulk{n}@acme.example",
                created_at=now,
                updated_at=now,
            )
            for n in range(10_000)
        ]
        uow.commit()
    group = groups.create(ctx, operator, org.id, "Everyone")
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    half = api.post(f"{base(org)}/{group.id}/members", json={"member_ids": ids[:5_000]})
    assert half.json()["added"] == 5_000
    whole = api.post(f"{base(org)}/{group.id}/members", json={"member_ids": ids})
    assert whole.status_code == 200, whole.text
    assert (whole.json()["added"], whole.json()["member_count"]) == (5_000, 10_000)
    with ctx.uow() as uow:
        assert (
            uow.conn.execute(t.group_members.select().where(t.group_members.c.group_id == group.id)).all().__len__()
            == 10_000
        )
    too_many = api.post(f"{base(org)}/{group.id}/members", json={"member_ids": [*ids, "one-more"]})
    assert too_many.status_code == 422
    gone = api.post(f"{base(org)}/{group.id}/members/remove", json={"member_ids": ids[:9_999]})
    assert (gone.json()["removed"], gone.json()["member_count"]) == (9_999, 1)


def test_who_may_manage_groups_and_what_they_are_refused(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    other_org = tenancy.create_organization(ctx, operator, "Globex", plan="business", seats=5)
    other_ws = tenancy.create_workspace(ctx, operator, other_org.id, "Globex Main")
    stranger = provisioned(ctx, operator, other_ws, "stranger@globex.example")
    theirs = groups.create(ctx, operator, other_org.id, "Globex group")
    mine = groups.create(ctx, operator, org.id, "Acme group")
    member_token = client(ctx, api_token(ctx, org.id, role="member"))
    refused = member_token.post(base(org), json={"name": "Nope"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert member_token.get(base(org)).status_code == 403
    admin = client(ctx, api_token(ctx, org.id, role="admin"))
    assert admin.get(f"{base(other_org)}").status_code == 404
    assert admin.get(f"/api/v1/organizations/{org.id}/groups/{theirs.id}").status_code == 404
    assert admin.delete(f"/api/v1/organizations/{org.id}/groups/{theirs.id}").status_code == 404
    outsider = admin.post(f"{base(org)}/{mine.id}/members", json={"member_ids": [stranger]})
    assert outsider.status_code == 404 and outsider.json()["error"]["field"] == "member_ids"
    owner_grant = admin.post(base(org), json={"name": "Owners", "workspace_id": workspace.id, "role": "owner"})
    assert owner_grant.status_code == 422  # not a role a group can grant
    with pytest.raises(PermissionDenied):
        groups.create(ctx, operator, org.id, "Owners", workspace_id=workspace.id, role="owner")
    foreign_ws = admin.post(base(org), json={"name": "Foreign", "workspace_id": other_ws.id, "role": "member"})
    assert foreign_ws.status_code == 404
    for hostile, field in (("a\x00b", "name"), ("x" * 257, "name"), ("   ", "name"), ("a\u202eb", "name")):
        with pytest.raises(ValidationFailed) as caught:
            groups.create(ctx, operator, org.id, hostile)
        assert caught.value.field == field
    with pytest.raises(ValidationFailed):
        groups.add_members(ctx, operator, org.id, mine.id, ["x" * 33])
    with pytest.raises(ValidationFailed):
        groups.add_members(ctx, operator, org.id, mine.id, "not-a-list")
    with pytest.raises(AlreadyExists):
        groups.create(ctx, operator, org.id, "ACME GROUP")
    # A person who manages people in one workspace but is only a member in another grants no admin there.
    second = tenancy.create_workspace(ctx, operator, org.id, "Acme Second")
    dana, _ = person(ctx, operator, workspace, "dana@acme.example", role="admin")
    members.provision(ctx, operator, second.id, MemberInput(email="dana@acme.example", role="member"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "dana@acme.example"), account_id=dana.id)
    made = groups.create(ctx, dana, org.id, "Admins here", workspace_id=workspace.id, role="admin")
    assert made.role == "admin"
    with pytest.raises(PermissionDenied):
        groups.create(ctx, dana, org.id, "Admins there", workspace_id=second.id, role="admin")
    groups.create(ctx, dana, org.id, "Members there", workspace_id=second.id, role="member", acting_from=workspace.id)
    with pytest.raises(PermissionDenied):
        groups.update(ctx, dana, org.id, mine.id, {"workspace_id": second.id, "role": "admin"})
    # Nor may she acting from the workspace where she is only a member.
    with pytest.raises(PermissionDenied):
        groups.create(ctx, dana, org.id, "Plain", acting_from=second.id)
    with pytest.raises(NotFound):
        groups.create(ctx, dana, other_org.id, "Elsewhere")


def test_a_group_granting_admin_opens_the_console_and_leaving_it_closes_it_at_once(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    _, kim = person(ctx, operator, workspace, "kim@acme.example", role="member")
    browser = browser_signed_in(ctx, "kim@acme.example", PASSWORD)
    people = f"/admin/{workspace.id}/people"
    assert browser.get(people, follow_redirects=False).status_code in (403, 404)
    admins = groups.create(ctx, operator, org.id, "Workspace admins", workspace_id=workspace.id, role="admin")
    groups.add_members(ctx, operator, org.id, admins.id, [kim])
    opened = browser.get(people, follow_redirects=False)
    assert opened.status_code == 200 and "kim@acme.example" in opened.text
    _, session = (
        None,
        client(ctx)
        .post("/api/v1/sessions", json={"identifier": "kim@acme.example", "password": PASSWORD})
        .json()["token"],
    )
    as_kim = client(ctx, session)
    provisioned_now = as_kim.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "new@acme.example"})
    assert provisioned_now.status_code == 201, provisioned_now.text  # manages people through the API too
    with ctx.uow() as uow:
        member = uow.members.get(org.id, kim)
    assert member is not None and member.role == "member"  # her own role is untouched
    groups.remove_members(ctx, operator, org.id, admins.id, [kim])
    assert browser.get(people, follow_redirects=False).status_code in (403, 404)
    refused = as_kim.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "newer@acme.example"})
    assert refused.status_code == 403
    # A grant in another workspace does nothing here; a lower grant never lowers her role.
    second = tenancy.create_workspace(ctx, operator, org.id, "Acme Second")
    elsewhere = groups.create(ctx, operator, org.id, "Second admins", workspace_id=second.id, role="admin")
    guests = groups.create(ctx, operator, org.id, "Guests", workspace_id=workspace.id, role="guest")
    groups.add_members(ctx, operator, org.id, elsewhere.id, [kim])
    groups.add_members(ctx, operator, org.id, guests.id, [kim])
    with ctx.uow() as uow:
        seen = uow.members.for_account(org.id, workspace.id, str(member.account_id))
    assert seen is not None and seen.role == "member"


def test_the_id_token_names_the_groups_and_the_granted_role(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"departments": ["Sales"]})
    _, ada = person(ctx, operator, workspace, "ada@acme.example")
    members.update(ctx, operator, ada, {"department": "Sales"})
    for name, role in (("Zeta <b>team</b>", None), ("Alpha", "admin")):
        made = groups.create(ctx, operator, org.id, name, workspace_id=workspace.id if role else None, role=role)
        groups.add_members(ctx, operator, org.id, made.id, [ada])
    client_id, secret = register(ctx, org.id)
    browser, back = code_for(ctx, client_id, "ada@acme.example")
    answer = exchange(browser, client_id, secret, back["code"])
    assert answer.status_code == 200, answer.text
    _, found = verify(browser, answer.json()["id_token"], clock)
    assert found["groups"] == ["department:Sales", "Alpha", "Zeta <b>team</b>"]
    assert found["role"] == "admin" and "manage_people" in found["permissions"]


def test_a_person_page_lists_their_groups_for_whoever_manages_people(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    _, ada = person(ctx, operator, workspace, "ada@acme.example")
    made = groups.create(ctx, operator, org.id, "Readers")
    groups.add_members(ctx, operator, org.id, made.id, [ada])
    assert [g.display_name for g in groups.groups_of_member(ctx, operator, ada)] == ["Readers"]
    viewer, _ = person(ctx, operator, workspace, "viewer@acme.example", role="member")
    with pytest.raises(PermissionDenied):
        groups.groups_of_member(ctx, viewer, ada)
    with pytest.raises(NotFound):
        groups.groups_of_member(ctx, Actor(ActorKind.API_TOKEN, id="t", organization_id="elsewhere", role=None), ada)


def test_a_removed_member_leaves_every_group_and_the_groups_change_version(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    stays, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="stays@acme.example"), invite=False)
    leaves, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="leaves@acme.example"), invite=False)
    first = groups.create(ctx, operator, org.id, "First")
    second = groups.create(ctx, operator, org.id, "Second")
    for group in (first, second):
        groups.add_members(ctx, operator, org.id, group.id, [stays.id, leaves.id])
    with ctx.uow() as uow:
        before = {gid: uow.groups.get(org.id, gid).updated_at for gid in (first.id, second.id)}
    clock.advance(seconds=5)
    members.remove(ctx, operator, leaves.id)
    with ctx.uow() as uow:
        rows = uow.conn.execute(t.group_members.select()).all()
        assert {(r.group_id, r.member_id) for r in rows} == {(first.id, stays.id), (second.id, stays.id)}
        assert all(uow.groups.get(org.id, gid).updated_at > at for gid, at in before.items())

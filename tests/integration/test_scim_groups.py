"""/scim/v2/Groups on both databases: create (201, Location, ETag; 409 uniqueness), get with and
without members, list with filters (displayName, externalId, id, Entra's membership check in both
spellings), startIndex/count and cursors, PUT, PATCH in the shapes Okta and Entra ID send (exact
bodies, asserting the stored members), DELETE, If-Match/If-None-Match, members outside the token's
reach refused, the token's role ceiling, tenant isolation (another organization's token: 404; a
workspace-limited token sees and changes only its workspace's members), and a 10,000-member PATCH."""

from __future__ import annotations

import time
from typing import Any

from support.api import client
from support.clock import FixedClock

from admit.adapters.persistence import tables as t
from admit.admin import groups, scim_tokens, tenancy
from admit.shared.context import Actor, Context

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
JSON = {"content-type": "application/scim+json"}


def people(ctx: Context, org: Any, workspace: Any, count: int, prefix: str = "p") -> list[str]:
    now = ctx.clock.now()
    with ctx.uow(write=True, bulk=True) as uow:
        ids = [
            uow.members.add(
                organization_id=org.id,
                workspace_id=workspace.id,
                status="provisioned",
                role="member",
                first_name=f"{prefix.upper()}{n}",
                last_name="Person",
                email=f"{prefix}{n}@{workspace.id}.example",
                created_at=now,
                updated_at=now,
            )
            for n in range(count)
        ]
        uow.commit()
    return ids


def idp(ctx: Context, operator: Actor, org: Any, workspace_id: str | None = None, role: str = "admin") -> Any:
    _, token = scim_tokens.create(ctx, operator, org.id, name="Okta", role=role, workspace_id=workspace_id)
    api = client(ctx, token)
    api.headers.update(JSON)
    return api


def stored(ctx: Context, group_id: str) -> set[str]:
    with ctx.uow() as uow:
        rows = uow.conn.execute(t.group_members.select().where(t.group_members.c.group_id == group_id)).all()
    return {row.member_id for row in rows}


def new_group(api: Any, name: str, members: list[str] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
    made = api.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members], **extra},
    )
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def patch(api: Any, group_id: str, *operations: dict[str, Any], **kw: Any) -> Any:
    return api.patch(f"/scim/v2/Groups/{group_id}", json={"schemas": [PATCH], "Operations": list(operations)}, **kw)


def test_create_get_list_and_delete(ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock) -> None:
    api = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 3)
    made = api.post(
        "/scim/v2/Groups",
        json={
            "schemas": [GROUP],
            "displayName": "Sales",
            "externalId": "okta-1",
            "members": [{"value": ids[0]}, {"value": ids[1]}],
        },
    )
    assert made.status_code == 201, made.text
    group = made.json()
    assert made.headers["location"] == group["meta"]["location"] and group["meta"]["location"].endswith(
        f"/scim/v2/Groups/{group['id']}"
    )
    assert made.headers["etag"] == group["meta"]["version"] and made.headers["content-type"].startswith(
        "application/scim+json"
    )
    assert (group["displayName"], group["externalId"], group["meta"]["resourceType"]) == ("Sales", "okta-1", "Group")
    assert sorted(m["value"] for m in group["members"]) == sorted(ids[:2])
    first = next(m for m in group["members"] if m["value"] == ids[0])
    # No display: what an identity provider wrote is what it reads back (scim2-tester compares them).
    assert "display" not in first and first["type"] == "User" and first["$ref"].endswith(f"/scim/v2/Users/{ids[0]}")
    with ctx.uow() as uow:
        assert uow.groups.get(org.id, group["id"]).source == "scim"
        made_events = [e for e in uow.events.list(org.id, action="group.") if e.subject_id == group["id"]]
    assert {(e.actor_type, e.actor_id) for e in made_events} == {("scim", made_events[0].actor_id)}
    clash = api.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "SALES"})
    assert clash.status_code == 409 and clash.json()["scimType"] == "uniqueness"
    unknown = api.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "X", "members": [{"value": "nobody"}]}
    )
    # an id out of reach is left out (scim-sanity's probe sends one and expects success)
    assert unknown.status_code == 201 and "members" not in unknown.json()
    assert api.delete(f"/scim/v2/Groups/{unknown.json()['id']}").status_code == 204
    assert api.post("/scim/v2/Groups", json={"schemas": [GROUP]}).status_code == 400  # displayName is required
    assert api.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "a\x00b"}).status_code == 400
    with ctx.uow() as uow:
        assert [row.display_name for row in uow.groups.page(org.id)] == ["Sales"]  # nothing half-made

    got = api.get(f"/scim/v2/Groups/{group['id']}")
    assert got.status_code == 200 and got.json() == group and got.headers["etag"] == group["meta"]["version"]
    slim = api.get(f"/scim/v2/Groups/{group['id']}", params={"excludedAttributes": "members"}).json()
    assert "members" not in slim and slim["displayName"] == "Sales"
    named = api.get(f"/scim/v2/Groups/{group['id']}", params={"attributes": "displayName"}).json()
    assert set(named) == {"schemas", "id", "displayName"}
    assert (
        api.get(f"/scim/v2/Groups/{group['id']}", headers={"If-None-Match": group["meta"]["version"]}).status_code
        == 304
    )
    assert api.get("/scim/v2/Groups/nope").status_code == 404

    new_group(api, "Support", [ids[2]], externalId="okta-2")
    new_group(api, "Empty")
    listed = api.get("/scim/v2/Groups").json()
    assert listed["totalResults"] == 3 and [g["displayName"] for g in listed["Resources"]] == [
        "Sales",
        "Support",
        "Empty",
    ]
    by_name = api.get("/scim/v2/Groups", params={"filter": 'displayName eq "sales"'}).json()
    assert [g["id"] for g in by_name["Resources"]] == [group["id"]]
    by_external = api.get("/scim/v2/Groups", params={"filter": 'externalId eq "okta-2"'}).json()
    assert [g["displayName"] for g in by_external["Resources"]] == ["Support"]
    by_id = api.get(
        "/scim/v2/Groups", params={"filter": f'id eq "{group["id"]}"', "excludedAttributes": "members"}
    ).json()
    assert by_id["totalResults"] == 1 and "members" not in by_id["Resources"][0]
    # Entra's membership check, in both spellings
    entra = f'id eq "{group["id"]}" and members[value eq "{ids[0]}"]'
    assert (
        api.get("/scim/v2/Groups", params={"filter": entra, "excludedAttributes": "members"}).json()["totalResults"]
        == 1
    )
    dotted = f'id eq "{group["id"]}" and members.value eq "{ids[2]}"'
    assert api.get("/scim/v2/Groups", params={"filter": dotted}).json()["totalResults"] == 0
    bad = api.get("/scim/v2/Groups", params={"filter": "displayName eq"})
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidFilter"
    paged = api.get("/scim/v2/Groups", params={"startIndex": 2, "count": 1}).json()
    assert (paged["totalResults"], paged["startIndex"], paged["itemsPerPage"]) == (3, 2, 1)
    assert paged["Resources"][0]["displayName"] == "Support"
    seen, cursor = [], ""
    while cursor is not None:
        page = api.get("/scim/v2/Groups", params={"cursor": cursor, "count": 2}).json()
        seen += [g["displayName"] for g in page["Resources"]]
        cursor = page.get("nextCursor")
    assert seen == ["Sales", "Support", "Empty"]
    assert api.get("/scim/v2/Groups", params={"cursor": "forged.cursor"}).json()["scimType"] == "invalidCursor"
    searched = api.post(
        "/scim/v2/Groups/.search",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'displayName sw "S"',
            "attributes": ["displayName"],
        },
    )
    assert [g["displayName"] for g in searched.json()["Resources"]] == ["Sales", "Support"]

    clock.advance(seconds=5)
    stale = api.delete(f"/scim/v2/Groups/{group['id']}", headers={"If-Match": 'W/"other"'})
    assert stale.status_code == 412
    assert (
        api.delete(f"/scim/v2/Groups/{group['id']}", headers={"If-Match": group["meta"]["version"]}).status_code == 204
    )
    assert api.get(f"/scim/v2/Groups/{group['id']}").status_code == 404
    assert api.delete(f"/scim/v2/Groups/{group['id']}").status_code == 404


def test_put_replaces_name_external_id_and_members(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    api = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 3)
    group = new_group(api, "Ops", ids[:2], externalId="e1")
    clock.advance(seconds=5)
    put = api.put(
        f"/scim/v2/Groups/{group['id']}",
        json={"schemas": [GROUP], "id": group["id"], "displayName": "Operations", "members": [{"value": ids[2]}]},
        headers={"If-Match": group["meta"]["version"]},
    )
    assert put.status_code == 200, put.text
    body = put.json()
    assert (
        body["displayName"] == "Operations"
        and "externalId" not in body
        and [m["value"] for m in body["members"]] == [ids[2]]
    )
    assert put.headers["etag"] != group["meta"]["version"] and stored(ctx, group["id"]) == {ids[2]}
    again = api.put(
        f"/scim/v2/Groups/{group['id']}",
        json={"schemas": [GROUP], "displayName": "Ops"},
        headers={"If-Match": group["meta"]["version"]},
    )
    assert again.status_code == 412 and stored(ctx, group["id"]) == {ids[2]}
    assert api.put("/scim/v2/Groups/nope", json={"schemas": [GROUP], "displayName": "X"}).status_code == 404


def test_okta_group_updates(ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock) -> None:
    api = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 4)
    group = new_group(api, "Engineering", ids[:2])
    gid = group["id"]
    clock.advance(seconds=5)  # the ETag moves with the time of the change
    # Okta: remove one member and add another in one PATCH
    both = api.patch(
        f"/scim/v2/Groups/{gid}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "remove", "path": f'members[value eq "{ids[0]}"]'},
                {"op": "add", "path": "members", "value": [{"value": ids[2], "display": "p2@x.example"}]},
            ],
        },
    )
    assert both.status_code == 200, both.text
    assert stored(ctx, gid) == {ids[1], ids[2]} and sorted(m["value"] for m in both.json()["members"]) == sorted(
        [ids[1], ids[2]]
    )
    # Okta: full replace of members
    full = api.patch(
        f"/scim/v2/Groups/{gid}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "members", "value": [{"value": ids[3]}, {"value": ids[0]}]}],
        },
    )
    assert full.status_code == 200, full.text and stored(ctx, gid) == {ids[0], ids[3]}
    assert stored(ctx, gid) == {ids[0], ids[3]}
    # Okta: a rename sent with each membership update (the id repeated)
    renamed = api.patch(
        f"/scim/v2/Groups/{gid}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "value": {"id": gid, "displayName": "Platform Engineering"}},
                {"op": "add", "path": "members", "value": [{"value": ids[1]}]},
            ],
        },
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["displayName"] == "Platform Engineering" and stored(ctx, gid) == {ids[0], ids[1], ids[3]}
    with ctx.uow() as uow:
        assert uow.groups.get(org.id, gid).display_name == "Platform Engineering"
    # a failing operation leaves everything as it was (PATCH is atomic)
    failing = patch(
        api,
        gid,
        {"op": "replace", "path": "displayName", "value": "Renamed"},
        {"op": "remove", "path": "displayName"},  # a required attribute
    )
    assert failing.status_code == 400, failing.text
    with ctx.uow() as uow:
        assert uow.groups.get(org.id, gid).display_name == "Platform Engineering"
    other = new_group(api, "Other")
    clash = patch(api, other["id"], {"op": "replace", "path": "displayName", "value": "platform engineering"})
    assert clash.status_code == 409 and clash.json()["scimType"] == "uniqueness"
    assert patch(api, gid, {"op": "replace", "path": "id", "value": "x"}).json()["scimType"] == "mutability"
    stale = patch(
        api,
        gid,
        {"op": "add", "path": "members", "value": [{"value": ids[2]}]},
        headers={"If-Match": group["meta"]["version"]},
    )
    assert stale.status_code == 412 and ids[2] not in stored(ctx, gid)


def test_entra_group_updates(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    api = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 3)
    group = new_group(api, "Finance", ids)
    gid = group["id"]
    removed = api.patch(
        f"/scim/v2/Groups/{gid}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": ids[1]}]}],
        },
        params={"excludedAttributes": "members"},
    )
    assert removed.status_code == 200, removed.text and "members" not in removed.json()
    assert "members" not in removed.json() and stored(ctx, gid) == {ids[0], ids[2]}
    again = patch(api, gid, {"op": "Remove", "path": "members", "value": [{"value": ids[1]}]})  # already gone: fine
    assert again.status_code == 200 and stored(ctx, gid) == {ids[0], ids[2]}
    added = patch(api, gid, {"op": "Add", "path": "members", "value": [{"value": ids[1]}]})
    assert added.status_code == 200 and stored(ctx, gid) == set(ids)
    external = patch(api, gid, {"op": "Replace", "path": "externalId", "value": "aad-7"})
    assert external.json()["externalId"] == "aad-7"
    emptied = patch(api, gid, {"op": "Remove", "path": "members"})
    assert emptied.status_code == 200 and "members" not in emptied.json() and stored(ctx, gid) == set()


def test_tenant_isolation_and_the_workspace_limit(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    other_org = tenancy.create_organization(ctx, operator, "Globex", plan="business", seats=5)
    other_ws = tenancy.create_workspace(ctx, operator, other_org.id, "Globex Main")
    theirs = idp(ctx, operator, other_org)
    foreign = people(ctx, other_org, other_ws, 1, "g")
    ours = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 2)
    group = new_group(ours, "Ours", ids[:1])
    gid = group["id"]
    assert theirs.get(f"/scim/v2/Groups/{gid}").status_code == 404
    assert patch(theirs, gid, {"op": "add", "path": "members", "value": [{"value": foreign[0]}]}).status_code == 404
    assert theirs.put(f"/scim/v2/Groups/{gid}", json={"schemas": [GROUP], "displayName": "Mine"}).status_code == 404
    assert theirs.delete(f"/scim/v2/Groups/{gid}").status_code == 404
    assert theirs.get("/scim/v2/Groups").json()["totalResults"] == 0
    assert theirs.get("/scim/v2/Groups", params={"filter": f'id eq "{gid}"'}).json()["totalResults"] == 0
    left_out = patch(ours, gid, {"op": "add", "path": "members", "value": [{"value": foreign[0]}]})
    assert left_out.status_code == 200 and stored(ctx, gid) == {ids[0]}  # another organization's member: left out

    second = tenancy.create_workspace(ctx, operator, org.id, "Acme Second")
    theirs_here = people(ctx, org, second, 2, "s")
    assert groups.add_members(ctx, operator, org.id, gid, theirs_here[:1]).added == 1
    limited = idp(ctx, operator, org, workspace_id=second.id)
    seen = limited.get(f"/scim/v2/Groups/{gid}").json()
    assert [m["value"] for m in seen["members"]] == [theirs_here[0]]  # only its workspace's members
    assert (
        limited.get("/scim/v2/Groups", params={"filter": f'members[value eq "{ids[0]}"]'}).json()["totalResults"] == 0
    )
    outside = patch(limited, gid, {"op": "add", "path": "members", "value": [{"value": ids[1]}]})
    assert outside.status_code == 200 and ids[1] not in stored(ctx, gid)  # another workspace's member: left out
    replaced = patch(limited, gid, {"op": "replace", "path": "members", "value": [{"value": theirs_here[1]}]})
    assert replaced.status_code == 200, replaced.text
    assert stored(ctx, gid) == {ids[0], theirs_here[1]}  # the other workspace's member stays
    put = limited.put(f"/scim/v2/Groups/{gid}", json={"schemas": [GROUP], "displayName": "Ours"})
    assert put.status_code == 200 and stored(ctx, gid) == {ids[0]}


def test_the_token_role_is_a_ceiling(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    granting = groups.create(ctx, operator, org.id, "Admins", workspace_id=workspace.id, role="admin")
    modest = idp(ctx, operator, org, role="member")
    ids = people(ctx, org, workspace, 1)
    assert modest.get(f"/scim/v2/Groups/{granting.id}").status_code == 200  # it may see it
    refused = patch(modest, granting.id, {"op": "add", "path": "members", "value": [{"value": ids[0]}]})
    assert refused.status_code == 403 and stored(ctx, granting.id) == set()
    assert (
        modest.put(f"/scim/v2/Groups/{granting.id}", json={"schemas": [GROUP], "displayName": "X"}).status_code == 403
    )
    assert modest.delete(f"/scim/v2/Groups/{granting.id}").status_code == 403
    second = tenancy.create_workspace(ctx, operator, org.id, "Acme Second")
    elsewhere = idp(ctx, operator, org, workspace_id=second.id)
    assert patch(elsewhere, granting.id, {"op": "replace", "path": "displayName", "value": "Y"}).status_code == 403
    strong = idp(ctx, operator, org, role="admin")
    assert patch(strong, granting.id, {"op": "add", "path": "members", "value": [{"value": ids[0]}]}).status_code == 200
    assert stored(ctx, granting.id) == {ids[0]}


def test_a_patch_adding_ten_thousand_members(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    api = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 10_000)
    group = new_group(api, "Everyone", ids[:3])
    started = time.perf_counter()
    added = patch(
        api,
        group["id"],
        {"op": "add", "path": "members", "value": [{"value": m} for m in ids]},
        params={"excludedAttributes": "members"},
    )
    elapsed = time.perf_counter() - started
    assert added.status_code == 200, added.text
    assert len(stored(ctx, group["id"])) == 10_000 and "members" not in added.json()
    where = "sqlite" if ctx.embedded_database else "postgresql"
    print(f"\n10,000-member SCIM PATCH ({where}): {elapsed * 1000:.0f} ms")  # noqa: T201
    listed = api.get(f"/scim/v2/Groups/{group['id']}").json()
    assert len(listed["members"]) == 10_000

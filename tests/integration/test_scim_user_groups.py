"""The SCIM User's read-only ``groups`` attribute (RFC 7643 §4.1.2), on both databases: each group
with its id, ``$ref``, display name and type ``direct`` on GET and in lists (one lookup for a
page of Users, never one per User), ``attributes``/``excludedAttributes`` honoured, the ETag
changing with a membership, ``groups`` sent in a PUT or PATCH ignored (memberships change through
the Group), and /Schemas advertising it as readOnly."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import client

from admit.adapters.persistence import group_repositories
from admit.admin import scim_tokens, tenancy
from admit.shared.context import Actor, Context

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def idp(ctx: Context, operator: Actor, org: Any) -> Any:
    _, token = scim_tokens.create(ctx, operator, org.id, name="Entra ID", role="admin")
    api = client(ctx, token)
    api.headers.update({"content-type": "application/scim+json"})
    return api


def user(api: Any, name: str) -> dict[str, Any]:
    made = api.post("/scim/v2/Users", json={"schemas": [USER], "userName": f"{name}@example.com"})
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def group(api: Any, name: str, *member_ids: str) -> dict[str, Any]:
    made = api.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in member_ids]}
    )
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def test_a_user_lists_its_groups_read_only(
    ctx: Context, operator: Actor, org: Any, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = idp(ctx, operator, org)
    ann, bo, cy = (user(api, n) for n in ("ann", "bo", "cy"))
    assert "groups" not in ann  # in no group: no attribute (none is returned empty)
    before = api.get(f"/scim/v2/Users/{ann['id']}").headers["etag"]
    sales = group(api, "Sales", ann["id"], bo["id"])
    admins = group(api, "<b>Admins</b>", ann["id"])
    got = api.get(f"/scim/v2/Users/{ann['id']}")
    assert got.headers["etag"] != before  # a membership changes the User's version
    assert got.json()["groups"] == [
        {
            "value": admins["id"],
            "$ref": f"https://admit.example.test/scim/v2/Groups/{admins['id']}",
            "display": "<b>Admins</b>",
            "type": "direct",
        },
        {
            "value": sales["id"],
            "$ref": f"https://admit.example.test/scim/v2/Groups/{sales['id']}",
            "display": "Sales",
            "type": "direct",
        },
    ]
    assert api.get(f"/scim/v2/Groups/{sales['id']}").json()["meta"]["location"] == got.json()["groups"][1]["$ref"]
    # A page of Users: their groups are read once for the whole page.
    calls: list[int] = []
    original = group_repositories.Groups.of_members

    def counted(self: Any, organization_id: str, member_ids: Any) -> Any:
        calls.append(len(member_ids))
        return original(self, organization_id, member_ids)

    monkeypatch.setattr(group_repositories.Groups, "of_members", counted)
    listed = api.get("/scim/v2/Users", params={"count": 10}).json()["Resources"]
    assert calls == [3]
    by_id = {u["id"]: u for u in listed}
    assert [g["display"] for g in by_id[bo["id"]]["groups"]] == ["Sales"] and "groups" not in by_id[cy["id"]]
    only = api.get(f"/scim/v2/Users/{ann['id']}", params={"attributes": "groups.display"}).json()
    assert only["groups"] == [{"display": "<b>Admins</b>"}, {"display": "Sales"}] and "userName" not in only
    assert "groups" not in api.get(f"/scim/v2/Users/{ann['id']}", params={"excludedAttributes": "groups"}).json()
    # Read-only: a PUT or PATCH that names groups changes no membership.
    body = {"schemas": [USER], "userName": "cy@example.com", "groups": [{"value": sales["id"]}]}
    assert "groups" not in api.put(f"/scim/v2/Users/{cy['id']}", json=body).json()
    replaced = api.patch(
        f"/scim/v2/Users/{bo['id']}",
        json={"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Bo"}]},
    )
    assert replaced.status_code == 200 and [g["value"] for g in replaced.json()["groups"]] == [sales["id"]]
    # The If-Match of a User follows its groups.
    stale = api.patch(
        f"/scim/v2/Users/{ann['id']}",
        json={"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Ann"}]},
        headers={"if-match": before},
    )
    assert stale.status_code == 412
    removed = api.patch(
        f"/scim/v2/Groups/{admins['id']}",
        json={"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{ann["id"]}"]'}]},
    )
    assert removed.status_code in (200, 204), removed.text
    assert [g["display"] for g in api.get(f"/scim/v2/Users/{ann['id']}").json()["groups"]] == ["Sales"]


def test_schemas_advertise_groups_read_only(ctx: Context, operator: Actor, org: Any) -> None:
    schema = idp(ctx, operator, org).get(f"/scim/v2/Schemas/{USER}").json()
    groups = next(a for a in schema["attributes"] if a["name"] == "groups")
    assert groups["mutability"] == "readOnly" and groups["multiValued"] is True
    subs = {s["name"]: s for s in groups["subAttributes"]}
    assert set(subs) == {"value", "$ref", "display", "type"}
    assert all(s["mutability"] == "readOnly" for s in subs.values())


def test_users_are_filtered_by_their_groups(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    api = idp(ctx, operator, org)
    ann, bo, _cy = (user(api, n) for n in ("ann", "bo", "cy"))
    sales = group(api, "Sales", ann["id"], bo["id"])
    admins = group(api, "Admins", ann["id"])
    group(api, "Empty")

    def named(flt: str) -> list[str]:
        answer = api.get("/scim/v2/Users", params={"filter": flt})
        assert answer.status_code == 200, (flt, answer.text)
        return sorted(r["userName"].split("@")[0] for r in answer.json()["Resources"])

    assert named(f'groups.value eq "{sales["id"]}"') == ["ann", "bo"]
    assert named(f'groups eq "{admins["id"]}"') == ["ann"]  # a complex attribute compares by its value
    assert named(f'groups[value eq "{admins["id"]}"]') == ["ann"]
    assert named(f'groups.value ne "{admins["id"]}"') == ["bo", "cy"]  # in no such group
    assert named("groups pr") == ["ann", "bo"]
    assert named("not (groups pr)") == ["cy"]
    assert named('groups.display eq "sales"') == ["ann", "bo"]  # display is not case-exact
    assert named('groups.display sw "Adm" and userName sw "ann"') == ["ann"]
    assert named(f'groups.value eq "{sales["id"].upper()}"') == []  # ids are case-exact
    assert named('groups.value eq "no-such-group"') == []
    posted = api.post("/scim/v2/Users/.search", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": f'groups.value eq "{sales["id"]}" and not (groups.value eq "{admins["id"]}")',
    })  # fmt: skip
    assert [r["id"] for r in posted.json()["Resources"]] == [bo["id"]]
    refused = api.get("/scim/v2/Users", params={"filter": 'groups.type eq "direct"'})
    assert refused.status_code == 400 and refused.json()["scimType"] == "invalidFilter"
    assert "groups.type" in refused.json()["detail"]


def test_a_group_filter_never_reaches_another_organization(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    api = idp(ctx, operator, org)
    ann = user(api, "ann")
    sales = group(api, "Sales", ann["id"])
    other = tenancy.create_organization(ctx, operator, "Other", plan="business", seats=5)
    tenancy.create_workspace(ctx, operator, other.id, "Other Main")
    theirs = idp(ctx, operator, other)
    user(theirs, "zed")
    answer = theirs.get("/scim/v2/Users", params={"filter": f'groups.value eq "{sales["id"]}"'})
    assert answer.status_code == 200 and answer.json()["totalResults"] == 0

"""Input an outside tester sent to /scim/v2 (and the REST API) that once answered 500 or wrote what
it should not: unpaired UTF-16 surrogates (stored, then every read of the user failed), JSON
nested past the recursion limit, NaN, a .search body with a float count, a group PUT whose
members were mistyped (the group was emptied), a workspace-limited token deleting a group of
other workspaces' members, a PATCH turning userName 5 into "5". Each is a clear 4xx now, with
nothing written."""

from __future__ import annotations

import json
from typing import Any

from support.api import api_token, client

from admit.admin import scim_tokens, tenancy
from admit.shared.context import Actor, Context

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SCIM_JSON = {"content-type": "application/scim+json"}


LONE = "LONE"  # placeholders :func:`raw` writes as JSON text json.dumps would not produce
RAW = {
    '"LONE"': '"\\ud800x"',  # an unpaired surrogate escape
    '"PAIR"': '"\\ud83d\\ude00"',  # a paired one: an emoji
    '"DEEP"': '{"a":' * 100_000 + "1" + "}" * 100_000,
    '"SEVENTY"': "[" * 70 + "1" + "]" * 70,
    '"NAN"': "NaN",
}


def raw(body: dict[str, Any]) -> str:
    text = json.dumps(body)
    for placeholder, written in RAW.items():
        text = text.replace(placeholder, written)
    return text


def scim_for(ctx: Context, operator: Actor, org_id: str, workspace_id: str | None) -> Any:
    _, token = scim_tokens.create(ctx, operator, org_id, name="IdP", role="admin", workspace_id=workspace_id)
    return client(ctx, token)


def refused(response: Any, status: int = 400, words: str = "") -> None:
    assert response.status_code == status, response.text
    error = response.json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and error["status"] == str(status)
    assert words in error["detail"], error["detail"]


def users(scim: Any) -> int:
    listed = scim.get("/scim/v2/Users")
    assert listed.status_code == 200, listed.text
    return int(listed.json()["totalResults"])


def test_unpaired_surrogates_are_refused_and_never_stored(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    scim = scim_for(ctx, operator, org.id, workspace.id)
    made = scim.post("/scim/v2/Users", json={"schemas": [USER], "userName": "ada@example.com"})
    assert made.status_code == 201
    user = made.json()["id"]
    lone = raw({"schemas": [USER], "userName": "sur@example.com", "displayName": LONE})
    refused(scim.post("/scim/v2/Users", content=lone, headers=SCIM_JSON), 400, "surrogate")
    patch = raw({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "nickName", "value": LONE}]})
    refused(scim.patch(f"/scim/v2/Users/{user}", content=patch, headers=SCIM_JSON), 400, "surrogate")
    put = raw({"schemas": [USER], "userName": "ada@example.com", "name": {"middleName": LONE}})
    refused(scim.put(f"/scim/v2/Users/{user}", content=put, headers=SCIM_JSON), 400, "surrogate")
    data = {"schemas": [USER], "userName": "b@example.com", "displayName": LONE}
    bulk = raw({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "a", "data": data}]})
    refused(scim.post("/scim/v2/Bulk", content=bulk, headers=SCIM_JSON), 400, "surrogate")
    search = raw({"schemas": [SEARCH], "filter": 'userName eq "\\ud800"'})
    refused(scim.post("/scim/v2/Users/.search", content=search, headers=SCIM_JSON), 400, "surrogate")
    refused(scim.get("/scim/v2/Users", params={"filter": 'userName eq "\\ud800"'}), 400, "surrogate")
    assert users(scim) == 1 and scim.get(f"/scim/v2/Users/{user}").status_code == 200
    paired = raw({"schemas": [USER], "userName": "emoji@example.com", "displayName": "PAIR"})
    smiling = scim.post("/scim/v2/Users", content=paired, headers=SCIM_JSON)
    assert smiling.status_code == 201 and smiling.json()["displayName"] == "\U0001f600"
    assert scim.get(f"/scim/v2/Users/{smiling.json()['id']}").json()["displayName"] == "\U0001f600"


def test_deep_nesting_and_nan_are_not_json_it_takes(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    scim = scim_for(ctx, operator, org.id, workspace.id)
    deep = raw({"schemas": [USER], "userName": "deep@example.com", "name": "DEEP"})
    refused(scim.post("/scim/v2/Users", content=deep, headers=SCIM_JSON), 400, "not valid JSON")
    fair = raw({"schemas": [USER], "userName": "deep@example.com", "x": "SEVENTY"})
    refused(scim.post("/scim/v2/Users", content=fair, headers=SCIM_JSON), 400, "64 deep")
    nan = raw({"schemas": [USER], "userName": "nan@example.com", "externalId": "NAN"})
    refused(scim.post("/scim/v2/Users", content=nan, headers=SCIM_JSON), 400, "NaN is not a JSON value")
    assert users(scim) == 0
    api = client(ctx, api_token(ctx, org.id))
    nan_body = api.post(
        f"/api/v1/workspaces/{workspace.id}/members",
        content='{"email":"nan@example.com","first_name":NaN}',
        headers={"content-type": "application/json"},
    )
    assert nan_body.status_code == 422 and "NaN" in nan_body.text, nan_body.text


def test_a_search_body_with_a_float_or_a_list_for_count_is_refused(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    scim = scim_for(ctx, operator, org.id, workspace.id)
    for field, value in (("count", 1.5), ("startIndex", [1]), ("count", {"n": 1})):
        refused(scim.post("/scim/v2/Users/.search", json={"schemas": [SEARCH], field: value}), 400, field)


def test_a_mistyped_group_put_or_patch_keeps_the_members(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    scim = scim_for(ctx, operator, org.id, workspace.id)
    ada = scim.post("/scim/v2/Users", json={"schemas": [USER], "userName": "ada@example.com"}).json()["id"]
    group = scim.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Ops", "members": [{"value": ada}]}
    ).json()["id"]
    for members in ("x", [{"value": 5}], [5], ["x"]):
        put = {"schemas": [GROUP], "displayName": "Ops", "members": members}
        refused(scim.put(f"/scim/v2/Groups/{group}", json=put), 400, "member")
        add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": members}]}
        refused(scim.patch(f"/scim/v2/Groups/{group}", json=add), 400, "member")
    assert [m["value"] for m in scim.get(f"/scim/v2/Groups/{group}").json()["members"]] == [ada]
    renamed = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "userName", "value": 5}]}
    refused(scim.patch(f"/scim/v2/Users/{ada}", json=renamed), 400, "userName")
    assert scim.get(f"/scim/v2/Users/{ada}").json()["userName"] == "ada@example.com"


def test_a_workspace_token_cannot_delete_a_group_of_other_workspaces_members(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    first = scim_for(ctx, operator, org.id, workspace.id)
    other = tenancy.create_workspace(ctx, operator, org.id, "Elsewhere")
    second = scim_for(ctx, operator, org.id, other.id)
    ada = first.post("/scim/v2/Users", json={"schemas": [USER], "userName": "ada@example.com"}).json()["id"]
    shared = first.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Shared", "members": [{"value": ada}]}
    ).json()["id"]
    refused(second.delete(f"/scim/v2/Groups/{shared}"), 403, "other workspaces")
    assert [m["value"] for m in first.get(f"/scim/v2/Groups/{shared}").json()["members"]] == [ada]
    empty = second.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Theirs"}).json()["id"]
    assert second.delete(f"/scim/v2/Groups/{empty}").status_code == 204  # nothing of another workspace in it
    whole = scim_for(ctx, operator, org.id, None)
    assert whole.delete(f"/scim/v2/Groups/{shared}").status_code == 204
    assert first.get(f"/scim/v2/Groups/{shared}").status_code == 404


def test_huge_start_index_and_count_are_past_the_end_and_all(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    scim = scim_for(ctx, operator, org.id, workspace.id)
    assert scim.post("/scim/v2/Users", json={"schemas": [USER], "userName": "ada@example.com"}).status_code == 201
    for start in ("99999999999999999999999", 10**30):
        page = scim.post("/scim/v2/Users/.search", json={"schemas": [SEARCH], "startIndex": start})
        assert page.status_code == 200 and page.json()["Resources"] == [] and page.json()["totalResults"] == 1
        listed = scim.get("/scim/v2/Users", params={"startIndex": str(start), "count": str(10**25)})
        assert listed.status_code == 200 and listed.json()["totalResults"] == 1, listed.text
    refused(scim.get("/scim/v2/Users", params={"startIndex": "1" * 80}), 400, "at most 64 digits")
    refused(scim.get("/scim/v2/Users", params={"count": "ten"}), 400, "whole number")


def test_a_filter_on_an_email_type_other_than_work_says_what_can_be_filtered(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    scim = scim_for(ctx, operator, org.id, workspace.id)
    home = scim.get("/scim/v2/Users", params={"filter": 'emails[type eq "home"].value eq "bob@example.com"'})
    refused(home, 400, 'filtering by emails[type eq "home"].value is not supported (filterable: emails.value')
    assert 'emails[type eq "work"].value' in home.json()["detail"]
    work = scim.get("/scim/v2/Users", params={"filter": 'emails[type eq "work"].value eq "bob@example.com"'})
    assert work.status_code == 200 and work.json()["totalResults"] == 0

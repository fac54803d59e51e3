"""/scim/v2/Bulk on both databases (RFC 7644 §3.7) with Group operations: bulkId references
resolved in later operations (a path and members' values; an operation naming a later POST waits
for it), cycles 409, each operation in its own transaction (an error in one leaves the others
done), failOnErrors, version as If-Match, maxOperations (413), a malformed request, another
organization's group not found, and a User DELETE held by the deprovisioning brake (200 with the
user, as the single DELETE)."""

from __future__ import annotations

from typing import Any

from support.api import client
from test_scim_groups import GROUP, PATCH, idp, new_group, people, stored

from admit.admin import tenancy
from admit.entrypoints.web.scim import MAX_OPERATIONS
from admit.shared.context import Actor, Context

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"


def bulk(api: Any, *operations: dict[str, Any], **extra: Any) -> Any:
    return api.post("/scim/v2/Bulk", json={"schemas": [BULK], "Operations": list(operations), **extra})


def names(ctx: Context, org: Any) -> list[str]:
    with ctx.uow() as uow:
        return sorted(row.display_name for row in uow.groups.page(org.id))


def test_bulk_ids_order_and_errors(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    api = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 2)
    done = bulk(
        api,
        # this PATCH names a group made by a later operation: it waits for it
        {
            "method": "PATCH",
            "path": "/Groups/bulkId:team",
            "data": {
                "schemas": [PATCH],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[1]}]}],
            },
        },
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "team",
            "data": {"schemas": [GROUP], "displayName": "Team", "members": [{"value": ids[0]}]},
        },
        {"method": "POST", "path": "/Groups", "bulkId": "clash", "data": {"schemas": [GROUP], "displayName": "TEAM"}},
        {"method": "POST", "path": "/Groups", "bulkId": "lead", "data": {"schemas": [GROUP], "displayName": "Leads"}},
        {"method": "DELETE", "path": "/Groups/bulkId:lead"},
        {"method": "PUT", "path": "/Groups/bulkId:clash", "data": {"schemas": [GROUP], "displayName": "Never"}},
        {"method": "FETCH", "path": "/Groups"},
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["schemas"] == [BULK_RESPONSE]
    answers = body["Operations"]
    assert [a["status"] for a in answers] == ["200", "201", "409", "201", "204", "409", "400"]
    patched, made, clash, lead, deleted, dependent, unknown = answers
    team_id = made["location"].rsplit("/", 1)[1]
    assert (made["method"], made["bulkId"]) == ("POST", "team") and made["version"].startswith('W/"')
    assert patched["location"] == made["location"] and patched["method"] == "PATCH"
    assert clash["response"]["scimType"] == "uniqueness" and clash["bulkId"] == "clash"
    assert deleted["location"] == lead["location"]
    assert "clash" in dependent["response"]["detail"]
    assert unknown["response"]["status"] == "400"
    assert stored(ctx, team_id) == set(ids)
    assert names(ctx, org) == ["Team"]


def test_cycles_fail_on_errors_versions_and_limits(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    api = idp(ctx, operator, org)
    cycle = bulk(
        api,
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "a",
            "data": {"schemas": [GROUP], "displayName": "A", "externalId": "bulkId:b"},
        },
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "b",
            "data": {"schemas": [GROUP], "displayName": "B", "externalId": "bulkId:a"},
        },
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "self",
            "data": {"schemas": [GROUP], "displayName": "S", "members": [{"value": "bulkId:self"}]},
        },
        {"method": "POST", "path": "/Groups", "bulkId": "c", "data": {"schemas": [GROUP], "displayName": "C"}},
    ).json()["Operations"]
    assert [a["status"] for a in cycle] == ["409", "409", "409", "201"]
    assert names(ctx, org) == ["C"]

    stopped = bulk(
        api,
        {"method": "POST", "path": "/Groups", "bulkId": "x", "data": {"schemas": [GROUP]}},
        {"method": "POST", "path": "/Groups", "bulkId": "y", "data": {"schemas": [GROUP], "displayName": "C"}},
        {"method": "POST", "path": "/Groups", "bulkId": "z", "data": {"schemas": [GROUP], "displayName": "Z"}},
        failOnErrors=2,
    ).json()["Operations"]
    assert [a["status"] for a in stopped] == ["400", "409"] and names(ctx, org) == ["C"]

    group = new_group(api, "Versioned")
    stale = bulk(api, {"method": "DELETE", "path": f"/Groups/{group['id']}", "version": 'W/"old"'}).json()["Operations"]
    assert stale[0]["status"] == "412" and "Versioned" in names(ctx, org)
    current = bulk(api, {"method": "DELETE", "path": f"/Groups/{group['id']}", "version": group["meta"]["version"]})
    assert current.json()["Operations"][0]["status"] == "204" and "Versioned" not in names(ctx, org)

    too_many = [{"method": "DELETE", "path": f"/Groups/g{n}"} for n in range(MAX_OPERATIONS + 1)]
    refused = bulk(api, *too_many)
    assert refused.status_code == 413 and str(MAX_OPERATIONS) in refused.json()["detail"]
    assert api.post("/scim/v2/Bulk", json={"Operations": []}).json()["scimType"] == "invalidSyntax"
    assert bulk(api).status_code == 400
    assert bulk(api, {"method": "DELETE", "path": "/Groups/x"}, failOnErrors=0).json()["scimType"] == "invalidValue"
    shapes = bulk(
        api,
        "not an object",  # type: ignore[arg-type]
        {"method": "POST", "path": "/Groups", "data": {"schemas": [GROUP], "displayName": "No bulkId"}},
        {"method": "PATCH", "path": "/Elsewhere/1", "data": {}},
        {"method": "POST", "path": "/Groups/1", "bulkId": "p", "data": {}},
        {"method": "PUT", "path": "/Groups/1"},
    ).json()["Operations"]
    assert [a["status"] for a in shapes] == ["400"] * 5 and names(ctx, org) == ["C"]


def test_another_organizations_groups_are_not_found_in_bulk(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    ours = idp(ctx, operator, org)
    group = new_group(ours, "Ours")
    other = tenancy.create_organization(ctx, operator, "Globex", plan="business", seats=5)
    theirs = idp(ctx, operator, other)
    answers = bulk(
        theirs,
        {"method": "DELETE", "path": f"/Groups/{group['id']}"},
        {"method": "PUT", "path": f"/Groups/{group['id']}", "data": {"schemas": [GROUP], "displayName": "Mine"}},
    ).json()["Operations"]
    assert [a["status"] for a in answers] == ["404", "404"] and names(ctx, org) == ["Ours"]
    assert client(ctx, None).post("/scim/v2/Bulk", json={}).status_code == 401


def test_a_delete_the_brake_holds_answers_200_with_the_user(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    """Past 20 % of a workspace of 30 within the hour, a Bulk DELETE is held as the single one is."""
    api = idp(ctx, operator, org)
    ids = people(ctx, org, workspace, 30)
    deletes = [{"method": "DELETE", "path": f"/Users/{member_id}"} for member_id in ids[:8]]
    done = bulk(api, *deletes)
    assert done.status_code == 200, done.text
    answers = done.json()["Operations"]
    assert [a["status"] for a in answers] == ["204"] * 6 + ["200"] * 2
    for member_id, answer in zip(ids[6:8], answers[6:], strict=True):
        held = answer["response"]
        assert held["id"] == member_id and held["meta"]["version"] == answer["version"]
        assert answer["location"].endswith(f"/scim/v2/Users/{member_id}")
        assert api.get(f"/scim/v2/Users/{member_id}").status_code == 200  # still there: held
    assert api.get(f"/scim/v2/Users/{ids[0]}").status_code == 404
    single = api.delete(f"/scim/v2/Users/{ids[8]}")
    assert single.status_code == 200 and set(single.json()) == set(answers[6]["response"])

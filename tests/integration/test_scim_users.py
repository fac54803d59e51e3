"""/scim/v2/Users against the member service, on both databases: each request shape of Entra ID and
Okta the issue names (the exact bodies their documentation shows) with the member it leaves behind;
paging, filters (userName case-insensitively, Entra's "test connection"), uniqueness (serial and
parallel), ETags, the role ceiling and owners, tenant isolation, /Schemas, /ResourceTypes, /.search."""

from __future__ import annotations

import re
import threading
import uuid
from html import unescape
from typing import Any

import pytest
from support.api import client
from support.outbox import token_for as outbox_token_for
from support.pages import browser_signed_in

from admit.admin import members, scim_tokens, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.members import MemberStatus
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ADMIT = "urn:admit:params:scim:schemas:extension:admit:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def token_for(ctx: Context, operator: Actor, org_id: str, workspace_id: str | None, role: str = "admin") -> str:
    _, plaintext = scim_tokens.create(ctx, operator, org_id, name="Entra ID", role=role, workspace_id=workspace_id)
    return plaintext


@pytest.fixture
def scim(ctx: Context, operator: Actor, org: Any, workspace: Any) -> Any:
    return client(ctx, token_for(ctx, operator, org.id, workspace.id))


def member(ctx: Context, org_id: str, member_id: str) -> Any:
    with ctx.uow() as uow:
        found = uow.members.get(org_id, member_id)
    assert found is not None
    return found


def create(scim: Any, **extra: Any) -> dict[str, Any]:
    body = {"schemas": [USER], "userName": "ada@example.com", **extra}
    response = scim.post("/scim/v2/Users", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith(f"/scim/v2/Users/{response.json()['id']}")
    assert response.headers["etag"] == response.json()["meta"]["version"]
    created: dict[str, Any] = response.json()
    return created


# Entra ID's create (learn.microsoft.com, "Tutorial: Develop and plan provisioning for a SCIM endpoint").
ENTRA_CREATE = {
    "schemas": [USER, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@testuser.com",
    "active": True,
    "emails": [
        {"primary": True, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}
    ],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [],
}


def activate(ctx: Context, operator: Actor, member_id: str) -> None:
    """The person takes up their place (an account, status active), as after accepting an invitation."""
    members.set_initial_password(ctx, operator, member_id, "Correct-Horse-Battery-Staple-42")


def patch(scim: Any, user_id: str, *operations: dict[str, Any]) -> dict[str, Any]:
    response = scim.patch(f"/scim/v2/Users/{user_id}", json={"schemas": [PATCH], "Operations": list(operations)})
    assert response.status_code == 200, response.text
    patched: dict[str, Any] = response.json()
    return patched


def test_entra_create_is_a_silent_member_read_back_as_sent(scim: Any, ctx: Context, org: Any) -> None:
    response = scim.post("/scim/v2/Users", json=ENTRA_CREATE)
    assert response.status_code == 201, response.text
    created = response.json()
    row = member(ctx, org.id, created["id"])
    assert row.status == MemberStatus.PROVISIONED and row.role == "member" and row.account_id is None
    assert row.email == ENTRA_CREATE["emails"][0]["value"].lower()  # type: ignore[index]
    assert (row.first_name, row.last_name) == ("givenName", "familyName")
    assert created["userName"] == ENTRA_CREATE["userName"] and created["externalId"] == ENTRA_CREATE["externalId"]
    assert created["name"] == ENTRA_CREATE["name"] and created["active"] is True
    assert created["emails"] == ENTRA_CREATE["emails"]
    got = scim.get(f"/scim/v2/Users/{created['id']}")
    assert got.status_code == 200 and got.json() == created
    with ctx.uow() as uow:
        [event] = [e for e in uow.events.list(org.id, action="member.") if e.subject_id == created["id"]]
    assert event.actor_type == "scim"


def test_auto_invite_invites_at_once(ctx: Context, operator: Actor, org: Any, workspace: Any, scim: Any) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"auto_invite": True})
    created = create(scim, emails=[{"value": "ada@example.com", "type": "work", "primary": True}])
    assert member(ctx, org.id, created["id"]).status == MemberStatus.INVITED


def test_entra_default_patch_deactivates_with_a_string_false_and_reactivates(
    ctx: Context, operator: Actor, org: Any, scim: Any
) -> None:
    created = create(scim, emails=[{"value": "ada@example.com", "type": "work", "primary": True}])
    activate(ctx, operator, created["id"])
    body = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    response = scim.patch(f"/scim/v2/Users/{created['id']}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert member(ctx, org.id, created["id"]).status == MemberStatus.SUSPENDED
    again = scim.get(f"/scim/v2/Users/{created['id']}")  # a deactivated user is still there
    assert again.status_code == 200 and again.json()["active"] is False
    listed = scim.get("/scim/v2/Users", params={"filter": "active eq false"}).json()
    assert [r["id"] for r in listed["Resources"]] == [created["id"]]
    body = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]}
    assert scim.patch(f"/scim/v2/Users/{created['id']}", json=body).json()["active"] is True
    assert member(ctx, org.id, created["id"]).status == MemberStatus.ACTIVE


def test_entra_patch_of_the_work_email_and_family_name(ctx: Context, org: Any, scim: Any) -> None:
    created = scim.post("/scim/v2/Users", json=ENTRA_CREATE).json()
    patched = patch(
        scim,
        created["id"],
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    )
    row = member(ctx, org.id, created["id"])
    assert (row.email, row.last_name) == ("updatedemail@microsoft.com", "updatedFamilyName")
    assert patched["emails"][0]["value"].lower() == "updatedemail@microsoft.com"
    assert patched["name"]["familyName"] == "updatedFamilyName"


def test_entra_aadoptscim062020_no_path_replace_with_dotted_keys_and_the_extension(
    ctx: Context, operator: Actor, org: Any, scim: Any
) -> None:
    created = scim.post("/scim/v2/Users", json=ENTRA_CREATE).json()
    activate(ctx, operator, created["id"])
    body = {
        "schemas": [PATCH],
        "Operations": [
            {
                "op": "replace",
                "value": {
                    "active": False,
                    "name.givenName": "Grace",
                    "name.familyName": "Hopper",
                    "title": "Rear Admiral",
                    f"{ENTERPRISE}:employeeNumber": "E-1906",
                    f"{ENTERPRISE}:department": "Navy",
                },
            }
        ],
    }
    response = scim.patch(f"/scim/v2/Users/{created['id']}", json=body)
    assert response.status_code == 200, response.text
    row = member(ctx, org.id, created["id"])
    assert row.status == MemberStatus.SUSPENDED
    assert (row.first_name, row.last_name, row.job_profile) == ("Grace", "Hopper", "Rear Admiral")
    assert (row.external_id, row.department) == ("E-1906", "Navy")
    user = response.json()
    assert user[ENTERPRISE] == {"employeeNumber": "E-1906", "department": "Navy"} and user["active"] is False


# Okta's create and update (developer.okta.com, "SCIM 2.0 protocol reference"), with one change: the
# documentation's okta.local is a special-use domain Admit refuses as an address (tested below), so the
# address is at okta.example.com.
OKTA_CREATE = {
    "schemas": [USER],
    "userName": "test.user@okta.example.com",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.example.com", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}


def test_okta_create_never_keeps_the_password_and_put_for_every_update(
    ctx: Context, operator: Actor, org: Any, scim: Any
) -> None:
    local = {**OKTA_CREATE, "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}]}
    refused = scim.post("/scim/v2/Users", json=local)
    assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"
    response = scim.post("/scim/v2/Users", json=OKTA_CREATE)
    assert response.status_code == 201, response.text
    created = response.json()
    assert "password" not in created and "1mz050nq" not in response.text
    assert created["displayName"] == "Test User" and created["locale"] == "en-US"
    activate(ctx, operator, created["id"])
    put = {
        "schemas": [USER],
        "id": created["id"],
        "userName": "test.user@okta.example.com",
        "name": {"givenName": "Another", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.example.com", "type": "work"}],
        "displayName": "Another User",
        "locale": "en-US",
        "groups": [],
        "active": True,
    }
    replaced = scim.put(f"/scim/v2/Users/{created['id']}", json=put)
    assert replaced.status_code == 200, replaced.text
    user = replaced.json()
    assert user["displayName"] == "Another User" and "externalId" not in user  # PUT: left out is cleared
    assert member(ctx, org.id, created["id"]).first_name == "Another"
    assert scim.put(f"/scim/v2/Users/{created['id']}", json={**put, "active": False}).json()["active"] is False
    assert member(ctx, org.id, created["id"]).status == MemberStatus.SUSPENDED
    assert member(ctx, org.id, created["id"]).email == "test.user@okta.example.com"  # no field wiped


def test_okta_no_path_deactivation(ctx: Context, operator: Actor, org: Any, scim: Any) -> None:
    created = scim.post("/scim/v2/Users", json=OKTA_CREATE).json()
    activate(ctx, operator, created["id"])
    patched = patch(scim, created["id"], {"op": "replace", "value": {"active": False}})
    assert patched["active"] is False and member(ctx, org.id, created["id"]).status == MemberStatus.SUSPENDED
    filtered = scim.get("/scim/v2/Users", params={"filter": 'userName eq "test.user@okta.example.com"'}).json()
    assert filtered["totalResults"] == 1 and filtered["Resources"][0]["active"] is False


def test_paging_with_count_and_start_index_and_cursors(scim: Any) -> None:
    ids = [create(scim, userName=f"user{n}@example.com")["id"] for n in range(5)]
    page = scim.get("/scim/v2/Users?count=2&startIndex=1").json()
    assert page["schemas"] == [LIST] and page["totalResults"] == 5
    assert (page["itemsPerPage"], page["startIndex"]) == (2, 1)
    assert [r["id"] for r in page["Resources"]] == ids[:2]
    page = scim.get("/scim/v2/Users?count=2&startIndex=5").json()
    assert [r["id"] for r in page["Resources"]] == ids[4:]
    seen: list[str] = []
    cursor = ""
    while True:
        page = scim.get("/scim/v2/Users", params={"count": 2, "cursor": cursor}).json()
        seen += [r["id"] for r in page["Resources"]]
        if "nextCursor" not in page:
            break
        cursor = page["nextCursor"]
    assert seen == ids
    assert scim.get("/scim/v2/Users", params={"cursor": "forged"}).json()["scimType"] == "invalidCursor"
    assert scim.get("/scim/v2/Users", params={"sortBy": "userName"}).status_code == 400


def test_entra_test_connection_and_case_insensitive_user_names(scim: Any) -> None:
    random = scim.get("/scim/v2/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'})
    assert random.status_code == 200
    assert random.json() == {"schemas": [LIST], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []}
    created = create(scim, userName="Ada.Lovelace@Example.com")
    for query in ('userName eq "ada.lovelace@example.com"', 'USERNAME eq "ADA.LOVELACE@EXAMPLE.COM"'):
        found = scim.get("/scim/v2/Users", params={"filter": query}).json()
        assert [r["id"] for r in found["Resources"]] == [created["id"]], query
    found = scim.get("/scim/v2/Users", params={"filter": 'userName sw "ADA" and not (userName co "zzz")'}).json()
    assert found["totalResults"] == 1
    projected = scim.get("/scim/v2/Users", params={"filter": "userName pr", "attributes": "userName"}).json()
    assert set(projected["Resources"][0]) == {"schemas", "id", "userName"}
    bad = scim.get("/scim/v2/Users", params={"filter": 'userName eq "x'})
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidFilter"


def test_duplicate_create_is_409_uniqueness_and_wipes_nothing(ctx: Context, org: Any, scim: Any) -> None:
    first = create(scim, userName="ada@example.com", name={"givenName": "Ada"}, emails=[{"value": "ada@example.com"}])
    for clash in ("ada@example.com", "ADA@example.com"):
        again = scim.post("/scim/v2/Users", json={"schemas": [USER], "userName": clash, "name": {"givenName": "X"}})
        assert again.status_code == 409 and again.json()["scimType"] == "uniqueness", again.text
    other = scim.post(
        "/scim/v2/Users",
        json={"schemas": [USER], "userName": "someone", "emails": [{"value": "ada@example.com"}]},
    )
    assert other.status_code == 409 and other.json()["scimType"] == "uniqueness"
    assert member(ctx, org.id, first["id"]).first_name == "Ada"
    assert scim.get("/scim/v2/Users").json()["totalResults"] == 1


def test_parallel_creates_of_one_user_name_make_one_user(ctx: Context, org: Any, scim: Any) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def post(n: int) -> None:
        barrier.wait()
        body = {"schemas": [USER], "userName": "Race@Example.com", "name": {"givenName": f"Runner {n}"}}
        statuses.append(scim.post("/scim/v2/Users", json=body).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409], statuses
    [user] = scim.get("/scim/v2/Users").json()["Resources"]
    assert user["userName"] == "Race@Example.com" and user["name"]["givenName"].startswith("Runner")
    assert member(ctx, org.id, user["id"]).first_name == user["name"]["givenName"]


def test_a_user_name_without_email_becomes_a_member_without_email(ctx: Context, org: Any, scim: Any) -> None:
    created = create(scim, userName="jdoe")
    row = member(ctx, org.id, created["id"])
    assert (row.email, row.external_id, row.last_name) == (None, "jdoe", "jdoe")
    assert created["userName"] == "jdoe" and "name" not in created and ENTERPRISE not in created


def test_etags_and_preconditions(scim: Any) -> None:
    created = create(scim)
    url = f"/scim/v2/Users/{created['id']}"
    etag = scim.get(url).headers["etag"]
    assert etag.startswith('W/"') and scim.get(url, headers={"If-None-Match": etag}).status_code == 304
    stale = scim.patch(
        url,
        json={"schemas": [PATCH], "Operations": [{"op": "add", "path": "nickName", "value": "A"}]},
        headers={"If-Match": 'W/"stale"'},
    )
    assert stale.status_code == 412
    fresh = scim.patch(
        url,
        json={"schemas": [PATCH], "Operations": [{"op": "add", "path": "nickName", "value": "A"}]},
        headers={"If-Match": etag},
    )
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    assert scim.delete(url, headers={"If-Match": etag}).status_code == 412


def test_the_role_ceiling_and_owners(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    limited = client(ctx, token_for(ctx, operator, org.id, workspace.id, role="member"))
    body = {"schemas": [USER, ADMIT], "userName": "boss@example.com", ADMIT: {"permissionType": "admin"}}
    refused = limited.post("/scim/v2/Users", json=body)
    assert refused.status_code == 403 and refused.json()["status"] == "403"
    guest = limited.post("/scim/v2/Users", json={**body, ADMIT: {"permissionType": "guest"}})
    assert guest.status_code == 201 and member(ctx, org.id, guest.json()["id"]).role == "guest"
    owner, _ = members.provision(
        ctx, operator, workspace.id, MemberInput(email="owner@example.com", role="owner"), invite=False
    )
    admin = client(ctx, token_for(ctx, operator, org.id, workspace.id))
    url = f"/scim/v2/Users/{owner.id}"
    assert admin.get(url).json()[ADMIT]["permissionType"] == "owner"
    change = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "name.givenName", "value": "X"}]}
    assert admin.patch(url, json=change).status_code == 403
    assert admin.delete(url).status_code == 403
    assert member(ctx, org.id, owner.id).status == MemberStatus.PROVISIONED


def test_delete_removes_the_member_and_frees_the_user_name(ctx: Context, org: Any, scim: Any) -> None:
    created = create(scim)
    assert scim.delete(f"/scim/v2/Users/{created['id']}").status_code == 204
    assert member(ctx, org.id, created["id"]).status == MemberStatus.REMOVED
    assert scim.get(f"/scim/v2/Users/{created['id']}").status_code == 404
    assert create(scim)["id"] != created["id"]


def test_tenant_isolation(ctx: Context, operator: Actor, org: Any, workspace: Any, scim: Any) -> None:
    created = create(scim)
    other_org = tenancy.create_organization(ctx, operator, "Globex", plan="business", seats=25)
    other_ws = tenancy.create_workspace(ctx, operator, other_org.id, "Globex Main")
    other = client(ctx, token_for(ctx, operator, other_org.id, other_ws.id))
    url = f"/scim/v2/Users/{created['id']}"
    assert other.get(url).status_code == 404
    assert other.put(url, json={"schemas": [USER], "userName": "x@example.com"}).status_code == 404
    assert other.delete(url).status_code == 404
    assert other.get("/scim/v2/Users").json()["totalResults"] == 0
    second_ws = tenancy.create_workspace(ctx, operator, org.id, "Acme Second")
    elsewhere = client(ctx, token_for(ctx, operator, org.id, second_ws.id))
    assert elsewhere.get(url).status_code == 404  # a workspace token sees its workspace only
    whole = client(ctx, token_for(ctx, operator, org.id, None))
    assert whole.get(url).status_code == 200  # an organization-wide token sees every workspace
    placed = whole.post(
        "/scim/v2/Users",
        json={"schemas": [USER, ADMIT], "userName": "b@example.com", ADMIT: {"workspaceId": second_ws.id}},
    )
    assert placed.status_code == 201 and member(ctx, org.id, placed.json()["id"]).workspace_id == second_ws.id
    oldest = whole.post("/scim/v2/Users", json={"schemas": [USER], "userName": "c@example.com"})
    assert member(ctx, org.id, oldest.json()["id"]).workspace_id == workspace.id
    foreign = whole.post(
        "/scim/v2/Users",
        json={"schemas": [USER, ADMIT], "userName": "d@example.com", ADMIT: {"workspaceId": other_ws.id}},
    )
    assert foreign.status_code == 400
    # The providers' lookup (userName eq) answers within the token's reach only.
    lookup = {"filter": 'userName eq "b@example.com"'}
    assert whole.get("/scim/v2/Users", params=lookup).json()["totalResults"] == 1
    assert elsewhere.get("/scim/v2/Users", params=lookup).json()["totalResults"] == 1  # b is in second_ws
    assert client(ctx, token_for(ctx, operator, org.id, workspace.id)).get("/scim/v2/Users", params=lookup).json() == {
        "schemas": [LIST],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    assert other.get("/scim/v2/Users", params=lookup).json()["totalResults"] == 0


def test_a_member_removed_in_the_console_is_no_longer_found_by_user_name(
    ctx: Context, operator: Actor, org: Any, workspace: Any, scim: Any
) -> None:
    created = create(scim)
    members.remove(ctx, operator, created["id"])  # not through SCIM: its scim_users row stays
    found = scim.get("/scim/v2/Users", params={"filter": 'userName eq "ada@example.com"'})
    assert found.status_code == 200 and found.json()["totalResults"] == 0
    again = create(scim)  # the provider creates the person anew
    assert again["id"] != created["id"]


def test_search_endpoints_schemas_and_resource_types(scim: Any) -> None:
    created = create(scim)
    search = {"schemas": [SEARCH], "filter": 'userName eq "ADA@example.com"', "attributes": ["userName"]}
    for path in ("/scim/v2/Users/.search", "/scim/v2/.search"):
        found = scim.post(path, json=search)
        assert found.status_code == 200, found.text
        assert [r["id"] for r in found.json()["Resources"]] == [created["id"]]
    assert scim.post("/scim/v2/.search", json={"filter": "userName pr"}).status_code == 400
    listed = scim.get("/scim/v2/Schemas").json()
    assert listed["totalResults"] == 4 and {s["id"] for s in listed["Resources"]} >= {USER, ENTERPRISE, ADMIT}
    assert scim.get(f"/scim/v2/Schemas/{USER}").json()["id"] == USER
    assert scim.get("/scim/v2/Schemas/urn:nothing").status_code == 404
    types = scim.get("/scim/v2/ResourceTypes").json()
    assert {t["name"] for t in types["Resources"]} == {"User", "Group"}
    assert scim.get("/scim/v2/ResourceTypes/User").json()["endpoint"] == "/Users"
    assert scim.get("/scim/v2/ResourceTypes/Nothing").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"schemas": [USER]},
        {"schemas": [USER], "userName": 5},
        {"schemas": [USER], "userName": "a\x00b"},
        {"schemas": [USER], "userName": "x" * 300},
        {"schemas": [USER], "userName": "<b>x</b>", "emails": [{"value": "not an email"}]},
        {"userName": "no-schemas"},
        [1, 2],
    ],
)
def test_hostile_creates_are_400(scim: Any, body: Any) -> None:
    response = scim.post("/scim/v2/Users", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_the_audit_log_names_the_scim_token(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    scim = client(ctx, token_for(ctx, operator, org.id, workspace.id))
    create(scim, name={"givenName": "Ada", "familyName": "Lovelace"}, emails=[{"value": "ada@example.com"}])
    members.provision(
        ctx, operator, workspace.id, MemberInput(email="dana@example.com", role="owner", first_name="Dana"), invite=True
    )
    claims.accept_with_token(ctx, outbox_token_for(ctx, "dana@example.com"), password="harbor-quill-meadow-81")
    page = browser_signed_in(ctx, "dana@example.com", "harbor-quill-meadow-81").get(f"/admin/{workspace.id}/audit")
    assert page.status_code == 200
    said = [
        unescape(re.sub(r"\s+", " ", c)).strip()
        for c in re.findall(r'<td class="sentence">(.*?)</td>', page.text, re.S)
    ]
    assert "SCIM token “Entra ID” added Ada Lovelace as Member" in said, said

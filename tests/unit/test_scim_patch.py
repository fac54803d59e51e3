"""SCIM PATCH (RFC 7644 §3.5.2), with the exact request bodies Entra ID and Okta send."""

from __future__ import annotations

import time
from typing import Any

import pytest

from admit.scim.errors import ScimError
from admit.scim.patch import apply_patch, coerce_resource
from admit.scim.schemas import GROUP_TYPE, IMMUTABLE, USER, USER_TYPE, Attribute, ResourceType, Schema

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ADMIT = "urn:admit:params:scim:schemas:extension:admit:2.0:User"


def _user() -> dict[str, Any]:
    return {
        "schemas": [CORE],
        "id": "u1",
        "externalId": "ext-1",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs",
        "active": True,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@home.org", "type": "home"},
        ],
        "meta": {"resourceType": "User", "version": 'W/"1"'},
    }


def _group(*members: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": "Ops",
        "members": [{"value": m} for m in members],
    }


def _body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def _error(resource: dict[str, Any], body: Any, resource_type: Any = USER_TYPE) -> ScimError:
    with pytest.raises(ScimError) as caught:
        apply_patch(resource, body, resource_type)
    return caught.value


def test_op_names_in_any_case() -> None:
    result = apply_patch(
        _user(),
        _body(
            {"op": "Replace", "path": "displayName", "value": "B"},
            {"op": "Add", "path": "title", "value": "Boss"},
            {"op": "remove", "path": "name.familyName"},
        ),
        USER_TYPE,
    )
    assert result.resource["displayName"] == "B" and result.resource["title"] == "Boss"
    assert result.resource["name"] == {"givenName": "Barbara"}
    assert result.changed == ("displayName", "name.familyName", "title")


def test_the_input_is_not_modified() -> None:
    user = _user()
    apply_patch(user, _body({"op": "replace", "path": "name.givenName", "value": "X"}), USER_TYPE)
    assert user == _user()


@pytest.mark.parametrize(("value", "expected"), [("False", False), ("True", True), ("false", False), (False, False)])
def test_entra_boolean_strings(value: Any, expected: bool) -> None:
    body = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": value}]}
    assert apply_patch(_user(), body, USER_TYPE).resource["active"] is expected


def test_a_boolean_that_is_no_boolean() -> None:
    error = _error(_user(), _body({"op": "replace", "path": "active", "value": "maybe"}))
    assert (error.status, error.scim_type) == (400, "invalidValue")
    assert error.detail.startswith("operation 1: ")


def test_entra_no_path_replace_with_dotted_and_urn_keys() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {
                "op": "replace",
                "value": {
                    "active": False,
                    "name.givenName": "A",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "X",
                },
            }
        ],
    }
    result = apply_patch(_user(), body, USER_TYPE)
    assert result.resource["active"] is False
    assert result.resource["name"] == {"givenName": "A", "familyName": "Jensen"}
    assert result.resource[ENTERPRISE] == {"department": "X"}
    assert ENTERPRISE in result.resource["schemas"]
    assert result.changed == ("active", "department", "name.givenName")


def test_no_path_value_with_an_extension_urn_as_key() -> None:
    body = {
        "schemas": [PATCH],
        "Operations": [
            {
                "op": "add",
                "value": {
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                        "department": "Tour Operations",
                        "employeeNumber": "701984",
                    },
                    "urn:admit:params:scim:schemas:extension:admit:2.0:User": {"permissionType": "admin"},
                },
            }
        ],
    }
    result = apply_patch(_user(), body, USER_TYPE).resource
    assert result[ENTERPRISE] == {"department": "Tour Operations", "employeeNumber": "701984"}
    assert result[ADMIT] == {"permissionType": "admin"}
    assert result["schemas"] == [CORE, ENTERPRISE, ADMIT]


def test_okta_no_path_replace() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    result = apply_patch(_user(), body, USER_TYPE)
    assert result.resource["active"] is False and result.changed == ("active",)


def test_entra_manager_as_a_string_and_its_removal() -> None:
    body = _body({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "m-42"})
    user = apply_patch(_user(), body, USER_TYPE).resource
    assert user[ENTERPRISE] == {"manager": {"value": "m-42"}}
    after = apply_patch(user, _body({"op": "Remove", "path": f"{ENTERPRISE}:manager"}), USER_TYPE).resource
    assert ENTERPRISE not in after and after["schemas"] == [CORE]


def test_email_path_replace() -> None:
    body = _body({"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"})
    result = apply_patch(_user(), body, USER_TYPE)
    assert result.resource["emails"][0] == {"value": "new@example.com", "type": "work", "primary": True}
    assert result.resource["emails"][1]["value"] == "babs@home.org"
    assert result.changed == ("emails",)


def test_entra_add_with_a_filter_that_matches_nothing_creates_the_value() -> None:
    body = {
        "schemas": [PATCH],
        "Operations": [{"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+49 30 1234"}],
    }
    result = apply_patch(_user(), body, USER_TYPE).resource
    assert result["phoneNumbers"] == [{"type": "mobile", "value": "+49 30 1234"}]


def test_replace_with_a_filter_that_matches_nothing() -> None:
    body = _body({"op": "replace", "path": 'emails[type eq "other"].value', "value": "x@example.com"})
    error = _error(_user(), body)
    assert (error.status, error.scim_type) == (400, "noTarget")
    assert _error(_user(), _body({"op": "remove", "path": 'emails[type eq "other"]'})).scim_type == "noTarget"


def test_add_to_a_multi_valued_attribute_merges_without_duplicates() -> None:
    body = _body(
        {
            "op": "add",
            "path": "emails",
            "value": [
                {"value": "BJENSEN@example.com", "type": "work"},  # the same address, case aside
                {"value": "third@example.com", "type": "other"},
            ],
        }
    )
    emails = apply_patch(_user(), body, USER_TYPE).resource["emails"]
    assert [e["value"] for e in emails] == ["BJENSEN@example.com", "babs@home.org", "third@example.com"]
    assert emails[0]["primary"] is True


def test_primary_true_on_one_value_clears_the_others() -> None:
    body = _body({"op": "replace", "path": 'emails[type eq "home"].primary', "value": True})
    emails = apply_patch(_user(), body, USER_TYPE).resource["emails"]
    assert [e.get("primary") for e in emails] == [False, True]
    added = _body({"op": "add", "path": "emails", "value": [{"value": "n@x.org", "type": "other", "primary": True}]})
    emails = apply_patch(_user(), added, USER_TYPE).resource["emails"]
    assert [e.get("primary") for e in emails] == [False, None, True]


def test_replace_a_whole_multi_valued_attribute() -> None:
    body = _body({"op": "replace", "path": "emails", "value": [{"value": "only@example.com", "type": "work"}]})
    assert apply_patch(_user(), body, USER_TYPE).resource["emails"] == [{"value": "only@example.com", "type": "work"}]


def test_removing_a_required_attribute() -> None:
    error = _error(_user(), _body({"op": "remove", "path": "userName"}))
    assert (error.status, error.scim_type) == (400, "mutability")
    assert _error(_user(), _body({"op": "replace", "path": "userName", "value": None})).scim_type == "mutability"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "id", "value": "other"},
        {"op": "replace", "path": "meta.version", "value": 'W/"9"'},
        {"op": "remove", "path": "meta"},
        {"op": "replace", "value": {"id": "other"}},
        {"op": "add", "path": "groups", "value": [{"value": "g1"}]},
    ],
)
def test_read_only_attributes(operation: dict[str, Any]) -> None:
    error = _error(_user(), _body(operation))
    assert (error.status, error.scim_type) == (400, "mutability")


# An extension with an immutable attribute (Admit's workspaceId is read-only: the server sets it).
BADGE = "urn:example:params:scim:schemas:extension:badge:2.0:User"
BADGED = ResourceType(
    "User", "/Users", "User", USER, ((Schema(BADGE, "Badge", "", (Attribute("badge", mutability=IMMUTABLE),)), False),)
)


def test_immutable_attributes_may_be_set_once() -> None:
    user = apply_patch(_user(), _body({"op": "add", "path": f"{BADGE}:badge", "value": "b1"}), BADGED).resource
    assert user[BADGE] == {"badge": "b1"}
    with pytest.raises(ScimError) as caught:
        apply_patch(user, _body({"op": "replace", "path": f"{BADGE}:badge", "value": "b2"}), BADGED)
    assert caught.value.scim_type == "mutability"


def test_the_server_sets_the_workspace() -> None:
    error = _error(_user(), _body({"op": "add", "path": f"{ADMIT}:workspaceId", "value": "w1"}))
    assert error.scim_type == "mutability"


def test_an_extension_urn_as_the_path_adds_replaces_or_removes_its_attributes() -> None:
    body = _body({"op": "add", "path": ENTERPRISE, "value": {"department": "Ops", "costCenter": "7"}})
    user = apply_patch(_user(), body, USER_TYPE).resource
    assert user[ENTERPRISE] == {"department": "Ops", "costCenter": "7"}
    body = _body({"op": "replace", "path": ENTERPRISE, "value": {"department": "Sales"}})
    assert apply_patch(user, body, USER_TYPE).resource[ENTERPRISE] == {"department": "Sales", "costCenter": "7"}
    assert ENTERPRISE not in apply_patch(user, _body({"op": "remove", "path": ENTERPRISE}), USER_TYPE).resource
    assert _error(user, _body({"op": "add", "path": ENTERPRISE, "value": "x"})).scim_type == "invalidValue"


@pytest.mark.parametrize(
    "path", ["shoeSize", "name.shoeSize", "urn:example:x:shoeSize", 'displayName[value eq "x"]', "emails[type eq]"]
)
def test_unknown_or_malformed_paths(path: str) -> None:
    error = _error(_user(), _body({"op": "replace", "path": path, "value": "x"}))
    assert (error.status, error.scim_type) == (400, "invalidPath")


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ([], "invalidSyntax"),
        ({"Operations": [{"op": "add", "path": "title", "value": "x"}]}, "invalidSyntax"),
        ({"schemas": [PATCH], "Operations": []}, "invalidSyntax"),
        ({"schemas": [PATCH], "Operations": ["add"]}, "invalidSyntax"),
        ({"schemas": [PATCH], "Operations": [{"op": "move", "path": "title"}]}, "invalidSyntax"),
        ({"schemas": [PATCH], "Operations": [{"op": "remove"}]}, "noTarget"),
        ({"schemas": [PATCH], "Operations": [{"op": "add", "value": "x"}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "add", "path": "title"}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "add", "path": "title", "value": {"a": 1}}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "add", "path": "title", "value": "a\x00b"}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "add", "path": "title", "value": "x" * 5000}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "add", "path": "name", "value": {"shoe": "x"}}]}, "invalidValue"),
        ({"schemas": [PATCH], "Operations": [{"op": "add", "path": 7, "value": "x"}]}, "invalidPath"),
    ],
)
def test_malformed_bodies(body: Any, scim_type: str) -> None:
    error = _error(_user(), body)
    assert (error.status, error.scim_type) == (400, scim_type), error.detail


def test_too_many_operations() -> None:
    body = _body(*({"op": "replace", "path": "title", "value": str(i)} for i in range(1001)))
    error = _error(_user(), body)
    assert error.status == 413 and "1000" in error.detail
    assert apply_patch(_user(), _body(*body["Operations"][:1000]), USER_TYPE).resource["title"] == "999"


def test_too_many_values_in_one_operation() -> None:
    body = _body({"op": "add", "path": "members", "value": [{"value": f"m{i}"} for i in range(10_001)]})
    error = _error(_group(), body, GROUP_TYPE)
    assert error.status == 413 and "10000" in error.detail


# --- groups ------------------------------------------------------------------------------------------------


def test_entra_remove_member_by_value_list() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u2"}]}],
    }
    result = apply_patch(_group("u1", "u2", "u3"), body, GROUP_TYPE)
    assert result.resource["members"] == [{"value": "u1"}, {"value": "u3"}]
    assert result.members_removed == {"u2"} and result.members_added == frozenset()
    assert result.changed == ("members",)


def test_remove_member_by_filter_path_and_absent_members() -> None:
    body = _body({"op": "remove", "path": 'members[value eq "u1"]'})
    result = apply_patch(_group("u1", "u2"), body, GROUP_TYPE)
    assert result.resource["members"] == [{"value": "u2"}] and result.members_removed == {"u1"}
    again = apply_patch(result.resource, body, GROUP_TYPE)  # Entra: removing a member that is gone is fine
    assert again.resource == result.resource and again.changed == () and again.members_removed == frozenset()
    by_list = _body({"op": "Remove", "path": "members", "value": [{"value": "nobody"}]})
    assert apply_patch(_group("u1"), by_list, GROUP_TYPE).changed == ()
    last = apply_patch(_group("u1"), _body({"op": "remove", "path": 'members[value eq "u1"]'}), GROUP_TYPE)
    assert "members" not in last.resource


def test_entra_add_members() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": "u2"}, {"value": "u1"}]}],
    }
    result = apply_patch(_group("u1"), body, GROUP_TYPE)
    assert result.resource["members"] == [{"value": "u1"}, {"value": "u2"}]
    assert result.members_added == {"u2"}


def test_okta_group_update_remove_then_add_and_rename() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "value": {"id": "g1", "displayName": "Ops Team"}},
            {"op": "remove", "path": 'members[value eq "u1"]'},
            {"op": "add", "path": "members", "value": [{"value": "u9", "display": "nine@example.com"}]},
        ],
    }
    group = _group("u1", "u2")
    result = apply_patch(group, body, GROUP_TYPE)
    assert result.resource["displayName"] == "Ops Team"
    assert result.resource["members"] == [{"value": "u2"}, {"value": "u9"}]  # display is the server's
    assert (result.members_added, result.members_removed) == ({"u9"}, {"u1"})
    assert result.changed == ("displayName", "members")
    # Okta repeats the group's id in the rename: the same id is no change; another id is refused
    body["Operations"][0]["value"]["id"] = "g2"
    assert _error(group, body, GROUP_TYPE).scim_type == "mutability"


def test_okta_full_replace_of_members() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {
                "op": "replace",
                "path": "members",
                "value": [{"value": "u2", "display": "two"}, {"value": "u3", "display": "three"}],
            }
        ],
    }
    result = apply_patch(_group("u1", "u2"), body, GROUP_TYPE)
    assert result.resource["members"] == [{"value": "u2"}, {"value": "u3"}]
    assert (result.members_added, result.members_removed) == ({"u3"}, {"u1"})
    emptied = apply_patch(_group("u1"), _body({"op": "replace", "path": "members", "value": []}), GROUP_TYPE)
    assert "members" not in emptied.resource and emptied.members_removed == {"u1"}


def test_a_member_needs_an_id() -> None:
    body = _body({"op": "add", "path": "members", "value": [{"display": "x"}]})
    assert _error(_group(), body, GROUP_TYPE).scim_type == "invalidValue"


def test_ten_thousand_members_in_one_patch_is_linear() -> None:
    existing = [f"old{i}" for i in range(10_000)]
    body = _body(
        {"op": "add", "path": "members", "value": [{"value": f"new{i}"} for i in range(10_000)]},
        {"op": "remove", "path": "members", "value": [{"value": f"old{i}"} for i in range(5_000)]},
    )
    started = time.perf_counter()
    result = apply_patch(_group(*existing), body, GROUP_TYPE)
    elapsed = time.perf_counter() - started
    assert len(result.members_added) == 10_000 and len(result.members_removed) == 5_000
    assert len(result.resource["members"]) == 15_000
    assert elapsed < 2.0, elapsed  # quadratic would take minutes


def test_okta_removes_many_members_one_operation_each() -> None:
    existing = [f"m{i}" for i in range(10_000)]
    body = _body(*({"op": "remove", "path": f'members[value eq "m{i}"]'} for i in range(0, 2_000, 2)))
    started = time.perf_counter()
    result = apply_patch(_group(*existing), body, GROUP_TYPE)
    assert time.perf_counter() - started < 5.0
    assert (
        len(result.members_removed) == 1_000 and "m0" in result.members_removed and "m1" not in result.members_removed
    )


def test_keys_in_another_spelling_keep_their_place() -> None:
    user = {"schemas": [CORE], "id": "u1", "USERNAME": "a", "Title": "t", "active": True}
    result = apply_patch(user, _body({"op": "replace", "path": "title", "value": "T"}), USER_TYPE).resource
    assert result == {"schemas": [CORE], "id": "u1", "USERNAME": "a", "active": True, "title": "T"}
    kept = apply_patch(_user(), _body({"op": "replace", "path": "displayName", "value": "B"}), USER_TYPE).resource
    assert list(kept) == list(_user())


def test_extension_paths_with_sub_attributes() -> None:
    body = _body(
        {"op": "add", "path": f"{ENTERPRISE}:manager.value", "value": "m-1"},
        {"op": "replace", "path": f"{ADMIT}:permissionType", "value": "member"},
    )
    result = apply_patch(_user(), body, USER_TYPE)
    assert result.resource[ENTERPRISE] == {"manager": {"value": "m-1"}}
    assert result.resource[ADMIT] == {"permissionType": "member"}
    assert result.changed == ("manager.value", "permissionType")
    removed = apply_patch(result.resource, _body({"op": "remove", "path": f"{ADMIT}:permissionType"}), USER_TYPE)
    assert ADMIT not in removed.resource and ADMIT not in removed.resource["schemas"]


def test_a_single_object_for_a_multi_valued_attribute() -> None:
    body = _body({"op": "add", "path": "phoneNumbers", "value": {"value": "+1 555", "type": "work"}})
    assert apply_patch(_user(), body, USER_TYPE).resource["phoneNumbers"] == [{"value": "+1 555", "type": "work"}]


def test_member_removal_then_re_add_in_one_request_keeps_the_order_of_operations() -> None:
    body = _body(
        {"op": "remove", "path": 'members[value eq "u1"]'},
        {"op": "add", "path": "members", "value": [{"value": "u1"}]},
        {"op": "remove", "path": 'members[value eq "u2"]'},
    )
    result = apply_patch(_group("u1", "u2", "u3"), body, GROUP_TYPE)
    assert result.resource["members"] == [{"value": "u3"}, {"value": "u1"}]
    assert (result.members_added, result.members_removed) == (frozenset(), {"u2"})


def test_a_filter_on_members_other_than_by_id() -> None:
    group = {
        "id": "g1",
        "displayName": "Ops",
        "members": [{"value": "u1", "type": "User"}, {"value": "g2", "type": "Group"}],
    }
    result = apply_patch(group, _body({"op": "remove", "path": 'members[type eq "Group"]'}), GROUP_TYPE)
    assert result.resource["members"] == [{"value": "u1", "type": "User"}] and result.members_removed == {"g2"}


# --- POST and PUT bodies -----------------------------------------------------------------------------------


def test_entra_create_user_body() -> None:
    body = {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": "True",
        "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "manager": "m-1"},
    }
    assert coerce_resource(body, USER_TYPE) == {
        "schemas": [CORE, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        ENTERPRISE: {"department": "Sales", "manager": {"value": "m-1"}},
    }


def test_okta_create_user_body() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    result = coerce_resource(body, USER_TYPE)
    assert "password" not in result and "groups" not in result
    assert result["locale"] == "en-US" and result["schemas"] == [CORE]


def test_create_group_body_with_members() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Ops",
        "id": "client-chosen",
        "members": [{"value": "u1", "display": "One"}, {"value": "u1"}, {"value": "u2"}],
    }
    assert coerce_resource(body, GROUP_TYPE) == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Ops",
        "members": [{"value": "u1"}, {"value": "u2"}],
    }


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"schemas": [CORE]}, "invalidValue"),  # userName is required
        ({"schemas": [CORE], "userName": ""}, "invalidValue"),
        ({"userName": "a"}, "invalidSyntax"),
        ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "a"}, "invalidSyntax"),
        ({"schemas": [CORE], "userName": "a", "active": "yes"}, "invalidValue"),
        ({"schemas": [CORE], "userName": ["a"]}, "invalidValue"),
        ({"schemas": [CORE], "userName": "a", ENTERPRISE: "x"}, "invalidValue"),
        ("nope", "invalidSyntax"),
    ],
)
def test_bad_create_bodies(body: Any, scim_type: str) -> None:
    with pytest.raises(ScimError) as caught:
        coerce_resource(body, USER_TYPE)
    assert (caught.value.status, caught.value.scim_type) == (400, scim_type)


def test_put_keeps_immutable_attributes() -> None:
    current = {"schemas": [CORE, BADGE], "id": "u1", "userName": "a", BADGE: {"badge": "b1"}}
    same = {"schemas": [CORE, BADGE], "userName": "b", BADGE: {"badge": "b1"}}
    assert coerce_resource(same, BADGED, current=current)["userName"] == "b"
    other = {"schemas": [CORE, BADGE], "userName": "b", BADGE: {"badge": "b2"}}
    with pytest.raises(ScimError) as caught:
        coerce_resource(other, BADGED, current=current)
    assert caught.value.scim_type == "mutability"


@pytest.mark.parametrize(
    "value",
    [
        {"value": "u9"},
        {"value": "u9", "display": "ignored: read-only"},
        {"value": 9},
        {"value": None},
        {"Value": "u9"},
        {"value": "u\x009"},
        {"value": "u" * 5000},
        "u9",
        [],
    ],
)
def test_members_given_as_plain_values_read_as_the_general_path_reads_them(value: Any) -> None:
    """Plain ``{"value": "<id>"}`` members skip the general walk (a PATCH of 10,000): every shape,
    plain or not, gives what the walk gives, value or error."""
    from admit.scim.patch import MAX_VALUES, _Applier

    found = GROUP_TYPE.attribute("members")
    assert found is not None
    members = found[1]
    patcher = _Applier({}, GROUP_TYPE, MAX_VALUES)

    def outcome(run: Any) -> Any:
        try:
            return run()
        except ScimError as error:
            return (error.status, error.scim_type, error.detail)

    fast = outcome(lambda: patcher.coerce(members, [value]))
    walked = outcome(lambda: [patcher.coerce_one(members, value, "members")])
    assert fast == walked

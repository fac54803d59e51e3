"""SCIM schemas (RFC 7643 §7, §8.7) and the protocol's error body (RFC 7644 §3.12)."""

from __future__ import annotations

from typing import Any

import pytest

from admit.scim import schemas as s
from admit.scim.errors import INVALID_FILTER, ScimError

BASE = "https://admit.example/scim/v2/"


def _by_name(attributes: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(a for a in attributes if a["name"] == name)


def test_schemas_json_lists_every_schema_with_meta() -> None:
    listed = s.schemas_json(BASE)
    assert [x["id"] for x in listed] == [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:admit:params:scim:schemas:extension:admit:2.0:User",
    ]
    user = listed[0]
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Schema"]
    assert user["meta"] == {
        "resourceType": "Schema",
        "location": "https://admit.example/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    }


def test_user_attributes_in_rfc_form() -> None:
    attributes = s.schemas_json(BASE)[0]["attributes"]
    assert _by_name(attributes, "userName") == {
        "name": "userName",
        "type": "string",
        "multiValued": False,
        "description": _by_name(attributes, "userName")["description"],
        "required": True,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "server",
    }
    emails = _by_name(attributes, "emails")
    assert emails["type"] == "complex" and emails["multiValued"] is True and "uniqueness" not in emails
    assert [a["name"] for a in emails["subAttributes"]] == ["value", "display", "type", "primary"]
    assert _by_name(emails["subAttributes"], "type")["canonicalValues"] == ["work", "home", "other"]
    assert _by_name(attributes, "active")["type"] == "boolean" and "caseExact" not in _by_name(attributes, "active")
    name = _by_name(attributes, "name")
    assert {"givenName", "familyName", "formatted"} <= {a["name"] for a in name["subAttributes"]}
    assert _by_name(attributes, "groups")["mutability"] == "readOnly"
    for wanted in ("displayName", "phoneNumbers", "preferredLanguage", "locale", "title"):
        _by_name(attributes, wanted)


def test_group_enterprise_and_admit_attributes() -> None:
    group = s.schema_json("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP", BASE)
    assert group is not None and group["name"] == "Group"
    members = _by_name(group["attributes"], "members")
    assert [a["name"] for a in members["subAttributes"]] == ["value", "$ref", "display", "type"]
    assert _by_name(members["subAttributes"], "$ref")["referenceTypes"] == ["User", "Group"]
    enterprise = s.schema_json(s.ENTERPRISE_USER_SCHEMA, BASE)
    assert enterprise is not None
    manager = _by_name(enterprise["attributes"], "manager")
    assert [a["name"] for a in manager["subAttributes"]] == ["value", "$ref", "displayName"]
    for wanted in ("employeeNumber", "department"):
        _by_name(enterprise["attributes"], wanted)
    admit = s.schema_json(s.ADMIT_USER_SCHEMA, BASE)
    assert admit is not None
    assert _by_name(admit["attributes"], "permissionType")["canonicalValues"] == ["guest", "member", "admin"]
    assert _by_name(admit["attributes"], "workspaceId")["mutability"] == "readOnly"
    assert s.schema_json("urn:nothing", BASE) is None


def test_resource_types_json() -> None:
    user, group = s.resource_types_json(BASE)
    assert user == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
        "schemaExtensions": [
            {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": False},
            {"schema": "urn:admit:params:scim:schemas:extension:admit:2.0:User", "required": False},
        ],
        "meta": {"resourceType": "ResourceType", "location": "https://admit.example/scim/v2/ResourceTypes/User"},
    }
    assert group["endpoint"] == "/Groups" and "schemaExtensions" not in group


@pytest.mark.parametrize(
    ("path", "canonical", "display", "schema"),
    [
        ("userName", "username", "userName", s.USER_SCHEMA),
        ("USERNAME", "username", "userName", s.USER_SCHEMA),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:name.GivenName",
            "name.givenname",
            "name.givenName",
            s.USER_SCHEMA,
        ),
        ("emails.value", "emails.value", "emails.value", s.USER_SCHEMA),
        ("meta.lastModified", "meta.lastmodified", "meta.lastModified", s.USER_SCHEMA),
        ("urn:ietf:params:scim:schemas:core:2.0:User:id", "id", "id", s.USER_SCHEMA),
        ("externalId", "externalid", "externalId", s.USER_SCHEMA),
        ("department", "department", "department", s.ENTERPRISE_USER_SCHEMA),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "manager.value",
            "manager.value",
            s.ENTERPRISE_USER_SCHEMA,
        ),
        (
            "urn:admit:params:scim:schemas:extension:admit:2.0:user:permissiontype",
            "permissiontype",
            "permissionType",
            s.ADMIT_USER_SCHEMA,
        ),
    ],
)
def test_resolve(path: str, canonical: str, display: str, schema: str) -> None:
    resolved = s.resolve(s.USER_TYPE, path)
    assert resolved is not None
    assert (resolved.canonical, resolved.display, resolved.schema.id) == (canonical, display, schema)


@pytest.mark.parametrize(
    "path",
    [
        "shoeSize",
        "name.shoeSize",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName",  # not in that schema
        "urn:ietf:params:scim:schemas:core:2.0:User:department",
        "urn:example:other:department",
        "members",  # a Group attribute
    ],
)
def test_resolve_unknown(path: str) -> None:
    assert s.resolve(s.USER_TYPE, path) is None


def test_resolve_on_groups() -> None:
    resolved = s.resolve(s.GROUP_TYPE, "members.value")
    assert resolved is not None and resolved.target.case_exact
    assert s.resolve(s.GROUP_TYPE, "userName") is None


def test_duplicate_names_across_schemas_are_refused() -> None:
    clash = s.Schema("urn:example:clash", "Clash", "", (s.Attribute("userName"),))
    with pytest.raises(ValueError, match="defined twice"):
        s.ResourceType("User", "/Users", "", s.USER, ((clash, False),))


def test_error_body() -> None:
    error = ScimError(400, INVALID_FILTER, "expected an operator at position 10")
    assert error.body() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400",
        "scimType": "invalidFilter",
        "detail": "expected an operator at position 10",
    }
    assert "scimType" not in ScimError(412, None, "changed").body()
    assert len(ScimError(400, None, "x" * 2000).detail) == 500
    with pytest.raises(ValueError):
        ScimError(200, None, "ok")
    with pytest.raises(ValueError):
        ScimError(400, "madeUp", "no")

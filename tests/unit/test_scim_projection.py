"""The attributes and excludedAttributes parameters (RFC 7644 §3.4.2.5)."""

from __future__ import annotations

from typing import Any

import pytest

from admit.scim.errors import ScimError
from admit.scim.projection import parse_names, project
from admit.scim.schemas import (
    ALWAYS,
    COMPLEX,
    NEVER,
    REQUEST,
    USER_TYPE,
    Attribute,
    ResourceType,
    Schema,
)

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

USER: dict[str, Any] = {
    "schemas": [CORE, ENTERPRISE],
    "id": "u1",
    "externalId": "ext",
    "userName": "bjensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "active": True,
    "emails": [{"value": "b@example.com", "type": "work", "primary": True}, {"value": "h@example.org", "type": "home"}],
    ENTERPRISE: {"department": "Ops", "employeeNumber": "7"},
    "meta": {"resourceType": "User", "location": "https://x/scim/v2/Users/u1"},
}


def test_no_parameters_return_everything() -> None:
    assert project(USER, USER_TYPE) == USER


def test_attributes_keep_only_those_plus_id_and_schemas() -> None:
    assert project(USER, USER_TYPE, "userName") == {"schemas": [CORE, ENTERPRISE], "id": "u1", "userName": "bjensen"}


def test_names_are_case_insensitive_urn_qualified_and_may_name_sub_attributes() -> None:
    result = project(USER, USER_TYPE, f" USERNAME , {CORE}:name.givenName,emails.value,{ENTERPRISE}:department")
    assert result == {
        "schemas": [CORE, ENTERPRISE],
        "id": "u1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "b@example.com"}, {"value": "h@example.org"}],
        ENTERPRISE: {"department": "Ops"},
    }


def test_a_schema_urn_names_all_its_attributes() -> None:
    assert project(USER, USER_TYPE, ENTERPRISE)[ENTERPRISE] == USER[ENTERPRISE]
    assert project(USER, USER_TYPE, ["meta", "active"]) == {
        "schemas": USER["schemas"],
        "id": "u1",
        "active": True,
        "meta": USER["meta"],
    }


def test_excluded_attributes() -> None:
    result = project(USER, USER_TYPE, excluded="emails,name.familyName,id,schemas,department,meta")
    assert "emails" not in result and "meta" not in result
    assert result["name"] == {"givenName": "Barbara"}
    assert result["id"] == "u1" and result["schemas"] == USER["schemas"]  # never excluded
    assert result[ENTERPRISE] == {"employeeNumber": "7"}


def test_an_emptied_extension_disappears() -> None:
    assert ENTERPRISE not in project(USER, USER_TYPE, excluded=f"{ENTERPRISE}")
    assert ENTERPRISE not in project(USER, USER_TYPE, "userName")


def test_unknown_names_are_ignored() -> None:
    assert project(USER, USER_TYPE, "shoeSize,urn:x:y:z") == {"schemas": USER["schemas"], "id": "u1"}
    assert project(USER, USER_TYPE, excluded="shoeSize") == USER


def test_limits() -> None:
    with pytest.raises(ScimError) as caught:
        parse_names(",".join(["a"] * 101))
    assert caught.value.scim_type == "invalidValue"
    with pytest.raises(ScimError):
        parse_names("a" * 5000)
    assert parse_names(" a, ,b,") == ["a", "b"]
    assert parse_names(None) == []


SECRET = Schema(
    "urn:example:Secret",
    "Secret",
    "returned characteristics",
    (
        Attribute("label", returned=ALWAYS),
        Attribute("password", returned=NEVER),
        Attribute("question", returned=REQUEST),
        Attribute("note"),
        Attribute(
            "key",
            COMPLEX,
            sub_attributes=(
                Attribute("public"),
                Attribute("private", returned=NEVER),
                Attribute("kid", returned=ALWAYS),
            ),
        ),
    ),
)
SECRETS = ResourceType("Secret", "/Secrets", "test", SECRET)
THING = {
    "schemas": ["urn:example:Secret"],
    "id": "s1",
    "label": "L",
    "password": "p",
    "question": "q",
    "note": "n",
    "key": {"public": "pub", "private": "priv", "kid": "k1"},
}


def test_returned_characteristics() -> None:
    assert project(THING, SECRETS) == {
        "schemas": ["urn:example:Secret"],
        "id": "s1",
        "label": "L",
        "note": "n",
        "key": {"public": "pub", "kid": "k1"},
    }
    assert project(THING, SECRETS, "question,password,key.public") == {
        "schemas": ["urn:example:Secret"],
        "id": "s1",
        "label": "L",
        "question": "q",
        "key": {"public": "pub", "kid": "k1"},
    }
    assert project(THING, SECRETS, excluded="label,key.kid,key.public,note") == {
        "schemas": ["urn:example:Secret"],
        "id": "s1",
        "label": "L",
        "key": {"kid": "k1"},
    }


def test_json_copy_copies_every_level_and_keeps_other_values_deep_copied() -> None:
    from datetime import UTC, datetime

    from admit.scim import json_copy

    when = datetime(2026, 1, 1, tzinfo=UTC)
    original = {"emails": [{"value": "a@example.com", "primary": True}], "n": 1, "x": None, "t": (["a"],), "at": when}
    copied = json_copy(original)
    assert copied == original
    copied["emails"][0]["value"] = "b@example.com"
    copied["t"][0].append("b")
    assert original["emails"][0]["value"] == "a@example.com" and original["t"] == (["a"],)
    assert copied["at"] == when


@pytest.mark.parametrize(
    ("resource", "resource_type"),
    [
        (USER, USER_TYPE),
        ({**USER, "password": "secret", "x-unknown": {"a": 1}, "Emails": [{"value": "c@example.com"}]}, USER_TYPE),
        (THING, SECRETS),
        ({**THING, "key": [{"public": "a", "private": "b"}, {"private": "c"}], "extra": 1}, SECRETS),
    ],
)
def test_no_parameters_answer_as_the_general_rules_do(resource: dict[str, Any], resource_type: ResourceType) -> None:
    # An excludedAttributes naming nothing known takes the general path, with the same meaning.
    assert project(resource, resource_type) == project(resource, resource_type, excluded="noSuchAttribute")
    assert project(resource, resource_type) == project(resource, resource_type)  # the rules remembered

"""The API refuses malformed input with 422 in the error envelope and writes nothing: explicit
nulls where a value is required, duplicate JSON keys, oversize and out-of-range values."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client

from admit.shared.context import Context

NOT_NULLABLE_WORKSPACE = [
    "name",
    "invitation_lifetime_days",
    "password_policy",
    "default_language",
    "email_enabled",
    "sms_enabled",
    "auto_invite",
    "sms_daily_cap",
    "departments",
    "job_profiles",
    "required_fields",
    "login_methods",
    "sso_required",
    "jit_enabled",
    "jit_domains",
    "default_role",
]


def refused(response: Any, field: str | None) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["field"] == field, error


def test_null_for_a_required_workspace_setting_is_refused_and_not_stored(
    ctx: Context, org: Any, workspace: Any
) -> None:
    api = client(ctx, api_token(ctx, org.id))
    for name in NOT_NULLABLE_WORKSPACE:
        refused(api.patch(f"/api/v1/workspaces/{workspace.id}", json={name: None}), name)
    assert api.get(f"/api/v1/workspaces/{workspace.id}").status_code == 200
    assert api.get(f"/api/v1/organizations/{org.id}/workspaces").status_code == 200
    cleared = api.patch(f"/api/v1/workspaces/{workspace.id}", json={"app_url": None, "default_department": None})
    assert cleared.status_code == 200 and cleared.json()["app_url"] is None


def test_null_role_is_refused_but_null_clears_a_profile_field(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    member = api.post(
        f"/api/v1/workspaces/{workspace.id}/members", json={"email": "a@example.com", "first_name": "Ada"}
    ).json()["member"]
    refused(api.patch(f"/api/v1/members/{member['id']}", json={"role": None}), "role")
    cleared = api.patch(f"/api/v1/members/{member['id']}", json={"first_name": None})
    assert cleared.status_code == 200 and cleared.json()["first_name"] is None


def test_openapi_says_which_patch_fields_may_be_null(ctx: Context) -> None:
    schemas = client(ctx).get("/api/v1/openapi.json").json()["components"]["schemas"]
    workspace = schemas["WorkspacePatch"]["properties"]
    for name in NOT_NULLABLE_WORKSPACE:
        assert "anyOf" not in workspace[name] and "default" not in workspace[name], (name, workspace[name])
    assert {"type": "null"} in workspace["app_url"]["anyOf"]
    member = schemas["MemberPatch"]["properties"]
    assert "anyOf" not in member["role"]
    assert {"type": "null"} in member["email"]["anyOf"]


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a@example.com", "email": "b@example.com"}',
        '{"email": "a@example.com", "first_name": "A", "FIRST_NAME": "x", "first_name": "B"}',
    ],
)
def test_duplicate_keys_are_refused_naming_the_key(ctx: Context, org: Any, workspace: Any, body: str) -> None:
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{workspace.id}/members"
    response = api.post(url, content=body, headers={"content-type": "application/json"})
    refused(response, "email" if body.count('"email"') == 2 else "first_name")
    assert api.get(url).json()["items"] == []


def test_duplicate_keys_are_refused_at_any_depth(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    body = '{"name": "W", "departments": [{"a": 1, "a": 2}]}'
    response = api.patch(
        f"/api/v1/workspaces/{workspace.id}", content=body, headers={"content-type": "application/json"}
    )
    refused(response, "a")
    nested = '{"name": "Okta", "issuer": "https://i", "client_id": "c", "client_secret": "s", '
    nested += '"claims": {"email": "mail", "email": "upn"}}'
    response = client(ctx, api_token(ctx, None)).post(
        "/api/v1/identity-providers", content=nested, headers={"content-type": "application/json; charset=utf-8"}
    )
    refused(response, "email")


def test_text_with_nul_characters_is_refused(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{workspace.id}/members"
    assert api.post(url, json={"email": "a@example.com", "first_name": "A\u0000"}).status_code == 422
    assert api.get(url, params={"q": "a\u0000"}).status_code == 422
    assert api.get("/api/v1/members/a%00b").status_code == 422
    assert api.get(url).json()["items"] == []


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/organizations", {"name": "Big", "seats": 2**40}, "seats"),
        ("/api/v1/organizations", {"name": "x" * 100_000}, "name"),
        ("/api/v1/organizations/{org}/workspaces", {"name": "W", "sms_daily_cap": 2**63}, "sms_daily_cap"),
        ("/api/v1/organizations/{org}/workspaces", {"name": "W", "departments": ["x" * 100_000]}, "departments.0"),
        ("/api/v1/organizations/{org}/workspaces", {"name": "W", "app_url": "https://" + "x" * 600}, "app_url"),
    ],
)
def test_oversize_values_are_refused(ctx: Context, org: Any, url: str, body: dict[str, Any], field: str) -> None:
    api = client(ctx, api_token(ctx, None))
    refused(api.post(url.format(org=org.id), json=body), field)


def test_out_of_range_numeric_ids_are_refused(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    assert api.post(f"/api/v1/messages/{2**70}/retry").status_code in (404, 422)
    assert api.get(f"/api/v1/workspaces/{workspace.id}/events", params={"before": 2**70}).status_code == 422


def test_lone_surrogates_and_bad_utf8_are_refused_or_not_found(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{workspace.id}/members"
    body = '{"email": "a@example.com", "first_name": "A\\ud800"}'
    refused(api.post(url, content=body, headers={"content-type": "application/json"}), "first_name")
    assert api.get(f"{url}?q=%ED%A0%80%FF").status_code == 200
    assert api.get("/api/v1/members/%ED%A0%80").status_code == 404

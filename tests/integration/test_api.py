"""The REST API's contract: error envelope, validation, authentication, no secrets out."""

from __future__ import annotations

import re
from typing import Any

from support.api import api_token, client
from support.outbox import token_for

from admit.shared.context import Context

PASSWORD = "velvet-compass-ember-38"
SECRET = re.compile(r"adm_(inv|pwr|evc|acc|sul|api)_")


def test_openapi_document_lists_every_resource(ctx: Context) -> None:
    paths = client(ctx).get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/organizations",
        "/api/v1/workspaces/{workspace_id}/members",
        "/api/v1/members/{member_id}/suspend",
        "/api/v1/invitations/{invitation_id}/resend",
        "/api/v1/invitations/{invitation_id}/revoke",
        "/api/v1/me/invitations",
        "/api/v1/invitations/accept",
        "/api/v1/sessions",
    ):
        assert path in paths


def test_missing_or_bad_credentials_get_401_in_the_envelope(ctx: Context, workspace: Any) -> None:
    response = client(ctx).get(f"/api/v1/workspaces/{workspace.id}/members")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "invalid_credentials", "field": None, "message": response.json()["error"]["message"]}
    }
    assert client(ctx, "adm_api_nope").get(f"/api/v1/workspaces/{workspace.id}/members").status_code == 401


def test_validation_errors_name_the_field(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    bad_email = api.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "not-an-email"})
    assert bad_email.status_code == 422
    assert bad_email.json()["error"]["code"] == "validation_failed" and bad_email.json()["error"]["field"] == "email"
    bad_role = api.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "a@example.com", "role": "king"})
    assert bad_role.status_code == 422 and bad_role.json()["error"]["field"] == "role"
    lifetime = api.post(
        f"/api/v1/organizations/{org.id}/workspaces", json={"name": "X", "invitation_lifetime_days": 31}
    )
    assert lifetime.status_code == 422 and lifetime.json()["error"]["field"] == "invitation_lifetime_days"
    unknown = api.get("/api/v1/nowhere")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_responses_never_carry_invitation_or_api_secrets(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    bodies = []
    created = api.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "a@example.com", "invite": True})
    bodies.append(created.text)
    invitation_id = created.json()["invitation"]["id"]
    bodies.append(api.post(f"/api/v1/invitations/{invitation_id}/resend", json={"message": "Welcome!"}).text)
    bodies.append(api.get(f"/api/v1/workspaces/{workspace.id}/invitations").text)
    bodies.append(api.get(f"/api/v1/invitations/{invitation_id}").text)
    bodies.append(
        api.post(
            "/api/v1/invitations/accept", json={"token": token_for(ctx, "a@example.com"), "password": PASSWORD}
        ).text
    )
    for body in bodies:
        assert not SECRET.search(body), body


def test_signed_in_person_sees_and_answers_pending_invitations(ctx: Context, org: Any, workspace: Any) -> None:
    admin = client(ctx, api_token(ctx, org.id))
    admin.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "a@example.com", "invite": True})
    client(ctx).post(
        "/api/v1/invitations/accept", json={"token": token_for(ctx, "a@example.com"), "password": PASSWORD}
    )
    other = admin.post(f"/api/v1/organizations/{org.id}/workspaces", json={"name": "Second"}).json()
    third = admin.post(f"/api/v1/organizations/{org.id}/workspaces", json={"name": "Third"}).json()
    admin.post(f"/api/v1/workspaces/{other['id']}/invitations", json={"email": "a@example.com", "message": "Hi"})
    admin.post(f"/api/v1/workspaces/{third['id']}/invitations", json={"email": "a@example.com"})
    session = client(ctx).post("/api/v1/sessions", json={"identifier": "a@example.com", "password": PASSWORD}).json()
    me = client(ctx, session["token"])
    pending = me.get("/api/v1/me/invitations").json()
    assert sorted(p["workspace_name"] for p in pending) == ["Second", "Third"]
    by_name = {p["workspace_name"]: p["id"] for p in pending}
    assert me.post(f"/api/v1/me/invitations/{by_name['Second']}/accept").json()["status"] == "active"
    assert me.post(f"/api/v1/me/invitations/{by_name['Third']}/decline").json()["state"] == "declined"
    assert me.get("/api/v1/me/invitations").json() == []
    again = me.post(f"/api/v1/me/invitations/{by_name['Third']}/accept")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitation_declined"
    assert me.delete("/api/v1/sessions/current").status_code == 204
    assert me.get("/api/v1/me/invitations").status_code == 401


def test_workspace_settings_can_be_changed_by_admins_only(ctx: Context, org: Any, workspace: Any) -> None:
    admin = client(ctx, api_token(ctx, org.id))
    changed = admin.patch(f"/api/v1/workspaces/{workspace.id}", json={"sms_enabled": True, "sms_daily_cap": 5})
    assert changed.status_code == 200 and changed.json()["sms_enabled"] is True and changed.json()["sms_daily_cap"] == 5
    bad = admin.patch(f"/api/v1/workspaces/{workspace.id}", json={"invitation_lifetime_days": 0})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "invitation_lifetime_days"
    member = client(ctx, api_token(ctx, org.id, role="member"))
    denied = member.patch(f"/api/v1/workspaces/{workspace.id}", json={"sms_enabled": False})
    assert denied.status_code == 403
    assert admin.get(f"/api/v1/workspaces/{workspace.id}").json()["sms_enabled"] is True

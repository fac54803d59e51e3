"""Self-sign-up through the REST API and the command line, on both databases: the same rules as
the console (never above member, a tampered department refused, another tenant not found), the
links' life (create, pause, rotate, delete) and the approval queue."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import messages
from support.processes import admit

from admit.admin import signup_links, signup_settings, tenancy
from admit.flows.signup import self_sign_up
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"


@pytest.fixture
def shop(ctx: Context, operator: Actor, workspace: Any) -> Any:
    return tenancy.update_workspace(ctx, operator, workspace.id, {"departments": ["Bakery", "Tills"]})


def test_the_api_manages_settings_links_and_the_queue(ctx: Context, operator: Actor, shop: Any) -> None:
    api = client(ctx, api_token(ctx, shop.organization_id, role="admin"))
    base = f"/api/v1/workspaces/{shop.id}"
    refused = api.patch(f"{base}/signup-settings", json={"enabled": True, "default_role": "admin"})
    assert refused.status_code == 422
    refused = api.patch(f"{base}/signup-settings", json={"enabled": True, "departments_pickable": ["Moon base"]})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "departments_pickable"
    saved = api.patch(f"{base}/signup-settings", json={"approval_required": True, "allowed_domains": ["example.com"]})
    assert saved.status_code == 200 and saved.json()["allowed_domains"] == ["example.com"]
    assert api.get(f"{base}/signup-settings").json()["approval_required"] is True
    assert api.post(f"{base}/signup-links", json={"department": "Tills", "role": "owner"}).status_code == 422
    assert api.post(f"{base}/signup-links", json={"department": "<script>"}).status_code == 422
    bad_day = api.post(f"{base}/signup-links", json={"department": "Tills", "expires_on": "2099-02-30"})
    assert bad_day.status_code == 422 and bad_day.json()["error"]["field"] == "expires_at"
    created = api.post(f"{base}/signup-links", json={"department": "Tills", "max_uses": 3, "expires_on": "2099-01-31"})
    assert created.status_code == 201
    link = created.json()
    assert link["url"].startswith("https://admit.example.test/join/adm_sul_") and link["uses"] == 0
    assert link["expires_at"].startswith("2099-01-31T23:59:59")
    paused = api.post(f"{base}/signup-links/{link['id']}/pause")
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    rotated = api.post(f"{base}/signup-links/{link['id']}/rotate").json()
    assert rotated["url"] != link["url"]
    assert api.post(f"{base}/signup-links/{link['id']}/explode").status_code in (404, 405)
    assert api.post(f"{base}/signup-links/{'0' * 32}/resume").status_code == 404
    assert api.post(f"{base}/signup-links/x%00y/resume").status_code in (404, 422)
    api.post(f"{base}/signup-links/{link['id']}/resume")
    token = rotated["url"].rsplit("/", 1)[1]
    handle = self_sign_up.request(ctx, link_token=token, first_name="Di", last_name="Ko", email="di@example.com")
    code = messages(ctx, recipient="di@example.com", kind="email_verification")[-1]["payload"]["code"]
    self_sign_up.verify(ctx, handle, code)
    assert self_sign_up.complete(ctx, handle, PASSWORD)["status"] == "pending_approval"
    queue = api.get(f"{base}/signup-requests").json()
    assert [q["email"] for q in queue] == ["di@example.com"]
    approved = api.post(f"{base}/signup-requests/{queue[0]['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert api.post(f"{base}/signup-requests/{queue[0]['id']}/reject").status_code == 409
    assert api.get(f"{base}/signup-links").json()[0]["uses"] == 1
    assert api.delete(f"{base}/signup-links/{link['id']}").status_code == 204
    assert api.get(f"{base}/signup-links").json() == []


def test_the_api_refuses_members_and_other_tenants(ctx: Context, operator: Actor, shop: Any) -> None:
    member = client(ctx, api_token(ctx, shop.organization_id, role="member"))
    assert member.patch(f"/api/v1/workspaces/{shop.id}/signup-settings", json={"enabled": True}).status_code == 403
    assert member.post(f"/api/v1/workspaces/{shop.id}/signup-links", json={"department": "Tills"}).status_code == 403
    other_org = tenancy.create_organization(ctx, operator, "Other", plan="business", seats=5)
    stranger = client(ctx, api_token(ctx, other_org.id, role="owner"))
    assert stranger.get(f"/api/v1/workspaces/{shop.id}/signup-links").status_code == 404
    assert signup_settings.get(ctx, operator, shop.id).enabled is False


def test_the_cli_creates_lists_pauses_rotates_and_deletes_links(
    database_url: str, ctx: Context, operator: Actor, shop: Any
) -> None:
    refused = admit(
        database_url, "signup-link", "create", shop.id, "--department", "Tills", "--role", "admin", check=False
    )
    assert refused.returncode != 0 and "member or guest" in refused.stdout + refused.stderr
    refused = admit(database_url, "signup-link", "create", shop.id, "--department", "Moon base", check=False)
    assert refused.returncode != 0
    created = admit(
        database_url,
        "signup-link",
        "create",
        shop.id,
        "--department",
        "Tills",
        "--max-uses",
        "10",
        "--expires",
        "2099-01-31",
    )
    assert "/join/adm_sul_" in created.stdout
    link = signup_links.list_links(ctx, operator, shop.id)[0]
    assert (link.department, link.max_uses, link.expires_at.year if link.expires_at else None) == ("Tills", 10, 2099)
    listed = admit(database_url, "signup-link", "list", shop.id).stdout
    assert link.id in listed
    assert "paused" in admit(database_url, "signup-link", "pause", shop.id, link.id).stdout
    rotated = admit(database_url, "signup-link", "rotate", shop.id, link.id).stdout
    assert "rotated" in rotated
    admit(database_url, "signup-link", "delete", shop.id, link.id)
    assert signup_links.list_links(ctx, operator, shop.id) == []
    assert "Nobody is waiting" in admit(database_url, "signup-request", "list", shop.id).stdout

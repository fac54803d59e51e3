"""The webhook endpoints' REST API: who may manage which endpoint, the secret shown once, hostile
input refused with a clear error. Both databases."""

from __future__ import annotations

from typing import Any

from support.api import api_token, client

from admit.admin import tenancy
from admit.shared.context import Actor, Context

URL = "https://hooks.acme.example.test/admit"


def test_organization_token_manages_organization_wide_endpoints_secret_shown_once(
    ctx: Context, operator: Actor, org: Any
) -> None:
    api = client(ctx, api_token(ctx, org.id, role="owner"))
    created = api.post(
        f"/api/v1/organizations/{org.id}/webhooks", json={"url": URL, "event_types": ["member.suspended"]}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True and body["workspace_id"] is None
    assert body["event_types"] == ["member.suspended"]
    base = f"/api/v1/organizations/{org.id}/webhooks/{body['id']}"
    shown = api.get(base).json()
    assert "secret" not in shown and body["secret"] not in api.get(f"/api/v1/organizations/{org.id}/webhooks").text
    rotated = api.post(f"{base}/rotate").json()
    assert rotated["secret"] != body["secret"] and rotated["previous_until"] is not None
    assert api.post(f"{base}/disable").json()["enabled"] is False
    assert api.post(f"{base}/enable").json()["enabled"] is True
    sent = api.post(f"{base}/test")
    assert sent.status_code == 202 and sent.json()["webhook_id"].startswith("msg_")
    log = api.get(f"{base}/deliveries").json()
    [message] = log["messages"]
    assert message["type"] == "webhook.test" and message["state"] == "queued" and log["attempts"] == []
    assert api.post(f"{base}/messages/{message['id']}/replay").json() == {"count": 1}
    assert api.post(f"{base}/redeliver", json={"since": "2020-01-01T00:00:00Z"}).json() == {"count": 1}
    assert api.post(f"{base}/messages/999999/replay").status_code == 404


def test_workspace_token_manages_only_its_workspace_and_sees_organization_wide_read_only(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    owner = client(ctx, api_token(ctx, org.id, role="owner"))
    everywhere = owner.post(f"/api/v1/organizations/{org.id}/webhooks", json={"url": URL}).json()
    limited = client(ctx, api_token(ctx, org.id, role="admin", workspace_id=workspace.id))
    mine = limited.post(f"/api/v1/organizations/{org.id}/webhooks", json={"url": URL})
    assert mine.status_code == 201 and mine.json()["workspace_id"] == workspace.id
    listed = limited.get(f"/api/v1/organizations/{org.id}/webhooks").json()
    assert {(w["id"], w["manageable"]) for w in listed} == {(everywhere["id"], False), (mine.json()["id"], True)}
    refused = limited.post(f"/api/v1/organizations/{org.id}/webhooks/{everywhere['id']}/disable")
    assert refused.status_code == 403
    other = tenancy.create_workspace(ctx, operator, org.id, "Other")
    elsewhere = limited.post(f"/api/v1/organizations/{org.id}/webhooks", json={"url": URL, "workspace_id": other.id})
    assert elsewhere.status_code == 404


def test_low_roles_cannot_manage_webhooks(ctx: Context, operator: Actor, org: Any) -> None:
    api = client(ctx, api_token(ctx, org.id, role="member"))
    response = api.post(f"/api/v1/organizations/{org.id}/webhooks", json={"url": URL})
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_hostile_input_gets_a_clear_error(ctx: Context, operator: Actor, org: Any) -> None:
    api = client(ctx, api_token(ctx, org.id, role="owner"))
    path = f"/api/v1/organizations/{org.id}/webhooks"
    for body, field in (
        ({"url": "https://10.1.2.3/x"}, "url"),
        ({"url": "https://hooks.example.test/<script>\x00"}, "NUL"),
        ({"url": "http://hooks.example.test/x"}, "url"),
        ({"url": URL, "event_types": ["member.exploded"]}, "event_types"),
        ({"url": URL, "event_types": "member.suspended"}, "event_types"),
        ({"url": 42}, "url"),
        ({"url": "https://h.example.test/" + "a" * 5000}, "url"),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.text
    created = api.post(path, json={"url": URL}).json()
    bad = api.post(f"{path}/{created['id']}/redeliver", json={"since": "yesterday"})
    assert bad.status_code == 422 and "ISO 8601" in bad.text

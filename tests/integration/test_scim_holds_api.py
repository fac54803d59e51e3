"""The SCIM brake's held changes over the REST API, on both databases: 30 members, an identity
provider's deactivations one by one (the first six applied, the seventh held), the administrators
told once, listing, releasing by id, dismissing all; refusals (a member's token, a malformed body,
an unknown id) answered as errors."""

from __future__ import annotations

from typing import Any

from support.api import api_token, client
from support.outbox import messages
from test_admin_apps import account
from test_scim_brake import people, statuses
from test_scim_lifecycle import scim_actor

from admit.admin import members
from admit.shared.context import Actor, Context


def test_held_deactivations_are_listed_released_and_dismissed_over_the_api(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com", role="admin")
    ids = people(ctx, operator, workspace, 29)
    scim = scim_actor(ctx, operator, org, workspace)
    assert [members.suspend(ctx, scim, m).status for m in ids[:9]] == ["suspended"] * 6 + ["provisioned"] * 3
    assert [m["recipient"] for m in messages(ctx, kind="scim_brake")] == ["olga@example.com"]
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    path = f"/api/v1/workspaces/{workspace.id}/scim-holds"
    listed = api.get(path)
    assert listed.status_code == 200, listed.text
    held = listed.json()
    assert [h["member_id"] for h in held] == ids[6:9] and held[0]["action"] == "deactivate"
    assert held[0]["address"] == "p6@example.com" and held[0]["token_name"] == "Entra ID"
    released = api.post(f"{path}/release", json={"ids": [held[0]["id"]]})
    assert released.status_code == 200 and released.json() == {"done": [held[0]["id"]], "refused": []}
    assert statuses(ctx, operator, ids[6:9]) == ["suspended", "provisioned", "provisioned"]
    dismissed = api.post(f"{path}/dismiss", json={"all": True})
    assert dismissed.status_code == 200 and sorted(dismissed.json()["done"]) == sorted(h["id"] for h in held[1:])
    assert statuses(ctx, operator, ids[7:9]) == ["provisioned", "provisioned"]
    assert api.get(path).json() == []
    again = api.post(f"{path}/release", json={"ids": [held[0]["id"]]})
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


def test_holds_refuse_low_roles_and_malformed_bodies(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    path = f"/api/v1/workspaces/{workspace.id}/scim-holds"
    low = client(ctx, api_token(ctx, org.id, role="member"))
    assert low.get(path).status_code == 403
    assert low.post(f"{path}/release", json={"all": True}).status_code == 403
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    for body in ({}, {"ids": ["a"], "all": True}, {"ids": "all"}, {"ids": [1]}, {"ids": ["x" * 33]}, {"all": "yes"}):
        refused = api.post(f"{path}/dismiss", json=body)
        assert refused.status_code == 422, (body, refused.text)
    assert api.post(f"{path}/dismiss", json={"ids": []}).status_code == 422
    assert api.post(f"{path}/dismiss", content=b"\x00", headers={"content-type": "application/json"}).status_code in (
        400,
        422,
    )
    assert api.post(f"{path}/dismiss", json={"ids": ["<b>nope</b>"]}).status_code == 404

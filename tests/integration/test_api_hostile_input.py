"""REST API input an outside sweep sent that answered 500 or was taken without a word: hand-made
page cursors (a timestamp without its zone reached SQL; an id cut short repeated rows), a group's
members cursor that is no id (an empty page, read as "no more"), a webhook URL with a space in its
host, an app's redirect URI with a wildcard host, a group's workspace named without a role (dropped
unsaid). Each is a 422 naming the field, with nothing written."""

from __future__ import annotations

from typing import Any

from support.api import api_token, client

from admit.admin import members
from admit.admin.profiles import MemberInput
from admit.shared.context import Actor, Context


def refused(response: Any, field: str, words: str = "") -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and words in error["message"], error


def items(response: Any) -> list[Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    return list(body["items"] if isinstance(body, dict) else body)


def test_cursors_no_page_gave_are_refused(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    for n in range(3):
        members.provision(ctx, operator, workspace.id, MemberInput(email=f"p{n}@example.com"), invite=True)
    api = client(ctx, api_token(ctx, org.id))
    first = api.get(f"/api/v1/workspaces/{workspace.id}/members", params={"limit": 2})
    assert first.status_code == 200
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    following = api.get(f"/api/v1/workspaces/{workspace.id}/members", params={"limit": 2, "cursor": cursor})
    assert following.status_code == 200 and len(following.json()["items"]) == 1
    for listing in ("members", "invitations"):
        path = f"/api/v1/workspaces/{workspace.id}/{listing}"
        for made_up in ("2026-01-01~x", "2026-01-01T00:00:00~" + "a" * 32, cursor[:-2], "garbage", "~"):
            refused(api.get(path, params={"cursor": made_up}), "cursor", "not valid")
    group = api.post(f"/api/v1/organizations/{org.id}/groups", json={"name": "Crew"})
    assert group.status_code == 201, group.text
    refused(api.get(f"/api/v1/organizations/{org.id}/groups/{group.json()['id']}", params={"cursor": "zzz"}), "cursor")


def test_addresses_that_are_no_host_are_refused(ctx: Context, org: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    for url in ("https://exa mple.com/h", "https://*.example.com/h", "https://a_b.example.com/h"):
        refused(api.post(f"/api/v1/organizations/{org.id}/webhooks", json={"url": url}), "url", "host")
    assert items(api.get(f"/api/v1/organizations/{org.id}/webhooks")) == []
    for uri in ("https://*.example.com/cb", "https://exa mple.com/cb", "https://app..example.com/cb"):
        body = {"name": "App", "redirect_uris": [uri]}
        answer = api.post(f"/api/v1/organizations/{org.id}/clients", json=body)
        assert answer.status_code == 422 and "redirect_uris" in answer.text, answer.text
    assert items(api.get(f"/api/v1/organizations/{org.id}/clients")) == []
    good = api.post(
        f"/api/v1/organizations/{org.id}/clients", json={"name": "App", "redirect_uris": ["https://bücher.example/cb"]}
    )
    assert good.status_code == 201, good.text


def test_a_group_workspace_without_a_role_is_refused_not_dropped(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    base = f"/api/v1/organizations/{org.id}/groups"
    refused(api.post(base, json={"name": "Ops", "workspace_id": workspace.id}), "workspace_id", "role")
    assert items(api.get(base)) == []
    made = api.post(base, json={"name": "Ops"}).json()
    refused(api.patch(f"{base}/{made['id']}", json={"workspace_id": workspace.id}), "workspace_id", "role")
    granted = api.patch(f"{base}/{made['id']}", json={"workspace_id": workspace.id, "role": "member"})
    assert granted.status_code == 200 and granted.json()["workspace_id"] == workspace.id, granted.text
    dropped = api.patch(f"{base}/{made['id']}", json={"role": None})
    assert dropped.status_code == 200 and dropped.json()["workspace_id"] is None, dropped.text


def test_settings_take_true_false_and_numbers_as_such(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    path = f"/api/v1/workspaces/{workspace.id}"
    before = api.get(path).json()
    for body, field in (
        ({"invitation_lifetime_days": True}, "invitation_lifetime_days"),
        ({"invitation_lifetime_days": "7"}, "invitation_lifetime_days"),
        ({"email_enabled": "no"}, "email_enabled"),
        ({"email_enabled": 0}, "email_enabled"),
    ):
        answer = api.patch(path, json=body)
        assert answer.status_code == 422 and field in answer.text, answer.text
    assert api.get(path).json() == before
    assert api.patch(path, json={"invitation_lifetime_days": 9, "email_enabled": False}).status_code == 200
    invited = api.post(f"{path}/members", json={"email": "n@example.com", "invite": "yes"})
    assert invited.status_code == 422 and "invite" in invited.text, invited.text
    assert items(api.get(f"{path}/members")) == []


def test_a_nul_is_refused_naming_the_field_it_is_in(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    members_url = f"/api/v1/workspaces/{workspace.id}/members"
    refused(api.post(members_url, json={"email": "f@example.com", "first_name": "a\u0000b"}), "first_name", "NUL")
    patch = api.patch(f"/api/v1/workspaces/{workspace.id}", json={"departments": ["Sales", "Ops\u0000"]})
    refused(patch, "departments.1", "NUL")
    assert items(api.get(members_url)) == []


def test_every_request_body_takes_true_false_as_such(ctx: Context, org: Any) -> None:
    api = client(ctx, api_token(ctx, org.id, role="owner"))
    before = api.get(f"/api/v1/organizations/{org.id}/licences")
    assert before.status_code == 200, before.text
    slip = api.patch(f"/api/v1/organizations/{org.id}/licences", json={"reserve_seats_for_invitations": "no"})
    assert slip.status_code == 422 and "reserve_seats_for_invitations" in slip.text, slip.text
    assert api.get(f"/api/v1/organizations/{org.id}/licences").json() == before.json()

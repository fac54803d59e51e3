"""Changing an app after its registration, on both databases: through the REST API (PATCH, a new
secret), the same rules as at registration, the type and the secret-or-keys choice kept, who may
move an app between workspaces, and what stops when an app's registration narrows (its refresh
tokens). The CLI's doors are in tests/e2e/test_cli.py; the console's in test_admin_apps.py."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.oidc_flow import REDIRECT, authorize, code_for, exchange, join, register, signed_in

from admit.admin import tenancy
from admit.domain.errors import PermissionDenied, ValidationFailed
from admit.oidc_provider import clients
from admit.shared.context import Actor, Context

EMAIL = "ada@acme.example"
OTHER = "https://shop.example.test/other-callback"


def _path(org_id: str, client_id: str) -> str:
    return f"/api/v1/organizations/{org_id}/clients/{client_id}"


def test_the_api_changes_only_what_is_sent_and_checks_it_as_at_registration(
    ctx: Context, org: Any, workspace: Any
) -> None:
    client_id, _ = register(ctx, org.id, backchannel_logout_uri="https://shop.example.test/logout")
    api = client(ctx, api_token(ctx, org.id))
    changed = api.patch(_path(org.id, client_id), json={"name": "Shop two", "redirect_uris": [REDIRECT, OTHER]})
    assert changed.status_code == 200, changed.text
    app = changed.json()
    assert (app["name"], app["redirect_uris"]) == ("Shop two", [REDIRECT, OTHER])
    assert app["backchannel_logout_uri"] == "https://shop.example.test/logout" and app["client_secret_set"]
    assert "client_secret" not in app and "secret_digest" not in app
    emptied = api.patch(_path(org.id, client_id), json={"backchannel_logout_uri": None}).json()
    assert emptied["backchannel_logout_uri"] is None and emptied["name"] == "Shop two"
    for body, field in [
        ({"redirect_uris": []}, "redirect_uris"),
        ({"redirect_uris": ["http://shop.example.test/cb"]}, "redirect_uris"),
        ({"allowed_scopes": ["email"]}, "allowed_scopes"),
        ({"name": " "}, "name"),
        ({"workspace_ids": ["nope"]}, "workspace_ids"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "token_endpoint_auth_method"),
        ({"token_endpoint_auth_method": "none"}, "token_endpoint_auth_method"),
    ]:
        refused = api.patch(_path(org.id, client_id), json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.text, (body, refused.text)
    typed = api.patch(_path(org.id, client_id), json={"client_type": "public"})
    assert typed.status_code == 422  # not a field that changes: the type stays
    assert api.get(_path(org.id, client_id)).json()["client_type"] == "confidential"
    member_api = client(ctx, api_token(ctx, org.id, role="member"))
    assert member_api.patch(_path(org.id, client_id), json={"name": "Mine"}).status_code == 403
    assert client(ctx, api_token(ctx, None)).patch(_path(org.id, "x" * 32), json={"name": "A"}).status_code == 404


def test_a_changed_redirect_uri_is_matched_exactly_from_then_on(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id, _ = register(ctx, org.id)
    clients.update(ctx, Actor.operator(), org.id, client_id, {"redirect_uris": [OTHER]})
    browser = signed_in(ctx, EMAIL)
    refused = authorize(browser, client_id)  # the old URI: an error page, no redirect
    assert refused.status_code == 400 and "location" not in refused.headers
    moved = authorize(browser, client_id, redirect_uri=OTHER)
    assert moved.status_code == 302 and moved.headers["location"].startswith(OTHER + "?code=")


def test_narrowing_an_app_ends_its_refresh_tokens(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id, secret = register(ctx, org.id, grant_types=["authorization_code", "refresh_token"])
    browser, code = code_for(ctx, client_id, EMAIL)
    tokens = exchange(browser, client_id, secret, code["code"]).json()
    renamed = clients.update(ctx, Actor.operator(), org.id, client_id, {"name": "Shop renamed"})
    assert renamed["name"] == "Shop renamed"
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    kept = browser.post("/oauth2/token", data=form, auth=(client_id, secret))
    assert kept.status_code == 200, kept.text  # a new name takes nothing away
    clients.update(ctx, Actor.operator(), org.id, client_id, {"allowed_scopes": ["openid", "email"]})
    form["refresh_token"] = kept.json()["refresh_token"]
    ended = browser.post("/oauth2/token", data=form, auth=(client_id, secret))
    assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"
    with ctx.uow() as uow:
        [event] = [
            e for e in uow.events.list(org.id) if e.action == "client.updated" and e.data["revoked_refresh_tokens"]
        ]
    assert event.data["changed"] == ["allowed_scopes"] and event.data["revoked_refresh_tokens"] == 1


def test_a_new_secret_replaces_the_old_one_at_once(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id, old = register(ctx, org.id)
    api = client(ctx, api_token(ctx, org.id))
    answer = api.post(_path(org.id, client_id) + "/secret")
    assert answer.status_code == 200, answer.text
    new = answer.json()["client_secret"]
    assert new.startswith("adm_cls_") and new != old
    browser, first = code_for(ctx, client_id, EMAIL)
    assert exchange(browser, client_id, old, first["code"]).json()["error"] == "invalid_client"
    _, second = code_for(ctx, client_id, EMAIL)
    assert exchange(browser, client_id, new, second["code"]).status_code == 200
    public_id, _ = register(ctx, org.id, name="SPA", client_type="public")
    refused = api.post(_path(org.id, public_id) + "/secret")
    assert refused.status_code == 422 and "no secret" in refused.text
    with ctx.uow() as uow:
        rotated = [e for e in uow.events.list(org.id) if e.action == "client.secret_rotated"]
    assert len(rotated) == 1 and new not in str(rotated[0].data)


def test_a_person_moves_an_app_only_between_workspaces_they_manage(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    from test_admin_apps import account  # the console's administrators

    other = tenancy.create_workspace(ctx, operator, org.id, "Other")
    admin = account(ctx, operator, workspace, "olga@example.com")
    client_id, _ = register(ctx, org.id, workspace_ids=[workspace.id])
    with pytest.raises(PermissionDenied):
        clients.update(
            ctx, admin, org.id, client_id, {"workspace_ids": [workspace.id, other.id]}, workspace_id=workspace.id
        )
    with pytest.raises(PermissionDenied):  # every workspace: the organization's to decide
        clients.update(ctx, admin, org.id, client_id, {"workspace_ids": []}, workspace_id=workspace.id)
    with pytest.raises(ValidationFailed) as caught:
        clients.update(ctx, admin, org.id, client_id, {"secret_digest": "x"}, workspace_id=workspace.id)
    assert caught.value.field == "secret_digest"
    done = clients.update(ctx, admin, org.id, client_id, {"name": "Ours"}, workspace_id=workspace.id)
    assert done["name"] == "Ours" and done["manageable"] is True
    with ctx.uow() as uow:
        [event] = [e for e in uow.events.list(org.id) if e.action == "client.updated"]
    assert event.workspace_id == workspace.id  # shown in that workspace's audit log


def test_the_code_flow_still_works_after_an_update(ctx: Context, org: Any, workspace: Any) -> None:
    join(ctx, workspace.id, EMAIL)
    client_id, secret = register(ctx, org.id)
    clients.update(ctx, Actor.operator(), org.id, client_id, {"token_endpoint_auth_method": "client_secret_post"})
    browser, code = code_for(ctx, client_id, EMAIL)
    form = {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": REDIRECT}
    basic = browser.post("/oauth2/token", data=form, auth=(client_id, secret))
    assert basic.status_code == 401  # the method it registered now: the secret in the form
    _, code = code_for(ctx, client_id, EMAIL)
    posted = {**form, "code": code["code"], "client_id": client_id, "client_secret": secret}
    assert browser.post("/oauth2/token", data=posted).status_code == 200

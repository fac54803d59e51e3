"""Tenant A can never read or change tenant B: every API route that takes an id answers 404
for B's ids when called with A's token, and B's data stays as it was. Runs on both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.api import api_token, client
from support.oidc_providers import mock_provider
from support.outbox import messages, token_for

from admit.admin import (
    bulk_invites,
    groups,
    identity_providers,
    invitations,
    jobs,
    members,
    organization_invitations,
    scim_tokens,
    signup_links,
    signup_settings,
    tenancy,
    webhooks,
)
from admit.admin.identity_providers import ProviderInput
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.flows.signup import self_sign_up
from admit.oidc_provider import clients as oidc_clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context

PASSWORD = "saffron-harbour-kite-19"
BODY = {
    "name": "Intruder",
    "email": "intruder@example.com",
    "first_name": "Mallory",
    "message": "hi",
    "issuer": "https://idp.intruder.example",
    "client_id": "intruder",
    "client_secret": "intruder-secret",
    "redirect_uris": ["https://intruder.example/callback"],
    "member_ids": ["intruder"],
    "password": "intruder-granite-tulip-58",
    "ids": ["intruder"],  # SCIM holds to release or dismiss
    "url": "https://hooks.intruder.example.test/in",  # a webhook endpoint
    "since": "2026-01-01T00:00:00Z",  # webhooks to redeliver
    "organization_id": "intruder",  # a seller's invitation into a customer (issue 17)
    "workspace_id": "intruder",
}


def _tenant(ctx: Context, operator: Actor, name: str) -> dict[str, str]:
    org = tenancy.create_organization(ctx, operator, name, plan="enterprise")
    ws = tenancy.create_workspace(ctx, operator, org.id, f"{name} workspace")
    with mock_provider() as issuer:  # its discovery document is read when it is added
        provider = identity_providers.create(
            ctx, operator, org.id, ProviderInput(f"{name} IdP", issuer, name, "secret")
        )
    active, _ = members.provision(ctx, operator, ws.id, MemberInput(email=f"active@{name}.example.com"), invite=True)
    joined = claims.accept_with_token(ctx, token_for(ctx, f"active@{name}.example.com"), password=PASSWORD)
    invited, invitation = members.provision(
        ctx, operator, ws.id, MemberInput(email=f"invited@{name}.example.com"), invite=True
    )
    assert invitation is not None
    [message] = messages(ctx, recipient=f"invited@{name}.example.com")
    job = bulk_invites.invite_all(ctx, operator, ws.id)
    app, _ = oidc_clients.create(ctx, operator, org.id, ClientInput(f"{name} app", [f"https://{name}.example/cb"]))
    link_id, request_id = _sign_up(ctx, operator, ws.id, name)
    scim_token, _ = scim_tokens.create(ctx, operator, org.id, name=f"{name} IdP", workspace_id=ws.id)
    group = groups.create(ctx, operator, org.id, f"{name} group")
    groups.add_members(ctx, operator, org.id, group.id, [active.id])
    hook, _ = webhooks.create(ctx, operator, org.id, url=f"https://hooks.{name}.example.test/in")
    webhooks.send_test(ctx, operator, org.id, hook["id"])
    hook_message = webhooks.deliveries(ctx, operator, org.id, hook["id"])["messages"][0]
    org_invitation, _ = organization_invitations.invite(ctx, operator, org.id, f"joiner@{name}.example.com")
    return {
        "org_invitation_id": org_invitation.id,  # an invitation to join the organization (issue 17)
        "webhook_id": hook["id"],
        "webhook_message_id": str(hook_message["id"]),
        "token_id": scim_token["id"],
        "group_id": group.id,
        "link_id": link_id,
        "request_id": request_id,
        "client_id": app["client_id"],
        "job_id": job.id,
        "message_id": str(message["id"]),
        "organization_id": org.id,
        "workspace_id": ws.id,
        "member_id": invited.id,
        "active_member_id": active.id,
        "account_id": joined["account_id"],  # an organization administrator's (issue 17)
        "invitation_id": invitation.id,
        "provider_id": provider.id,
        "version": "1",  # of a workspace's terms: /me/terms/{workspace_id}/{version}/…
    }


def _sign_up(ctx: Context, operator: Actor, workspace_id: str, name: str) -> tuple[str, str]:
    """A department sign-up link and a sign-up waiting for approval through it."""
    tenancy.update_workspace(ctx, operator, workspace_id, {"departments": ["Tills"]})
    signup_settings.save(ctx, operator, workspace_id, {"approval_required": True})
    link = signup_links.create(ctx, operator, workspace_id, {"department": "Tills"})
    email = f"signup@{name}.example.com"
    handle = self_sign_up.request(
        ctx, link_token=link.url.rsplit("/", 1)[1], first_name="S", last_name="U", email=email
    )
    self_sign_up.verify(ctx, handle, messages(ctx, recipient=email)[-1]["payload"]["code"])
    self_sign_up.complete(ctx, handle, PASSWORD)
    return link.id, signup_settings.queue(ctx, operator, workspace_id)[0].id


# Public doors: the id in their path is itself the capability (a department link's token, a
# workspace whose sign-up form is open to anyone); no organization's token is involved.
PUBLIC_DOORS = ("/api/v1/signup/", "/api/v1/join/")


def _required_query(operation: dict[str, Any]) -> dict[str, str]:
    """A valid value for each required query parameter, so that only the ids can be wrong."""
    wanted = [p for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")]
    return {p["name"]: (p["schema"].get("enum") or ["x"])[0] for p in wanted}


def _snapshot(ctx: Context, operator: Actor, ids: dict[str, str]) -> Any:
    return (
        members.list_members(ctx, operator, ids["workspace_id"]),
        jobs.get(ctx, operator, ids["job_id"]),
        invitations.list_invitations(ctx, operator, ids["workspace_id"]),
        tenancy.get_workspace(ctx, operator, ids["workspace_id"]),
        identity_providers.list_providers(ctx, operator, ids["organization_id"]),
        oidc_clients.list_clients(ctx, operator, ids["organization_id"]),
        scim_tokens.list_tokens(ctx, operator, ids["organization_id"]),
        signup_links.list_links(ctx, operator, ids["workspace_id"]),
        signup_settings.queue(ctx, operator, ids["workspace_id"]),
        signup_settings.get(ctx, operator, ids["workspace_id"]),
        groups.get(ctx, operator, ids["organization_id"], ids["group_id"]),
        webhooks.list_endpoints(ctx, operator, ids["organization_id"]),
        organization_invitations.list_invitations(ctx, operator, ids["organization_id"]),
        webhooks.deliveries(ctx, operator, ids["organization_id"], ids["webhook_id"]),
    )


def test_token_of_organization_a_gets_404_for_everything_of_organization_b(ctx: Context, operator: Actor) -> None:
    a = _tenant(ctx, operator, "alpha")
    b = _tenant(ctx, operator, "bravo")
    before = _snapshot(ctx, operator, b)
    api = client(ctx, api_token(ctx, a["organization_id"], role="owner"))
    session, _ = sessions.sign_in(ctx, "active@alpha.example.com", PASSWORD)
    as_person = {"authorization": f"Bearer {session}"}
    document = api.get("/api/v1/openapi.json").json()
    routes = [
        (path, method.upper(), _required_query(operation))
        for path, ops in document["paths"].items()
        if "{" in path and not path.startswith(PUBLIC_DOORS)
        for method, operation in ops.items()
    ]
    assert len(routes) >= 15
    checked = 0
    for template, method, query in routes:
        for member_key in ("member_id", "active_member_id"):
            ids = {**b, "member_id": b[member_key]}
            path = re.sub(r"\{(\w+)\}", lambda m, ids=ids: ids[m.group(1)], template)
            headers = as_person if template.startswith("/api/v1/me/") else None
            body = BODY if method in ("POST", "PATCH") else None
            response = api.request(method, path, params=query, json=body, headers=headers)
            assert response.status_code == 404, (method, template, response.text)
            assert response.json()["error"]["code"] == "not_found"
            checked += 1
    assert checked >= 30
    assert _snapshot(ctx, operator, b) == before
    own = api.get(f"/api/v1/workspaces/{a['workspace_id']}/members").json()["items"]
    assert {m["organization_id"] for m in own} == {a["organization_id"]}


def test_workspace_limited_token_cannot_reach_a_sibling_workspace(ctx: Context, operator: Actor) -> None:
    a = _tenant(ctx, operator, "alpha")
    sibling = tenancy.create_workspace(ctx, operator, a["organization_id"], "Sibling")
    api = client(ctx, api_token(ctx, a["organization_id"], workspace_id=sibling.id))
    assert api.get(f"/api/v1/workspaces/{a['workspace_id']}/members").status_code == 404
    assert api.get(f"/api/v1/members/{a['member_id']}").status_code == 404
    assert api.get(f"/api/v1/workspaces/{sibling.id}/members").status_code == 200


@pytest.mark.parametrize("role", ["member", "guest"])
def test_low_roles_cannot_manage_people(ctx: Context, operator: Actor, role: str) -> None:
    a = _tenant(ctx, operator, "alpha")
    api = client(ctx, api_token(ctx, a["organization_id"], role=role))
    response = api.post(f"/api/v1/workspaces/{a['workspace_id']}/members", json={"email": "x@alpha.example.com"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    response = api.post(f"/api/v1/members/{a['active_member_id']}/suspend")
    assert response.status_code == 403


def test_scim_token_of_organization_a_gets_404_for_everything_of_organization_b(ctx: Context, operator: Actor) -> None:
    """Every /scim/v2 route that takes an id (read from the router, so each resource type added
    is covered) answers A's SCIM token 404 for B's ids, and B's data stays as it was."""
    from admit.entrypoints.web import scim

    a = _tenant(ctx, operator, "alpha")
    b = _tenant(ctx, operator, "bravo")
    before = _snapshot(ctx, operator, b)
    _, secret = scim_tokens.create(ctx, operator, a["organization_id"], name="alpha everywhere", role="admin")
    idp = client(ctx, secret)
    routes = [
        (route.path, method)
        for route in scim.router.routes
        if "{" in getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", ()))
    ]
    assert ("/scim/v2/Groups/{group_id}", "PATCH") in routes
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp", "urn:ietf:params:scim:schemas:core:2.0:Group"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Intruder"}],
        "displayName": "Intruder",
    }
    for template, method in routes:
        path = re.sub(
            r"\{(\w+)\}", lambda m: b["group_id"] if m.group(1) == "group_id" else b["active_member_id"], template
        )
        response = idp.request(method, path, json=body if method in ("PUT", "PATCH") else None)
        assert response.status_code == 404, (method, template, response.text)
        assert method == "HEAD" or response.json()["status"] == "404"  # a HEAD answer has no body
    listed = idp.get("/scim/v2/Groups", params={"filter": f'id eq "{b["group_id"]}"'}).json()
    assert listed["totalResults"] == 0
    assert _snapshot(ctx, operator, b) == before

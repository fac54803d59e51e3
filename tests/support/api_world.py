"""A small populated instance for the API suites (fuzzing, input shapes): an enterprise
organization with a workspace, members in each state that matters, an accepted invitation with
its account signed in, a pending one, a job, a message, an identity provider, and a bearer
token for each kind of caller."""

from __future__ import annotations

import atexit
import contextlib
from dataclasses import dataclass, field

from admit.shared.context import Context
from support.api import api_token, client
from support.oidc_providers import mock_provider
from support.outbox import messages, token_for

PASSWORD = "velvet-compass-ember-38"


@dataclass
class World:
    tokens: dict[str, str]  # caller → bearer token
    ids: dict[str, str] = field(default_factory=dict)  # path parameter → a real id


_providers: list[str] = []


def _issuer() -> str:
    """One oidc-provider-mock per test process for every world (its discovery document is read when
    a provider is added; starting and stopping one per world cost half a second of each of the
    ~440 API contract tests); it stops when the process exits."""
    if not _providers:
        stack = contextlib.ExitStack()
        _providers.append(stack.enter_context(mock_provider()))
        atexit.register(stack.close)
    return _providers[0]


def populate(ctx: Context) -> World:
    operator = api_token(ctx, None)
    api = client(ctx, operator)
    org = api.post("/api/v1/organizations", json={"name": "Fuzz", "plan": "enterprise", "seats": 100}).json()
    workspace = api.post(
        f"/api/v1/organizations/{org['id']}/workspaces", json={"name": "Main", "departments": ["Tills"]}
    ).json()
    joined = api.post(
        f"/api/v1/workspaces/{workspace['id']}/members", json={"email": "joined@example.com", "invite": True}
    ).json()
    accepted = client(ctx).post(
        "/api/v1/invitations/accept", json={"token": token_for(ctx, "joined@example.com"), "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    pending = api.post(f"/api/v1/workspaces/{workspace['id']}/invitations", json={"email": "pending@example.com"})
    session = client(ctx).post("/api/v1/sessions", json={"identifier": "joined@example.com", "password": PASSWORD})
    job = api.post(f"/api/v1/workspaces/{workspace['id']}/invitations/all", json={})
    provider = api.post(
        f"/api/v1/organizations/{org['id']}/identity-providers",
        json={"name": "Corp", "issuer": _issuer(), "client_id": "admit", "client_secret": "s3cret"},
    )
    app = api.post(
        f"/api/v1/organizations/{org['id']}/clients",
        json={"name": "Shop", "redirect_uris": ["https://shop.example.test/callback"]},
    )
    scim_token = api.post(f"/api/v1/organizations/{org['id']}/scim-tokens", json={"name": "Entra ID"})
    group = api.post(f"/api/v1/organizations/{org['id']}/groups", json={"name": "Crew"})
    link = api.post(f"/api/v1/workspaces/{workspace['id']}/signup-links", json={"department": "Tills"})
    hook = api.post(f"/api/v1/organizations/{org['id']}/webhooks", json={"url": "https://hooks.fuzz.example.test/in"})
    assert hook.status_code == 201, hook.text
    hook_test = api.post(f"/api/v1/organizations/{org['id']}/webhooks/{hook.json()['id']}/test")
    assert all(r.status_code in (200, 201, 202) for r in (pending, session, job, provider, app, scim_token, group))
    assert link.status_code == 201, link.text
    [hook_message] = api.get(f"/api/v1/organizations/{org['id']}/webhooks/{hook.json()['id']}/deliveries").json()[
        "messages"
    ]
    assert hook_test.status_code == 202
    org_invitation = api.post(f"/api/v1/organizations/{org['id']}/invitations", json={"email": "join@other.example"})
    assert org_invitation.status_code == 201, org_invitation.text
    tokens = {
        "operator": operator,
        "owner": api_token(ctx, org["id"], role="owner"),
        "admin": api_token(ctx, org["id"], role="admin"),
        "member": api_token(ctx, org["id"], role="member"),
        "session": session.json()["token"],
    }
    ids = {
        "organization_id": org["id"],
        "workspace_id": workspace["id"],
        "member_id": joined["member"]["id"],
        "invitation_id": pending.json()["id"],
        "job_id": job.json()["id"],
        "provider_id": provider.json()["id"],
        "client_id": app.json()["client_id"],
        "token_id": scim_token.json()["id"],
        "group_id": group.json()["id"],
        "webhook_id": hook.json()["id"],
        "webhook_message_id": str(hook_message["id"]),
        "account_id": accepted.json()["account_id"],  # an organization administrator's (issue 17)
        "message_id": str(messages(ctx)[-1]["id"]),
        "version": "1",  # of the terms of service
        "token": link.json()["url"].rsplit("/", 1)[1],  # a department sign-up link's (POST /join/{token})
        "org_invitation_id": org_invitation.json()["id"],  # an invitation to join the organization (issue 17)
    }
    return World(tokens, ids)

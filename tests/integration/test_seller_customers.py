"""Issue 17's seller and customer organizations (AppXite), through the REST API on both
databases: the operator makes a seller, its system administrator creates and searches customers,
invites into the seller or a customer with a role (never above the delegated admin role in a
customer) and an identity provider, valid 7 days; the invitee joins under the target workspace's
password policy and terms, only by the chosen provider; the delegated administrator manages a
customer's members and nothing of another seller's; a customer never sees its seller."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.clock import FixedClock
from support.oidc_providers import mock_provider
from support.outbox import token_for

from admit.admin import identity_providers, members, organization_roles, tenancy
from admit.admin import terms as admin_terms
from admit.admin.identity_providers import ProviderInput
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.flows.terms import acceptance
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-63"


def person(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member") -> str:
    """A member who joined with a password; their account id."""
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    account_id = members.get(ctx, operator, created.id).account_id
    assert account_id is not None
    return account_id


def session(ctx: Context, email: str) -> TestClient:
    signed_in = client(ctx).post("/api/v1/sessions", json={"identifier": email, "password": PASSWORD})
    assert signed_in.status_code == 201, signed_in.text
    return client(ctx, signed_in.json()["token"])


@pytest.fixture
def world(ctx: Context, operator: Actor) -> dict[str, Any]:
    """A seller (its administrator Sam signed in) with two customers, and another seller with one."""
    seller = tenancy.create_organization(ctx, operator, "Northwind Cloud", plan="enterprise", seats=50)
    hq = tenancy.create_workspace(ctx, operator, seller.id, "Seller HQ")
    person(ctx, operator, hq, "sam@northwind.example")
    organization_roles.grant(ctx, operator, seller.id, "system_admin", email="sam@northwind.example")
    ops = client(ctx, api_token(ctx, None))
    acme = ops.post(f"/api/v1/organizations/{seller.id}/customers", json={"name": "Acme Foods"})
    assert acme.status_code == 201, acme.text
    sam = session(ctx, "sam@northwind.example")
    bolt = sam.post(f"/api/v1/organizations/{seller.id}/customers", json={"name": "Bolt Motors"})
    assert bolt.status_code == 201, bolt.text
    strict = tenancy.WorkspaceSettings(password_policy="length", invitation_lifetime_days=30)
    acme_ws = tenancy.create_workspace(ctx, operator, acme.json()["id"], "Acme Kitchen", strict)
    bolt_ws = tenancy.create_workspace(ctx, operator, bolt.json()["id"], "Bolt Garage")
    rival = tenancy.create_organization(ctx, operator, "Rival Reseller", plan="enterprise")
    rival_customer = ops.post(f"/api/v1/organizations/{rival.id}/customers", json={"name": "Rival Client"}).json()
    rival_ws = tenancy.create_workspace(ctx, operator, rival_customer["id"], "Rival Client Main")
    return {
        "seller": seller, "hq": hq, "acme": acme.json(), "bolt": bolt.json(), "acme_ws": acme_ws,
        "bolt_ws": bolt_ws, "rival": rival, "rival_ws": rival_ws, "sam": sam, "ops": ops,
    }  # fmt: skip


def invite(api: TestClient, seller_id: str, target: Any, workspace: Any, email: str, **more: Any) -> Any:
    body = {"organization_id": target, "workspace_id": workspace.id, "email": email, **more}
    return api.post(f"/api/v1/organizations/{seller_id}/seller-invitations", json=body)


def test_the_operator_makes_a_seller_whose_administrator_creates_and_searches_customers(
    ctx: Context, operator: Actor, world: dict[str, Any]
) -> None:
    seller, sam, ops = world["seller"], world["sam"], world["ops"]
    assert tenancy.get_organization(ctx, operator, seller.id).kind == "seller"
    assert world["acme"]["kind"] == "customer" and world["acme"]["parent_id"] == seller.id
    listed = sam.get(f"/api/v1/organizations/{seller.id}/customers")
    assert [c["name"] for c in listed.json()] == ["Acme Foods", "Bolt Motors"]
    assert [c["name"] for c in sam.get(f"/api/v1/organizations/{seller.id}/customers?q=BOLT").json()] == ["Bolt Motors"]
    # a customer never has customers; a direct organization's administrator cannot make itself a seller
    nested = ops.post(f"/api/v1/organizations/{world['acme']['id']}/customers", json={"name": "Sub"})
    assert (nested.status_code, nested.json()["error"]["code"]) == (409, "customer_of_customer")
    direct = tenancy.create_organization(ctx, operator, "Plain Org")
    plain = tenancy.create_workspace(ctx, operator, direct.id, "Plain")
    person(ctx, operator, plain, "pat@plain.example")
    organization_roles.grant(ctx, operator, direct.id, "system_admin", email="pat@plain.example")
    refused = session(ctx, "pat@plain.example").post(f"/api/v1/organizations/{direct.id}/customers", json={"name": "X"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_a_seller")
    # names: required, bounded, no NULs, unique among the seller's customers
    for bad in ("", "x" * 201, "bad\x00name"):
        assert sam.post(f"/api/v1/organizations/{seller.id}/customers", json={"name": bad}).status_code == 422
    twin = sam.post(f"/api/v1/organizations/{seller.id}/customers", json={"name": "acme foods"})
    assert (twin.status_code, twin.json()["error"]["code"]) == (409, "customer_exists")
    assert sam.get(f"/api/v1/organizations/{seller.id}/customers?q=" + "x" * 101).status_code == 422
    # another seller's customers are not found
    assert sam.get(f"/api/v1/organizations/{world['rival'].id}/customers").status_code == 404


def test_the_invitation_targets_are_the_seller_and_its_customers_searchable_with_their_providers(
    ctx: Context, operator: Actor, world: dict[str, Any]
) -> None:
    seller, sam = world["seller"], world["sam"]
    everything = sam.get(f"/api/v1/organizations/{seller.id}/invitation-targets").json()
    assert [(t["name"], t["kind"]) for t in everything] == [
        ("Northwind Cloud", "seller"),
        ("Acme Foods", "customer"),
        ("Bolt Motors", "customer"),
    ]
    with mock_provider() as issuer:
        provider = identity_providers.create(
            ctx, operator, world["acme"]["id"], ProviderInput("Acme Entra", issuer, "admit", "secret")
        )
    tenancy.update_workspace(ctx, operator, world["acme_ws"].id, {"login_methods": ["password", f"sso:{provider.id}"]})
    [acme] = sam.get(f"/api/v1/organizations/{seller.id}/invitation-targets?q=acme").json()
    assert acme["organization_id"] == world["acme"]["id"]
    [kitchen] = acme["workspaces"]
    assert kitchen["name"] == "Acme Kitchen"
    assert kitchen["identity_providers"] == [
        {"id": "password", "name": "password"},
        {"id": provider.id, "name": "Acme Entra"},
    ]
    assert sam.get(f"/api/v1/organizations/{seller.id}/invitation-targets?q=nothing-like-it").json() == []


def test_a_seller_administrator_holds_the_delegated_admin_role_in_customers_only(
    ctx: Context, operator: Actor, world: dict[str, Any]
) -> None:
    seller, sam, acme, acme_ws = world["seller"], world["sam"], world["acme"]["id"], world["acme_ws"]
    made = invite(sam, seller.id, acme, acme_ws, "ada@acme.example", role="admin")
    assert made.status_code == 201, made.text
    assert (made.json()["organization_id"], made.json()["role"]) == (acme, "admin")
    over = invite(sam, seller.id, acme, acme_ws, "olga@acme.example", role="owner")
    assert over.status_code == 403  # the delegated role is admin: never owner in a customer
    own = invite(sam, seller.id, seller.id, world["hq"], "otto@northwind.example", role="owner")
    assert own.status_code == 201  # in the seller's own workspaces a system administrator is owner
    # the directory and management of a customer's members
    person(ctx, operator, acme_ws, "cleo@acme.example")
    listed = sam.get(f"/api/v1/workspaces/{acme_ws.id}/members").json()
    cleo = next(m for m in listed["items"] if m["email"] == "cleo@acme.example")
    suspended = sam.post(f"/api/v1/members/{cleo['id']}/suspend")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    # another seller's customer, and its workspaces, are not found
    assert (
        invite(sam, seller.id, world["rival_ws"].organization_id, world["rival_ws"], "x@rival.example").status_code
        == 404
    )
    assert sam.get(f"/api/v1/workspaces/{world['rival_ws'].id}/members").status_code == 404
    # a workspace of another organization named with a customer's id is not found either
    assert invite(sam, seller.id, acme, world["bolt_ws"], "x@bolt.example").status_code == 404
    # the customer's own organization settings stay the customer's
    assert sam.get(f"/api/v1/organizations/{acme}/administrators").status_code == 404
    # a member of the seller who is not its system administrator gets nothing in customers
    person(ctx, operator, world["hq"], "max@northwind.example", role="admin")
    max_api = session(ctx, "max@northwind.example")
    assert max_api.get(f"/api/v1/workspaces/{acme_ws.id}/members").status_code == 404
    assert invite(max_api, seller.id, acme, acme_ws, "y@acme.example").status_code == 403


def test_an_invitation_from_the_seller_is_valid_seven_days_whatever_the_workspace_says(
    ctx: Context, clock: FixedClock, world: dict[str, Any]
) -> None:
    made = invite(world["sam"], world["seller"].id, world["acme"]["id"], world["acme_ws"], "ida@acme.example")
    assert made.status_code == 201
    assert made.json()["expires_at"].startswith((clock.now() + timedelta(days=7)).isoformat()[:19])
    clock.advance(days=7, seconds=1)
    late = client(ctx).post(
        "/api/v1/invitations/accept", json={"token": token_for(ctx, "ida@acme.example"), "password": PASSWORD}
    )
    assert late.status_code == 410


def test_the_invitee_joins_under_the_target_workspaces_password_policy_and_terms(
    ctx: Context, operator: Actor, world: dict[str, Any]
) -> None:
    acme_ws = world["acme_ws"]
    admin_terms.publish(ctx, operator, acme_ws.id, filename="terms.txt", document=b"Acme terms")
    invite(world["sam"], world["seller"].id, world["acme"]["id"], acme_ws, "ivy@acme.example", first_name="Ivy",
           last_name="Lo")  # fmt: skip
    token = token_for(ctx, "ivy@acme.example")
    weak = client(ctx).post("/api/v1/invitations/accept", json={"token": token, "password": "Short-pass1"})
    assert weak.status_code == 422  # Acme Kitchen asks for 15 characters; the seller's own policy is not used
    joined = client(ctx).post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 200, joined.text
    due = acceptance.to_accept(ctx, joined.json()["account_id"], acme_ws.id)
    assert due is not None and due["workspace_name"] == "Acme Kitchen"  # its terms come before entry


def test_the_chosen_identity_provider_is_the_only_way_in(ctx: Context, operator: Actor, world: dict[str, Any]) -> None:
    seller, sam, acme, acme_ws = world["seller"], world["sam"], world["acme"]["id"], world["acme_ws"]
    with mock_provider() as issuer:
        provider = identity_providers.create(ctx, operator, acme, ProviderInput("Acme Entra", issuer, "admit", "s"))
        rival_provider = identity_providers.create(
            ctx, operator, world["rival_ws"].organization_id, ProviderInput("Rival IdP", issuer, "rival", "s")
        )
    # the workspace does not allow the provider yet: refused, as is another organization's provider
    assert invite(sam, seller.id, acme, acme_ws, "a@acme.example", identity_provider=provider.id).status_code == 422
    tenancy.update_workspace(ctx, operator, acme_ws.id, {"login_methods": ["password", f"sso:{provider.id}"]})
    wrong = invite(sam, seller.id, acme, acme_ws, "a@acme.example", identity_provider=rival_provider.id)
    assert (wrong.status_code, wrong.json()["error"]["field"]) == (422, "identity_provider")
    made = invite(sam, seller.id, acme, acme_ws, "sso@acme.example", identity_provider=provider.id, role="member")
    assert made.status_code == 201, made.text
    token = token_for(ctx, "sso@acme.example")
    facts = claims.inspect_token(ctx, token)
    assert facts["mode"] == "sso" and [p["id"] for p in facts["login"]["providers"]] == [provider.id]
    refused = client(ctx).post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "sso_required")
    # and "password" keeps SSO accounts out of a password invitation
    made = invite(sam, seller.id, acme, acme_ws, "pw@acme.example", identity_provider="password")
    assert made.status_code == 201
    assert claims.inspect_token(ctx, token_for(ctx, "pw@acme.example"))["login"]["providers"] == []


def test_a_customer_never_sees_its_seller_or_other_customers(
    ctx: Context, operator: Actor, world: dict[str, Any]
) -> None:
    seller, acme = world["seller"], world["acme"]["id"]
    person(ctx, operator, world["acme_ws"], "boss@acme.example", role="owner")
    organization_roles.grant(ctx, operator, acme, "system_admin", email="boss@acme.example")
    boss = session(ctx, "boss@acme.example")
    token = client(ctx, api_token(ctx, acme, role="owner"))
    for api in (boss, token):
        assert api.get(f"/api/v1/organizations/{seller.id}/customers").status_code == 404
        assert api.get(f"/api/v1/organizations/{seller.id}/invitation-targets").status_code == 404
        assert invite(api, seller.id, acme, world["acme_ws"], "z@acme.example").status_code == 404
        assert api.get(f"/api/v1/workspaces/{world['hq'].id}/members").status_code == 404
        assert api.get(f"/api/v1/workspaces/{world['bolt_ws'].id}/members").status_code == 404
    assert [o["id"] for o in token.get("/api/v1/organizations").json()] == [acme]

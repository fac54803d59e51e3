"""Issue 17 (sellers): a customer organization never sees its seller or its sibling customers.
Every API route that takes an id answers the customer's owner token 404 for the seller's ids and
for a sibling customer's, its SCIM token too, and their data stays as it was; its organization
list holds itself alone. The seller's side (its system administrator's delegated admin role in
customers) is tested in tests/integration/test_seller_customers.py. Runs on both databases."""

from __future__ import annotations

import re
from typing import Any

from support.api import api_token, client
from test_tenant_isolation import BODY, PUBLIC_DOORS, _required_query, _snapshot, _tenant

from admit.admin import scim_tokens, tenancy
from admit.shared.context import Actor, Context


def _family(ctx: Context, operator: Actor) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """A seller with two customers, each a fully populated tenant."""
    seller, acme, bolt = (_tenant(ctx, operator, name) for name in ("seller", "acme", "bolt"))
    with ctx.uow(write=True) as uow:
        uow.org_controls.update(seller["organization_id"], kind="seller")
        for customer in (acme, bolt):
            uow.org_controls.update(customer["organization_id"], kind="customer", parent_id=seller["organization_id"])
        uow.commit()
    return seller, acme, bolt


def _routes(api: Any) -> list[tuple[str, str, dict[str, str]]]:
    document = api.get("/api/v1/openapi.json").json()
    return [
        (path, method.upper(), _required_query(operation))
        for path, ops in document["paths"].items()
        if "{" in path and not path.startswith(PUBLIC_DOORS) and not path.startswith("/api/v1/me/")
        for method, operation in ops.items()
    ]


def test_a_customers_token_gets_404_for_its_sellers_and_siblings_objects(ctx: Context, operator: Actor) -> None:
    seller, acme, bolt = _family(ctx, operator)
    before = [_snapshot(ctx, operator, other) for other in (seller, bolt)]
    api = client(ctx, api_token(ctx, acme["organization_id"], role="owner"))
    routes = _routes(api)
    assert ("/api/v1/organizations/{organization_id}/customers", "GET", {}) in routes
    assert any(path.endswith("/seller-invitations") for path, _, _ in routes)
    checked = 0
    for other in (seller, bolt):
        for template, method, query in routes:
            path = re.sub(r"\{(\w+)\}", lambda m, ids=other: ids[m.group(1)], template)
            body = {**BODY, "organization_id": acme["organization_id"], "workspace_id": acme["workspace_id"]}
            response = api.request(method, path, params=query, json=body if method in ("POST", "PATCH") else None)
            assert response.status_code == 404, (method, template, response.text)
            checked += 1
    assert checked >= 60
    assert [_snapshot(ctx, operator, other) for other in (seller, bolt)] == before
    assert [o["id"] for o in api.get("/api/v1/organizations").json()] == [acme["organization_id"]]
    assert tenancy.get_organization(ctx, operator, acme["organization_id"]).parent_id == seller["organization_id"]


def test_a_customers_scim_token_gets_404_for_its_sellers_and_siblings_people(ctx: Context, operator: Actor) -> None:
    seller, acme, bolt = _family(ctx, operator)
    _, secret = scim_tokens.create(ctx, operator, acme["organization_id"], name="acme everywhere", role="admin")
    idp = client(ctx, secret)
    for other in (seller, bolt):
        assert idp.get(f"/scim/v2/Users/{other['active_member_id']}").status_code == 404
        assert idp.get(f"/scim/v2/Groups/{other['group_id']}").status_code == 404
        listed = idp.get("/scim/v2/Users", params={"filter": f'userName eq "active@{other["organization_id"]}"'})
        assert listed.json()["totalResults"] == 0
    everyone = idp.get("/scim/v2/Users").json()
    assert {r["userName"].split("@")[1] for r in everyone["Resources"]} <= {"acme.example.com"}
